"""The benchmark behind `make bench` and docs/performance.md.

For each engine and size: generate demo raw data (as many feedback rows as evaluations,
about 50,000 evaluations a day, so a bigger size means a longer history, not bigger days),
hold back the last day, then measure in one run:

- `dbt build`; the models weekly_performance depends on, rebuilt one at a time; then
  `dbt run --full-refresh`: wall time (dbt start-up included), the peak memory of the
  full refresh, and the model times from run_results.json (all models, and the daily
  job's: all but the tuning datasets);
- a realistic day delivered, then the daily job `dbt run --exclude tag:tuning`: the
  held-back day, about 1% of a day's rows arriving late by up to 30 days, about 1% of a
  day's reactions changed (users who change their mind on reactions up to 30 days old),
  and a replay of a few old evaluations (0.1% of a day), all stamped with the new load's
  loaded_at;
- bench/floor_weekly.sql: the same weekly figures straight from raw, hand-written;
- on DuckDB, the week-13 pandas approach (bench/pandas_baseline.py) and the peak memory
  of it and of `python -m reporter preview`.

    python bench/run.py --sizes 1000000,10000000 --postgres-sizes 1000000,10000000 \
        --spark-sizes 1000000

Results go to bench-results/ (results.json, results.md); the table is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import pickle
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from demo_data import RAW_TABLES, DemoSpec, generate, upkeep  # noqa: E402
from reporter.warehouse import connect, load_config  # noqa: E402

BIN = Path(sys.executable).parent
SCHEMA, RAW, FULL = "bench", "bench_raw", "bench_raw_full"
MESSAGES_PER_DAY = 57_700  # about 50,000 evaluations and 50,000 reactions a day
EVALUATIONS_PER_MESSAGE = 0.85 * 1.02  # the generator's share evaluated, with copies
FEEDBACK_SHARE = 0.82  # reactions (with changed minds and copies) about equal evaluations
END = dt.date(2026, 3, 2)  # a Monday: the held-back day starts a week
# The daily job: every model but the tuning datasets, which are built when exported.
DAILY_JOB = ("--exclude", "tag:tuning")


@dataclass
class Result:
    engine: str
    evaluations: int = 0
    feedback_rows: int = 0
    days: int = 0
    build_s: float = math.nan
    full_refresh_s: float = math.nan
    full_models_weekly_s: float = math.nan
    full_models_all_s: float = math.nan
    full_models_daily_job_s: float = math.nan
    incremental_s: float = math.nan
    incremental_models_weekly_s: float = math.nan
    incremental_models_daily_job_s: float = math.nan
    floor_s: float = math.nan
    full_refresh_peak_mb: float = math.nan
    pandas_s: float = math.nan
    pandas_peak_mb: float = math.nan
    preview_peak_mb: float = math.nan
    model_times: dict[str, float] = field(default_factory=dict)


def profile(engine: str, root: Path) -> dict[str, Any]:
    if engine == "duckdb":
        return {"type": "duckdb", "path": str(root / "warehouse.duckdb"), "schema": SCHEMA,
                "threads": 2, "settings": {"preserve_insertion_order": False}}  # fmt: skip
    if engine == "postgres":
        return {
            "type": "postgres",
            "host": os.environ.get("PGHOST", "127.0.0.1"),
            "port": int(os.environ.get("PGPORT", "5432")),
            "user": os.environ.get("PGUSER", "postgres"),
            "password": os.environ.get("PGPASSWORD", ""),
            "dbname": os.environ.get("PGDATABASE", "test"),
            "schema": SCHEMA,
            "threads": 2,
        }
    return {
        "type": "spark",
        "method": "session",
        "host": "NA",
        "schema": SCHEMA,
        "threads": 1,
        "server_side_parameters": {
            "spark.sql.warehouse.dir": str(root / "spark-warehouse"),
            "spark.sql.catalogImplementation": "hive",
            "spark.hadoop.javax.jdo.option.ConnectionURL": (
                f"jdbc:derby:;databaseName={root / 'metastore_db'};create=true"
            ),
            "spark.driver.extraJavaOptions": f"-Dderby.stream.error.file={root / 'derby.log'}",
            "spark.driver.memory": os.environ.get("SPARK_DRIVER_MEMORY", "6g"),
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.shuffle.partitions": "8",
        },
    }


def ts(day: dt.date) -> str:
    return f"cast('{day.isoformat()} 00:00:00' as timestamp)"


ID_COLUMN = {"conversation_log": "message_id", "conversation_evaluation": "evaluation_id",
             "feedback_log": "feedback_id"}  # fmt: skip


def arrives_late(table: str) -> str:
    """About 3 in 10,000 rows of the last 30 days (about 1% of a day): held back, then
    delivered with the new day."""
    recent = f"created_at >= {ts(END - dt.timedelta(days=30))} and created_at < {ts(END)}"
    ids = " or ".join(f"{ID_COLUMN[table]} like '%{tail}'" for tail in ("2170", "3170", "4170"))
    return f"({recent} and ({ids}))"


# What a delivery writes, besides loaded_at: the raw contract's columns, as generated.
DELIVERED_COLUMNS = {
    "conversation_log": "message_id, conversation_id, created_at, model_version, user_message, "
    "ai_response",
    "conversation_evaluation": "evaluation_id, conversation_id, message_id, created_at, score, "
    "accuracy, consistency, emotion_match, evaluator, model_version",
    "feedback_log": "feedback_id, conversation_id, message_id, created_at, feedback, user_id",
}
# When the realistic day lands: after the first load (the demo's clock, the end of the day
# before), as a loader's next sync would stamp it.
DELIVERED_AT = f"{ts(END)} + interval '1' day"


def delivered(table: str, select: str) -> str:
    """Rows of a `select` of the delivered columns, appended with the new load's loaded_at."""
    return f"insert into {RAW}.{table} ({DELIVERED_COLUMNS[table]}, loaded_at) {select}"


