"""One long-lived process per Spark test warehouse: `python spark_worker.py ROOT`.

The embedded Derby catalog admits one process at a time, and a SparkSession (a JVM) lasts
as long as its process. Starting both costs about 7 s, and a dbt command another few
seconds of imports, so a warehouse's Spark work all goes through one process that keeps
its session: dbt commands run in it (dbt's programmatic runner, the same CLI arguments),
and so do demo data, statements and reads.

Protocol: the test writes a request to ROOT/spark_request.pkl and a line to stdin; the
worker writes ROOT/spark_result.pkl and answers "done" on its own channel (the stdout it
started with; everything else the process prints, the JVM's logs included, goes to
ROOT/spark_worker.log). Requests: {"dbt": [args], "env": {...}} or {"profiles_dir",
"target", "generate", "statements", "queries"}; results: {"returncode", "stdout"} or
{"counts", "rows"}, or {"error": traceback}.
"""

from __future__ import annotations

import os
import pickle
import sys
import traceback
from pathlib import Path
from typing import Any

from demo_data import generate
from reporter.warehouse import PROJECT_DIR, connect, fetch_all, load_config


def run_dbt(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """A dbt command in this process: its exit code as the CLI's, and its log lines."""
    from dbt.cli.main import dbtRunner

    os.environ.update(env)
    lines: list[str] = []

    def keep(event: Any) -> None:
        if event.info.level in ("info", "warn", "error") and event.info.msg:
            lines.append(str(event.info.msg))

    result = dbtRunner(callbacks=[keep]).invoke([*args, "--project-dir", str(PROJECT_DIR)])
    if result.exception is not None:
        lines.append(f"{type(result.exception).__name__}: {result.exception}")
    returncode = 0 if result.success else (2 if result.exception is not None else 1)
    return {"returncode": returncode, "stdout": "\n".join(lines)}


def warehouse_work(request: dict[str, Any]) -> dict[str, Any]:
    config = load_config(request["target"], request["profiles_dir"])
    result: dict[str, Any] = {"counts": None, "rows": []}
    if request.get("generate"):
        spec, schema = request["generate"]
        result["counts"] = generate(config, spec, schema)
    if request.get("statements"):
        with connect(config, read_only=False) as conn:
            cursor = conn.cursor()
            for statement in request["statements"]:
                cursor.execute(statement)
    result["rows"] = [fetch_all(config, sql) for sql in request.get("queries", [])]
    return result


def serve(root: Path) -> int:
    channel = os.fdopen(os.dup(1), "w")
    log = os.open(root / "spark_worker.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(log, 1)
    os.dup2(log, 2)
    for _ in sys.stdin:
        request = pickle.loads((root / "spark_request.pkl").read_bytes())
        try:
            if "dbt" in request:
                result = run_dbt(request["dbt"], request["env"])
            else:
                result = warehouse_work(request)
        except Exception:  # noqa: BLE001 - the test shows it and fails
            result = {"error": traceback.format_exc()}
        (root / "spark_result.pkl").write_bytes(pickle.dumps(result))
        channel.write("done\n")
        channel.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(serve(Path(sys.argv[1])))
