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
# The data tests run on the incremental build; the other two builds only need the models.
BUILD_WITHOUT_TESTS = ("build", "--resource-type", "model", "--resource-type", "seed")
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
        # Users who change their mind: a new reaction to the same message an hour later.
        f"insert into {raw}.feedback_log "
        "select feedback_id || 'x', conversation_id, message_id, "
        "created_at + interval '1' hour, "
        "case when feedback = 'like' then 'dislike' else 'like' end, user_id "
        f"from {full}.feedback_log "
        f"where created_at >= {copied_day} and created_at < {next_day} "
        "and feedback_id like '%1'",
    )


def rows(warehouse, mart: str) -> list[tuple]:
    def key(row: tuple) -> tuple:
        return tuple((value is None, str(value)) for value in row)

    return sorted((tuple(row.values()) for row in warehouse.mart(mart)), key=key)


def same_value(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    return a == b


def assert_same_rows(actual: list[tuple], expected: list[tuple], mart: str) -> None:
    assert len(actual) == len(expected), f"{mart}: {len(actual)} rows != {len(expected)}"
    for got, want in zip(actual, expected, strict=True):
        assert len(got) == len(want) and all(
            same_value(a, b) for a, b in zip(got, want, strict=True)
        ), f"{mart}: incremental {got} != full refresh {want}"


def ran_incrementally(warehouse, model: str) -> bool:
    """dbt's compiled run SQL of the last run: an incremental replace, not a rebuild."""
    [path] = Path(warehouse.root, "target", "run").rglob(f"{model}.sql")
    sql = path.read_text().lower()
    return "delete from" in sql or "insert overwrite" in sql


def test_an_incremental_run_equals_a_full_refresh(make_warehouse, engine):
    warehouse = make_warehouse(engine, as_of_date=END.isoformat(), lookback_days=3)
    load_history(warehouse)
    warehouse.dbt(*BUILD_WITHOUT_TESTS)
    before = {mart: rows(warehouse, mart) for mart in MARTS}

    deliver_the_next_day(warehouse)
    warehouse.dbt("build")
    for model in ("int_evaluations_ranked", "int_feedback_reactions_ranked", "daily_scores"):
        assert ran_incrementally(warehouse, model), model
    incremental = {mart: rows(warehouse, mart) for mart in MARTS}

    warehouse.dbt(*BUILD_WITHOUT_TESTS, "--full-refresh")
    assert not ran_incrementally(warehouse, "daily_scores")
    for mart in MARTS:
        assert_same_rows(incremental[mart], rows(warehouse, mart), mart)

    # The delivery mattered: old days inside the window changed, and new days arrived.
    def days(mart_rows: list[tuple]) -> dict:
        return {row[0]: row for row in mart_rows}

    old, new = days(before["daily_scores"]), days(incremental["daily_scores"])
    late_day = END - dt.timedelta(days=3)
    assert old[late_day] != new[late_day]
    assert END in new and END not in old
    old_feedback, new_feedback = days(before["daily_feedback"]), days(incremental["daily_feedback"])
    assert old_feedback[late_day] != new_feedback[late_day]
