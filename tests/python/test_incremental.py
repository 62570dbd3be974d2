"""Incremental runs give the same marts as a full refresh, on every engine.

Build on history, then deliver what a real day brings: new days, rows that arrive late
for days inside the lookback window, at-least-once copies of rows already counted, a
corrected evaluation and users who change their reaction. An incremental `dbt build`
must then leave every mart exactly as `dbt build --full-refresh` makes it from the same
raw data.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from reporter.demo import RAW_TABLES, DemoSpec
from reporter.warehouse import PROJECT_DIR

END = dt.date(2026, 1, 14)  # the last day of the full data
FIRST_HELD_BACK_DAY = END - dt.timedelta(days=1)  # days from here on arrive later
LATE_FROM = END - dt.timedelta(days=4)  # some rows of these old days arrive late
MARTS = sorted(path.stem for path in (PROJECT_DIR / "models" / "marts").glob("*.sql"))
# The first and the full-refresh build need only the models; the data tests run on the
# incremental build (the unit tests do not depend on the data: the demo builds run them).
BUILD_WITHOUT_TESTS = ("build", "--resource-type", "model", "--resource-type", "seed")
BUILD_WITH_DATA_TESTS = (*BUILD_WITHOUT_TESTS, "--resource-type", "test")
INCREMENTAL_MODELS = (
    "int_evaluations_ranked",
    "int_feedback_reactions_ranked",
    "int_evaluations_aggregated_daily",
    "int_reactions_aggregated_daily",
    "int_quarantine_aggregated_daily",
    "int_segments_aggregated_daily",
    "daily_scores",
    "daily_feedback",
    "quarantined_rows",
    "data_quality_daily",
)
ID_COLUMN = {
    "conversation_log": "message_id",
    "conversation_evaluation": "evaluation_id",
    "feedback_log": "feedback_id",
}


def ts(day: dt.date) -> str:
    return f"cast('{day.isoformat()} 00:00:00' as timestamp)"


def arrives_later(table: str) -> str:
    """True for the rows held back from the first build: new days and late rows."""
    return (
        f"coalesce(created_at >= {ts(FIRST_HELD_BACK_DAY)} "
        f"or (created_at >= {ts(LATE_FROM)} and {ID_COLUMN[table]} like '%3'), false)"
    )


def load_history(warehouse) -> None:
    """Full demo data in a side schema; the raw tables get all but the later rows."""
    full = warehouse.raw_schema + "_full"
    warehouse.generate_raw(DemoSpec(weeks=3, rows_per_day=50, seed=5, end_date=END), full)
    warehouse.execute(
        f"create schema if not exists {warehouse.raw_schema}",
        *[
            f"create table {warehouse.raw_schema}.{table} as "
            f"select * from {full}.{table} where not {arrives_later(table)}"
            for table in RAW_TABLES
        ],
    )


def deliver_the_next_day(warehouse) -> None:
    raw, full = warehouse.raw_schema, warehouse.raw_schema + "_full"
    copied_day = ts(END - dt.timedelta(days=3))
    next_day = ts(END - dt.timedelta(days=2))
    warehouse.execute(
        *[
            f"insert into {raw}.{table} select * from {full}.{table} where {arrives_later(table)}"
            for table in RAW_TABLES
        ],
        # At-least-once delivery: copies of evaluations that were already counted.
        f"insert into {raw}.conversation_evaluation "
        f"select * from {full}.conversation_evaluation "
        f"where created_at >= {copied_day} and created_at < {next_day} "
        "and evaluation_id like '%7'",
        # A corrected evaluation: a later copy with another score replaces the first.
        f"insert into {raw}.conversation_evaluation "
        "select evaluation_id, conversation_id, message_id, created_at + interval '1' minute, "
        "10 - score, accuracy, consistency, emotion_match, evaluator, model_version "
        f"from {full}.conversation_evaluation "
        f"where created_at >= {copied_day} and created_at < {next_day} "
        "and evaluation_id like '%5' and score between 0 and 10",
        # A new rejected row without a timestamp: it has no day, and must be in
        # quarantined_rows once.
        f"insert into {raw}.conversation_evaluation "
        "select evaluation_id || 'n', conversation_id, message_id, cast(null as timestamp), "
        "score, accuracy, consistency, emotion_match, evaluator, model_version "
        f"from {full}.conversation_evaluation "
        f"where created_at >= {copied_day} and created_at < {next_day} "
        "and evaluation_id like '%1'",
        # Users who change their mind: a new reaction to the same message an hour later.
        f"insert into {raw}.feedback_log "
        "select feedback_id || 'x', conversation_id, message_id, "
        "created_at + interval '1' hour, "
        "case when feedback = 'like' then 'dislike' else 'like' end, user_id "
        f"from {full}.feedback_log "
        f"where created_at >= {copied_day} and created_at < {next_day} "
        "and feedback_id like '%1'",
    )


def snapshot(warehouse) -> dict[str, list[dict]]:
    """Every mart's rows in a stable order (Spark keeps partition columns last: use names)."""

    def key(row: dict) -> tuple:
        return tuple((row[column] is None, str(row[column])) for column in sorted(row))

    tables = warehouse.query_many([warehouse.mart_sql(mart) for mart in MARTS])
    return {mart: sorted(table, key=key) for mart, table in zip(MARTS, tables, strict=True)}


def same_value(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    return a == b


def assert_same_rows(actual: list[dict], expected: list[dict], mart: str) -> None:
    assert len(actual) == len(expected), f"{mart}: {len(actual)} rows != {len(expected)}"
    for got, want in zip(actual, expected, strict=True):
        assert got.keys() == want.keys() and all(
            same_value(got[column], want[column]) for column in want
        ), f"{mart}: incremental {got} != full refresh {want}"


def ran_incrementally(warehouse, model: str) -> bool:
    """dbt's compiled run SQL of the last run: an incremental replace, not a rebuild."""
    [path] = Path(warehouse.root, "target", "run").rglob(f"{model}.sql")
    sql = path.read_text().lower()
    return "delete from" in sql or "insert overwrite" in sql


def test_an_incremental_run_equals_a_full_refresh(make_warehouse, every_engine):
    warehouse = make_warehouse(every_engine, as_of_date=END.isoformat(), lookback_days=3)
    load_history(warehouse)
    warehouse.dbt(*BUILD_WITHOUT_TESTS)
    before = snapshot(warehouse)

    deliver_the_next_day(warehouse)
    warehouse.dbt(*BUILD_WITH_DATA_TESTS)
    for model in INCREMENTAL_MODELS:
        assert ran_incrementally(warehouse, model), model
    incremental = snapshot(warehouse)

    warehouse.dbt(*BUILD_WITHOUT_TESTS, "--full-refresh")
    assert not ran_incrementally(warehouse, "daily_scores")
    full_refresh = snapshot(warehouse)
    for mart in MARTS:
        assert_same_rows(incremental[mart], full_refresh[mart], mart)

    # The delivery mattered: old days inside the window changed, and new days arrived.
    late_day = END - dt.timedelta(days=3)
    for mart, day_column in (("daily_scores", "score_date"), ("daily_feedback", "feedback_date")):
        old = {row[day_column]: row for row in before[mart]}
        new = {row[day_column]: row for row in incremental[mart]}
        assert old[late_day] != new[late_day], mart
        assert END in new and END not in old, mart

    def undated(snap: dict[str, list[dict]]) -> int:
        return sum(row["occurred_date"] is None for row in snap["quarantined_rows"])

    assert undated(incremental) > undated(before) > 0
