"""One long-lived process per test warehouse: `python dbt_worker.py ROOT`.

A dbt command in a new process spends seconds before any SQL: Python imports dbt and its
adapter (about 2 s on the project's machine), then dbt reads its saved parse of the project
and checks every file against it. A warehouse's dbt commands therefore all run in one
process of its own, kept for the warehouse's lifetime, through dbt's programmatic runner
with the same arguments as the CLI: the imports happen once, and so does the reading of
the saved parse. On Spark the process also holds the SparkSession: the embedded Derby
catalog admits one process at a time, and a JVM starts once per test process (every Spark
warehouse of it shares this process), not once per command; demo data, statements and
reads of a Spark warehouse run there too.

After each command the process lets go of the warehouse (dbt-duckdb keeps its DuckDB
database open between commands of one process), so the tests, the reporter and the
dashboard can open the DuckDB file as a user's would.

Protocol: the test writes a request to ROOT/worker_request.pkl and a line to stdin; the
worker writes ROOT/worker_result.pkl and answers "done" on its own channel (the stdout it
started with; everything else the process prints, dbt's console and the JVM's logs
included, goes to ROOT/worker.log). Requests: {"dbt": [args], "env": {...}} or
{"profiles_dir", "target", "generate", "statements", "queries"}; results: {"returncode",
"stdout"} or {"counts", "rows"}, or {"error": traceback}.
"""

from __future__ import annotations

import gc
import os
import pickle
import sys
import traceback
from pathlib import Path
from typing import Any

from demo_data import generate
from reporter.warehouse import connect, fetch_all, load_config


def run_dbt(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """A dbt command in this process: its exit code as the CLI's, and its log lines."""
    from dbt.cli.main import dbtRunner

    os.environ.update(env)
    lines: list[str] = []

    def keep(event: Any) -> None:
        if event.info.level in ("info", "warn", "error") and event.info.msg:
            lines.append(str(event.info.msg))

    try:
        result = dbtRunner(callbacks=[keep]).invoke(args)
    finally:
        release_duckdb()
    if result.exception is not None:
        lines.append(f"{type(result.exception).__name__}: {result.exception}")
    returncode = 0 if result.success else (2 if result.exception is not None else 1)
    return {"returncode": returncode, "stdout": "\n".join(lines)}


def release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open for the next command of the process:
    until then no other process could open the file, nor this one with other settings."""
    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    manager = getattr(connections, "DuckDBConnectionManager", None)
    if manager is None or manager._ENV is None:
        return
    manager._ENV.close()
    manager._ENV = None
    gc.collect()


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
    log = os.open(root / "worker.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(log, 1)
    os.dup2(log, 2)
    for _ in sys.stdin:
        request = pickle.loads((root / "worker_request.pkl").read_bytes())
        try:
            if "dbt" in request:
                result = run_dbt(request["dbt"], request["env"])
            else:
                result = warehouse_work(request)
        except Exception:  # noqa: BLE001 - the test shows it and fails
            result = {"error": traceback.format_exc()}
        (root / "worker_result.pkl").write_bytes(pickle.dumps(result))
        channel.write("done\n")
        channel.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(serve(Path(sys.argv[1])))
