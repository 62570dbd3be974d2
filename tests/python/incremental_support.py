"""What the incremental tests share: raw rows in, the daily job, and the comparison with a
full refresh of every incremental model and every mart of the daily job."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import yaml
from warehouses import RAW_DDL

from reporter.warehouse import PROJECT_DIR

# The daily job: everything but the tuning datasets (rebuilt weekly by `reporter run`), run
# with TestWarehouse.build (the unit tests do not depend on the data).
DAILY_JOB = ("--exclude", "tag:tuning")
# The same models with only the invariants that a changed arrival order could break: the
# raw-row balance and the other singular tests, and every key's uniqueness. A build selects
# every test of a selected model (dbt's eager indirect selection): `empty` keeps to the
# tests selected here, and the tuning marts' own tests go with them (`tag:tuning+`).
DAILY_JOB_KEY_TESTS = (
    "--select",
    "resource_type:model",
    "resource_type:seed",
    "test_type:singular",
    "test_name:unique",
    "test_name:unique_combination_of_columns",
    "--exclude",
    "tag:tuning+",
    "--indirect-selection",
    "empty",
)
FULL_REFRESH = ("run", "--full-refresh", "--exclude", "tag:tuning")
# The incremental tests read the warehouse, not dbt's artifacts: no manifest.json and
# run_results.json after each command (dbt writes the manifest twice a command, about half a
# second of the worker's time on this project).
NO_ARTIFACTS = ("--no-write-json",)

INCREMENTAL_MODELS = {
    "int_evaluations_ranked": "intermediate",
    "int_feedback_reactions_ranked": "intermediate",
    "int_rejected_rows": "intermediate",
    "int_evaluations_aggregated_daily": "intermediate",
    "int_reactions_aggregated_daily": "intermediate",
    "int_quarantine_aggregated_daily": "intermediate",
    "int_segments_aggregated_daily": "intermediate",
    "int_messages_scored": "intermediate",
    "quarantined_rows": "",
    "data_quality_daily": "",
}


def _tagged_tuning(model_yml: Path) -> bool:
    """The mart's YAML tags it `tuning`: rebuilt weekly by `reporter run`, not daily."""
    models = yaml.safe_load(model_yml.read_text()).get("models", [])
    return any("tuning" in (model.get("config") or {}).get("tags", []) for model in models)


TUNING_MARTS = {
    path.stem for path in (PROJECT_DIR / "models" / "marts").glob("*.yml") if _tagged_tuning(path)
}
MARTS = sorted(
    path.stem
    for path in (PROJECT_DIR / "models" / "marts").glob("*.sql")
    if path.stem not in TUNING_MARTS
)
RAW_COLUMNS = {
    table: [column.split()[0] for column in ddl.split(", ")] for table, ddl in RAW_DDL.items()
}


def relation(warehouse, model: str) -> str:
    layer = INCREMENTAL_MODELS.get(model, "")
    return f"{warehouse.schema}_{layer}.{model}" if layer else f"{warehouse.schema}.{model}"


def create_raw_tables(warehouse, with_loaded_at: bool) -> None:
    """The raw contract's tables, empty; with the optional loaded_at column or without."""
    statements = [f"create schema if not exists {warehouse.raw_schema}"]
    for table, ddl in RAW_DDL.items():
        columns = ddl + (", loaded_at timestamp" if with_loaded_at else "")
        statements.append(f"drop table if exists {warehouse.raw_schema}.{table}")
        statements.append(f"create table {warehouse.raw_schema}.{table} ({columns})")
    warehouse.execute(*statements)


def literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dt.datetime):
        return f"cast('{value.isoformat(sep=' ')}' as timestamp)"
    if isinstance(value, float | int):
        return repr(float(value))
    return "'" + str(value).replace("'", "''") + "'"


def insert_rows(
    warehouse, table: str, rows: list[dict] | tuple[dict, ...], loaded_at: dt.datetime | None
) -> None:
    """Append rows to a raw table, stamped with loaded_at when it is given."""
    if not rows:
        return
    columns = RAW_COLUMNS[table] + (["loaded_at"] if loaded_at else [])
    values = [
        "(" + ", ".join(literal(row[c] if c != "loaded_at" else loaded_at) for c in columns) + ")"
        for row in rows
    ]
    warehouse.execute(
        f"insert into {warehouse.raw_schema}.{table} ({', '.join(columns)}) "
        f"values {', '.join(values)}"
    )


def reset(warehouse) -> None:
    """Drop what dbt built from the data (the seeds stay) and the raw tables."""
    schemas = [warehouse.schema, f"{warehouse.schema}_staging", f"{warehouse.schema}_intermediate"]
    warehouse.execute(
        *[f"drop schema if exists {schema} cascade" for schema in [*schemas, warehouse.raw_schema]]
    )


def daily_job(warehouse, every_test: bool = True) -> None:
    """The daily job, data tests included: it must pass whatever arrived."""
    warehouse.build(*(DAILY_JOB if every_test else DAILY_JOB_KEY_TESTS), *NO_ARTIFACTS)


def full_refresh(warehouse) -> None:
    warehouse.dbt(*FULL_REFRESH, *NO_ARTIFACTS)


def snapshot(warehouse) -> dict[str, list[dict]]:
    """Every incremental model's and daily mart's rows, in a stable order."""

    def key(row: dict) -> tuple:
        return tuple((row[column] is None, str(row[column])) for column in sorted(row))

    names = sorted({*INCREMENTAL_MODELS, *MARTS})
    tables = warehouse.query_many([f"select * from {relation(warehouse, n)}" for n in names])
    return {name: sorted(table, key=key) for name, table in zip(names, tables, strict=True)}


def same_value(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    return a == b


def assert_same_tables(incremental: dict, full: dict) -> None:
    """Each table equal row for row, whatever the engine's column order."""
    for name, want in full.items():
        got = incremental[name]
        assert len(got) == len(want), f"{name}: {len(got)} rows incremental, {len(want)} full"
        for got_row, want_row in zip(got, want, strict=True):
            assert got_row.keys() == want_row.keys() and all(
                same_value(got_row[c], want_row[c]) for c in want_row
            ), f"{name}: incremental {got_row} != full refresh {want_row}"