def realistic_day() -> list[str]:
    """The held-back day and its late rows, changed reactions and replayed copies, all
    stamped with the new load's loaded_at."""
    changed_minds = (
        "select feedback_id || 'c', conversation_id, message_id, "
        f"{ts(END)} + interval '1' hour, "
        "case when lower(feedback) like '%dis%' then 'like' else 'dislike' end, user_id, "
        f"{DELIVERED_AT} "
        f"from {FULL}.feedback_log where created_at >= {ts(END - dt.timedelta(days=30))} "
        "and created_at < "
        + ts(END)
        + " and ("
        + " or ".join(f"feedback_id like '%{tail}'" for tail in ("5310", "6310", "7310", "8310"))
        + ")"
    )
    return [
        *[delivered(t, f"select {DELIVERED_COLUMNS[t]}, {DELIVERED_AT} from {FULL}.{t} "
                       f"where coalesce(created_at >= {ts(END)}, false) or {arrives_late(t)}")
          for t in RAW_TABLES],
        delivered("feedback_log", changed_minds),
        delivered("conversation_evaluation",
                  f"select {DELIVERED_COLUMNS['conversation_evaluation']}, {DELIVERED_AT} "
                  f"from {FULL}.conversation_evaluation "
                  "where evaluation_id like '%99999' or evaluation_id like '%49999'"),
    ]  # fmt: skip


def worker(request: dict[str, Any]) -> dict[str, Any]:
    """Warehouse work: generate, run statements, time a query. In-process, or for Spark
    (one process at a time may hold its catalog) in a child process."""
    config = load_config(request["engine"], request["root"])
    result: dict[str, Any] = {}
    if request.get("spec"):
        result["counts"] = generate(config, request["spec"], FULL)
    with connect(config, read_only=False) as conn:
        cursor = conn.cursor()
        for statement in request.get("statements", []):
            cursor.execute(statement)
        if request.get("timed_query"):
            started = time.perf_counter()
            cursor.execute(request["timed_query"])
            rows = cursor.fetchall()
            result["seconds"] = time.perf_counter() - started
            result["rows"] = len(rows)
    if request.get("upkeep"):
        upkeep(config, request["upkeep"])
    return result


def warehouse(engine: str, root: Path, **request: Any) -> dict[str, Any]:
    request = {"engine": engine, "root": str(root), **request}
    if engine != "spark":
        return worker(request)
    path = root / "request.pkl"
    path.write_bytes(pickle.dumps(request))
    subprocess.run([sys.executable, __file__, "--worker", str(path)], check=True, cwd=root,
                   env={**os.environ, "TZ": "UTC"}, stdout=subprocess.DEVNULL)  # fmt: skip
    return pickle.loads(path.with_suffix(".out").read_bytes())


