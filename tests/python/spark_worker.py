"""Run Spark work for a test in a process of its own: `python spark_worker.py REQUEST RESULT`.

The embedded Derby catalog admits one process at a time, and a SparkSession lasts as long
as its process, so the tests never open Spark themselves: each batch of work (generate
demo data, run statements, read tables) is one short process, like each dbt command.
REQUEST and RESULT are pickle files: {"profiles_dir", "target", "generate", "statements",
"queries"} in, {"counts", "rows"} out.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from demo_data import generate
from reporter.warehouse import connect, fetch_all, load_config


def main(request_path: str, result_path: str) -> int:
    request = pickle.loads(Path(request_path).read_bytes())
    config = load_config(request["target"], request["profiles_dir"])
    result: dict = {"counts": None, "rows": []}
    if request.get("generate"):
        spec, schema = request["generate"]
        result["counts"] = generate(config, spec, schema)
    if request.get("statements"):
        with connect(config, read_only=False) as conn:
            cursor = conn.cursor()
            for statement in request["statements"]:
                cursor.execute(statement)
    result["rows"] = [fetch_all(config, sql) for sql in request.get("queries", [])]
    Path(result_path).write_bytes(pickle.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:3]))