def dbt(root: Path, engine: str, *args: str) -> float:
    """Wall seconds of one dbt command."""
    return dbt_measured(root, engine, *args)[0]


def dbt_measured(root: Path, engine: str, *args: str) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one dbt command. DuckDB runs inside the
    dbt process; Spark's driver is a child of it (the larger of the two counts)."""
    env = {**os.environ, "DO_NOT_TRACK": "1", "DBT_TARGET_PATH": str(root / "target"),
           "DBT_LOG_PATH": str(root / "logs")}  # fmt: skip
    dbt_vars = json.dumps({"raw_schema": RAW, "as_of_date": END.isoformat()})
    command = [str(BIN / "dbt"), *args, "--profiles-dir", str(root), "--target", engine,
               "--vars", dbt_vars]  # fmt: skip
    seconds, peak_mb, _ = peak_rss(command, PROJECT_DIR, env, f"dbt {' '.join(args)} on {engine}")
    return seconds, peak_mb


def model_times(root: Path) -> tuple[dict[str, float], set[str]]:
    """Execution time of each model in the last dbt run, and weekly_performance's lineage."""
    results = json.loads((root / "target" / "run_results.json").read_text())
    times = {
        item["unique_id"].split(".")[-1]: item["execution_time"]
        for item in results["results"]
        if item["unique_id"].startswith("model.")
    }
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    lineage, todo = set(), ["model.ai_performance.weekly_performance"]
    while todo:
        node = todo.pop()
        if node.startswith("model.") and node.split(".")[-1] not in lineage:
            lineage.add(node.split(".")[-1])
            todo.extend(manifest["parent_map"].get(node, []))
    return times, lineage


def tagged(root: Path, tag: str) -> set[str]:
    """The models with a tag, from the manifest of the last dbt command."""
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    return {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and tag in node["tags"]
    }


# Runs a command; prints its stdout and peak resident memory (KB) as JSON. A tiny process
# of its own, because on Linux a child's ru_maxrss also counts the pages of the process it
# was forked from: measured from this one, which holds DuckDB's buffers, they would count.
MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
if done.returncode:
    sys.exit((done.stdout + done.stderr)[-4000:])
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"maxrss_kb": peak, "stdout": done.stdout}))
"""


def peak_rss(
    command: list[str], cwd: Path, env: dict[str, str] | None = None, what: str = ""
) -> tuple[float, float, str]:
    """Wall seconds, peak resident memory (MB) and stdout of one command."""
    started = time.perf_counter()
    launcher = subprocess.run([sys.executable, "-c", MEASURE, *command], cwd=cwd, env=env,
                              capture_output=True, text=True)  # fmt: skip
    if launcher.returncode != 0:
        raise SystemExit(f"{what or ' '.join(command)} failed:\n{launcher.stderr[-4000:]}")
    measured = json.loads(launcher.stdout)
    return time.perf_counter() - started, measured["maxrss_kb"] / 1024, measured["stdout"]


# Every schema a run writes on PostgreSQL: dropped before and after.
POSTGRES_SCHEMAS = (RAW, FULL, SCHEMA, *(f"{SCHEMA}_{x}" for x in
                    ("staging", "intermediate", "reference")))  # fmt: skip


def run_case(engine: str, size: int, out: Path) -> Result:
    root = out / f"{engine}_{size}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    outputs = {engine: profile(engine, root)}
    (root / "profiles.yml").write_text(
        json.dumps({"ai_performance": {"target": engine, "outputs": outputs}})
    )
    tag = f"[{engine} {size:,}]"
    result = Result(engine=engine)
    if engine == "postgres":
        drop_postgres_schemas(root)
    generate_held_back(engine, root, size, result, tag)
    time_full_refresh(engine, root, result, tag)
    time_realistic_day(engine, root, result, tag)
    if engine == "duckdb":
        measure_python(engine, root, result, tag)
    if engine == "postgres":
        drop_postgres_schemas(root)
    return result


def drop_postgres_schemas(root: Path) -> None:
    statements = [f"drop schema if exists {schema} cascade" for schema in POSTGRES_SCHEMAS]
    warehouse("postgres", root, statements=statements)


def generate_held_back(engine: str, root: Path, size: int, result: Result, tag: str) -> None:
    """Demo data of about `size` evaluations in FULL; RAW gets all but the held-back day
    and the rows that arrive late with it."""
    days = max(7, round(size / (MESSAGES_PER_DAY * EVALUATIONS_PER_MESSAGE)))
    weeks = math.ceil((days - 1) / 7) + 1  # whole weeks of history, then the held-back Monday
    spec = DemoSpec(weeks=weeks, rows_per_day=MESSAGES_PER_DAY, seed=1, end_date=END,
                    feedback_share=FEEDBACK_SHARE)  # fmt: skip
    held_back = [
        f"create schema if not exists {RAW}",
        *[f"drop table if exists {RAW}.{t}" for t in RAW_TABLES],
        *[f"create table {RAW}.{t} as select * from {FULL}.{t} "
          f"where not coalesce(created_at >= {ts(END)} or {arrives_late(t)}, false)"
          for t in RAW_TABLES],
    ]  # fmt: skip
    print(f"{tag} generating {spec.days} days", flush=True)
    # The raw tables as a production team keeps them (PostgreSQL: indexed, vacuumed).
    counts = warehouse(engine, root, spec=spec, statements=held_back, upkeep=RAW)["counts"]
    result.evaluations, result.feedback_rows = (
        counts["conversation_evaluation"],
        counts["feedback_log"],
    )
    result.days = spec.days


def time_full_refresh(engine: str, root: Path, result: Result, tag: str) -> None:
    """dbt build, the weekly path's models one at a time, then dbt run --full-refresh: the
    last, so that every model has processed the same state when the realistic day comes,
    as after any daily job (the ranked tables share their arrivals with the models that
    processed what they did)."""
    print(f"{tag} dbt build", flush=True)
    result.build_s = dbt(root, engine, "build")
    tuning = tagged(root, "tuning")
    # The weekly path on its own, one model at a time: each query already uses every core,
    # as the floor query does, so model times are not inflated by running side by side.
    print(f"{tag} dbt run --full-refresh of the weekly path", flush=True)
    dbt(root, engine, "run", "--full-refresh", "--select", "+weekly_performance", "--threads", "1")
    times, lineage = model_times(root)
    result.full_models_weekly_s = sum(t for m, t in times.items() if m in lineage)
    result.model_times = {f"weekly:{m}": t for m, t in times.items()}
    print(f"{tag} dbt run --full-refresh", flush=True)
    result.full_refresh_s, peak_mb = dbt_measured(root, engine, "run", "--full-refresh")
    # PostgreSQL works in its server's processes: the dbt client's peak says nothing.
    result.full_refresh_peak_mb = peak_mb if engine != "postgres" else math.nan
    times, _ = model_times(root)
    result.full_models_all_s = sum(times.values())
    result.full_models_daily_job_s = sum(t for m, t in times.items() if m not in tuning)
    result.model_times.update({f"full:{m}": t for m, t in times.items()})


def time_realistic_day(engine: str, root: Path, result: Result, tag: str) -> None:
    """The hand-written floor query, then a realistic day delivered and the daily job."""
    floor_sql = (
        (PROJECT_DIR / "bench" / "floor_weekly.sql")
        .read_text()
        .format(raw=RAW, reference=f"{SCHEMA}_reference")
    )
    if engine == "spark":
        floor_sql = floor_sql.replace("double precision", "double")
    print(f"{tag} floor query, then a realistic day", flush=True)
    floor = warehouse(engine, root, timed_query=floor_sql)
    result.floor_s = floor["seconds"]
    warehouse(engine, root, statements=realistic_day())
    print(f"{tag} dbt run {' '.join(DAILY_JOB)} (incremental)", flush=True)
    result.incremental_s = dbt(root, engine, "run", *DAILY_JOB)
    times, lineage = model_times(root)
    result.incremental_models_daily_job_s = sum(times.values())
    result.incremental_models_weekly_s = sum(t for m, t in times.items() if m in lineage)
    result.model_times.update({f"incremental:{m}": t for m, t in times.items()})


def measure_python(engine: str, root: Path, result: Result, tag: str) -> None:
    """The week-13 pandas baseline, and the peak memory of it and of `reporter preview`."""
    print(f"{tag} pandas baseline and reporter preview", flush=True)
    python = [sys.executable]
    _, result.pandas_peak_mb, pandas_out = peak_rss(
        [*python, str(PROJECT_DIR / "bench" / "pandas_baseline.py"),
         str(root / "warehouse.duckdb"), RAW], PROJECT_DIR)  # fmt: skip
    pandas = json.loads(pandas_out)
    if pandas["seconds"] is None:  # the raw rows would not fit in memory: not run
        print(f"{tag} pandas baseline not run: {pandas['skipped']}", flush=True)
        result.pandas_peak_mb = math.nan
    else:
        result.pandas_s = pandas["seconds"]
    _, result.preview_peak_mb, _ = peak_rss(
        [*python, "-m", "reporter", "preview", "--profiles-dir", str(root),
         "--target", engine, "--as-of", END.isoformat()], PROJECT_DIR)  # fmt: skip


def fmt(value: float, digits: int = 1) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def table(results: list[Result]) -> str:
    smallest = {}  # each engine's smallest case: what "flat as history grows" compares with
    for r in results:
        if r.engine not in smallest or r.evaluations < smallest[r.engine].evaluations:
            smallest[r.engine] = r
    lines = [
        "| engine | evaluations | feedback rows | days | dbt build s | full refresh s "
        "| full models s (all / daily job) | weekly path models s | floor query s "
        "| weekly path ÷ floor | incremental day s | incr. models s (daily job / weekly path) "
        "| incr. ÷ full (daily job models) | incr. ÷ full (wall) | incr. vs smallest "
        "| full refresh peak MB | pandas baseline s | full refresh ÷ pandas | pandas peak MB "
        "| preview peak MB |",
        "|" + " --- |" * 20,
    ]
    for r in results:
        flat = r.incremental_models_daily_job_s / smallest[r.engine].incremental_models_daily_job_s
        lines.append(
            f"| {r.engine} | {r.evaluations:,} | {r.feedback_rows:,} | {r.days} "
            f"| {fmt(r.build_s)} | {fmt(r.full_refresh_s)} "
            f"| {fmt(r.full_models_all_s)} / {fmt(r.full_models_daily_job_s)} "
            f"| {fmt(r.full_models_weekly_s)} | {fmt(r.floor_s)} "
            f"| {fmt(r.full_models_weekly_s / r.floor_s, 2)}× "
            f"| {fmt(r.incremental_s)} "
            f"| {fmt(r.incremental_models_daily_job_s)} / {fmt(r.incremental_models_weekly_s)} "
            f"| {fmt(100 * r.incremental_models_daily_job_s / r.full_models_daily_job_s, 0)}% "
            f"| {fmt(100 * r.incremental_s / r.full_refresh_s, 0)}% | {fmt(flat, 2)}× "
            f"| {fmt(r.full_refresh_peak_mb, 0)} "
            f"| {fmt(r.pandas_s)} | {fmt(r.full_refresh_s / r.pandas_s, 2)}× "
            f"| {fmt(r.pandas_peak_mb, 0)} | {fmt(r.preview_peak_mb, 0)} |"
        )
    return "\n".join(lines)


def sizes(engine: str, listed: str) -> list[tuple[str, int]]:
    """The cases of one engine from a comma-separated list of sizes ("" or "0": none)."""
    return [(engine, int(size)) for size in listed.split(",") if size.strip() and int(size)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "1000000,10000000"))
    parser.add_argument(
        "--postgres-sizes", default=os.environ.get("BENCH_POSTGRES_SIZES", "1000000,10000000")
    )
    parser.add_argument("--spark-sizes", default=os.environ.get("BENCH_SPARK_SIZES", "1000000"))
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "bench-results")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        path = Path(args.worker)
        path.with_suffix(".out").write_bytes(pickle.dumps(worker(pickle.loads(path.read_bytes()))))
        return 0
    cases = [*sizes("duckdb", args.sizes), *sizes("postgres", args.postgres_sizes)]
    if args.spark_sizes.strip():
        try:
            import pyspark  # noqa: F401

            cases.extend(sizes("spark", args.spark_sizes))
        except ImportError:
            print("Spark skipped: PySpark is not installed (pip install -e '.[spark]')")
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = []
    for engine, size in cases:
        results.append(run_case(engine, size, args.out))
        (args.out / "results.json").write_text(json.dumps([asdict(r) for r in results], indent=1))
    markdown = table(results)
    (args.out / "results.md").write_text(markdown + "\n")
    print(markdown)
    print(f"\nbenchmark took {time.perf_counter() - started:,.0f} s; results in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
