"""An incremental run gives the same marts as a full refresh, on every engine.

Build on history, then deliver what real ingestion brings: new days; rows that arrive two
weeks late; at-least-once copies of evaluations counted two weeks ago; a corrected
evaluation; users who change their reaction 15 days later; rows dated in 1970 and in 2099;
a rejected row without a timestamp. The raw tables carry loaded_at. The daily job (data
tests included) must pass, and leave every incremental model and mart exactly as
`dbt build --full-refresh` makes them from the same raw data. (test_incremental_exact.py
tries random arrival orders on DuckDB and PostgreSQL; this fixed one runs on Spark too.)
"""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pytest
from incremental_support import (
    DAILY_JOB,
    INCREMENTAL_MODELS,
    assert_same_tables,
    daily_job,
    full_refresh,
    snapshot,
)

from demo_data import RAW_TABLES, DemoSpec

END = dt.date(2026, 1, 14)  # the last day of the full data
FIRST_HELD_BACK_DAY = END - dt.timedelta(days=1)  # days from here on arrive later
LATE_FROM = END - dt.timedelta(days=16)  # some rows of these old days arrive late
FIRST_LOAD = "cast('2026-01-14 02:00:00' as timestamp)"
SECOND_LOAD = "cast('2026-01-15 02:00:00' as timestamp)"
ID_COLUMN = {
    "conversation_log": "message_id",
    "conversation_evaluation": "evaluation_id",
    "feedback_log": "feedback_id",
}
COLUMNS = {
    "conversation_log": "message_id, conversation_id, created_at, model_version, "
    "user_message, ai_response",
    "conversation_evaluation": "evaluation_id, conversation_id, message_id, created_at, "
    "score, accuracy, consistency, emotion_match, evaluator, model_version",
    "feedback_log": "feedback_id, conversation_id, message_id, created_at, feedback, user_id",
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
            f"select {COLUMNS[table]}, {FIRST_LOAD} as loaded_at "
            f"from {full}.{table} where not {arrives_later(table)}"
            for table in RAW_TABLES
        ],
    )


def deliver_the_next_day(warehouse) -> None:
    raw, full = warehouse.raw_schema, warehouse.raw_schema + "_full"
    old_day, old_next = ts(END - dt.timedelta(days=16)), ts(END - dt.timedelta(days=15))
    # Four days, so that every engine's demo data has rows to copy whatever its hashes.
    old_days = f"created_at >= {old_day} and created_at < {ts(END - dt.timedelta(days=12))}"

    def insert(table: str, select: str) -> str:
        return f"insert into {raw}.{table} select {select}, {SECOND_LOAD} from {full}.{table} "

    evaluation = COLUMNS["conversation_evaluation"]
    warehouse.execute(
        *[insert(table, COLUMNS[table]) + f"where {arrives_later(table)}" for table in RAW_TABLES],
        # At-least-once delivery: copies of evaluations counted two weeks ago.
        insert("conversation_evaluation", evaluation)
        + f"where created_at >= {old_day} and created_at < {old_next} and evaluation_id like '%7'",
        # A corrected evaluation: a later copy with another score replaces the first.
        insert(
            "conversation_evaluation",
            "evaluation_id, conversation_id, message_id, created_at + interval '1' minute, "
            "10 - score, accuracy, consistency, emotion_match, evaluator, model_version",
        )
        + f"where created_at >= {old_day} and created_at < {old_next} "
        "and evaluation_id like '%5' and score between 0 and 10",
        # Impossible dates: quarantined, and they move no high-water mark.
        insert(
            "conversation_evaluation",
            "evaluation_id || 'f', conversation_id, message_id, "
            "cast('2099-01-01 00:00:00' as timestamp), score, accuracy, consistency, "
            "emotion_match, evaluator, model_version",
        )
        + f"where {old_days} and evaluation_id like '%2'",
        insert(
            "feedback_log",
            "feedback_id || 'e', conversation_id, message_id, "
            "cast('1970-01-01 00:00:00' as timestamp), feedback, user_id",
        )
        + f"where {old_days} and feedback_id like '%2'",
        # A new rejected row without a timestamp: it has no day, and must be in
        # quarantined_rows once.
        insert(
            "conversation_evaluation",
            "evaluation_id || 'n', conversation_id, message_id, cast(null as timestamp), "
            "score, accuracy, consistency, emotion_match, evaluator, model_version",
        )
        + f"where created_at >= {old_day} and created_at < {old_next} and evaluation_id like '%1'",
        # Users who change their mind 15 days later.
        insert(
            "feedback_log",
            "feedback_id || 'x', conversation_id, message_id, "
            "created_at + interval '15' day, "
            "case when feedback = 'like' then 'dislike' else 'like' end, user_id",
        )
        + f"where created_at >= {old_day} and created_at < {old_next} and feedback_id like '%1'",
    )


def ran_incrementally(warehouse, model: str) -> bool:
    """dbt's compiled run SQL of the last run: days added to the table, not a rebuild."""
    [path] = Path(warehouse.root, "target", "run").rglob(f"{model}.sql")
    targets = re.findall(r"insert\s+(?:into|overwrite)\s+(?:table\s+)?(\S+)", path.read_text())
    return any(target.strip('"`').endswith(model) for target in targets)


@pytest.mark.slow
def test_an_incremental_run_equals_a_full_refresh(make_warehouse, every_engine):
    warehouse = make_warehouse(every_engine, as_of_date=END.isoformat())
    load_history(warehouse)
    # The daily job's models (not the tuning marts, which it leaves out) and the seeds.
    warehouse.dbt("build", "--resource-type", "model", "--resource-type", "seed", *DAILY_JOB)
    before = snapshot(warehouse)

    deliver_the_next_day(warehouse)
    # Spark: the invariants an arrival order could break (the raw-row balance, every key's
    # uniqueness); each data test costs Spark about a second, and the demo build runs them
    # all there (conftest's demo_spark).
    daily_job(warehouse, every_test=every_engine != "spark")
    for model in INCREMENTAL_MODELS:
        assert ran_incrementally(warehouse, model), model
    incremental = snapshot(warehouse)

    full_refresh(warehouse)
    assert not ran_incrementally(warehouse, "quarantined_rows")
    assert_same_tables(incremental, snapshot(warehouse))

    # The delivery mattered: a day two weeks back changed, and new days arrived.
    late_day = END - dt.timedelta(days=16)
    for mart, day_column in (("daily_scores", "score_date"), ("daily_feedback", "feedback_date")):
        old = {row[day_column]: row for row in before[mart]}
        new = {row[day_column]: row for row in incremental[mart]}
        assert old[late_day] != new[late_day], mart
        assert END in new and END not in old, mart
    # The impossible dates are quarantined, and the weeks span only the valid rows.
    reasons = {row["reason"] for row in incremental["quarantined_rows"]}
    assert {"created_at_in_future", "created_at_too_early"} <= reasons
    weeks = [row["week_start"] for row in incremental["weekly_performance"]]
    assert min(weeks) >= dt.date(2025, 12, 29) and max(weeks) <= END

    def undated(snap: dict[str, list[dict]]) -> int:
        return sum(row["occurred_date"] is None for row in snap["quarantined_rows"])

    assert undated(incremental) > undated(before) > 0


def test_a_row_from_the_future_counts_once_its_time_has_come(make_warehouse):
    """Quarantined while ahead of the clock; the first daily job after its time counts it."""
    from incremental_support import create_raw_tables, insert_rows

    warehouse = make_warehouse("duckdb", future_tolerance_hours=0)
    create_raw_tables(warehouse, with_loaded_at=True)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    soon = now + dt.timedelta(seconds=20)  # ahead of the first build's clock
    row = {"conversation_id": "c1", "message_id": "m1", "accuracy": None, "consistency": None,
           "emotion_match": None, "evaluator": "human", "model_version": "v1"}  # fmt: skip
    insert_rows(
        warehouse,
        "conversation_evaluation",
        [
            {**row, "evaluation_id": "now", "created_at": now, "score": 6.0},
            {**row, "evaluation_id": "soon", "created_at": soon, "score": 8.0},
        ],
        loaded_at=now,
    )
    warehouse.build(*DAILY_JOB)

    def counted() -> tuple[set[str], int]:
        reasons = {row["reason"] for row in warehouse.mart("quarantined_rows")}
        return reasons, sum(row["eval_count"] for row in warehouse.mart("daily_scores"))

    assert counted() == ({"created_at_in_future"}, 1)

    while dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) <= soon:
        time.sleep(0.5)
    daily_job(warehouse)
    assert counted() == (set(), 2)
    incremental = snapshot(warehouse)
    full_refresh(warehouse)
    assert_same_tables(incremental, snapshot(warehouse))


def test_a_day_rebuilt_for_a_neighbour_ranks_its_rows_with_all_their_copies(make_warehouse):
    """A day is rebuilt because a copy of one of its rows arrived elsewhere; its other rows
    have copies (and newer reactions) on days that are not rebuilt, and must still lose."""
    from incremental_support import create_raw_tables, insert_rows

    warehouse = make_warehouse("duckdb", as_of_date="2026-02-23")
    create_raw_tables(warehouse, with_loaded_at=False)
    day = {n: dt.datetime(2026, 2, n, 10) for n in (2, 5, 9)}
    evaluation = {"conversation_id": "c1", "message_id": "m1", "score": 5.0, "accuracy": None,
                  "consistency": None, "emotion_match": None, "evaluator": "human",
                  "model_version": "v1"}  # fmt: skip

    def react(feedback_id: str, user: str, when: dt.datetime, label: str = "like") -> dict:
        return {"feedback_id": feedback_id, "conversation_id": "c1", "message_id": "m" + user,
                "user_id": user, "created_at": when, "feedback": label}  # fmt: skip

    insert_rows(warehouse, "conversation_evaluation", [
        {**evaluation, "evaluation_id": "e1", "created_at": day[2]},
        {**evaluation, "evaluation_id": "e5", "created_at": day[2]},
        {**evaluation, "evaluation_id": "e5", "created_at": day[5], "score": 9.0},
    ], None)  # fmt: skip
    insert_rows(warehouse, "feedback_log", [
        react("f1", "u1", day[2]), react("f5", "u5", day[2]), react("f6", "u5", day[5], "dislike"),
    ], None)  # fmt: skip
    daily_job(warehouse, every_test=False)  # the history: every data test runs after day 9

    # Day 9: a newer copy of e1 and a newer reaction of u1 to m1 pull day 2 in.
    insert_rows(warehouse, "conversation_evaluation", [
        {**evaluation, "evaluation_id": "e1", "created_at": day[9], "score": 7.0},
    ], None)  # fmt: skip
    insert_rows(warehouse, "feedback_log", [react("f7", "u1", day[9])], None)
    daily_job(warehouse)
    incremental = snapshot(warehouse)
    counts = {row["score_date"]: row["eval_count"] for row in incremental["daily_scores"]}
    assert counts == {dt.date(2026, 2, 5): 1, dt.date(2026, 2, 9): 1}
    feedback = {
        row["feedback_date"]: row["feedback_count"] for row in incremental["daily_feedback"]
    }
    assert feedback == {dt.date(2026, 2, 5): 1, dt.date(2026, 2, 9): 1}
    full_refresh(warehouse)
    assert_same_tables(incremental, snapshot(warehouse))


def test_a_redelivered_copy_rebuilds_only_the_duplicate_count_of_its_day(make_warehouse):
    """By loaded_at, the daily figures rebuild the days whose counted rows changed: a copy
    delivered again (same values, a later loaded_at) changes only data_quality_daily's count
    of duplicates on its day. The first daily job after a new build rebuilds no day it need
    not: every model finds the state its ranked table kept in the same run."""
    from incremental_support import create_raw_tables, insert_rows

    warehouse = make_warehouse("duckdb", as_of_date="2026-02-23")
    create_raw_tables(warehouse, with_loaded_at=True)
    day = {n: dt.datetime(2026, 2, n, 10) for n in (2, 5, 9)}
    evaluation = {"conversation_id": "c1", "score": 5.0, "accuracy": None, "consistency": None,
                  "emotion_match": None, "evaluator": "human", "model_version": "v1"}  # fmt: skip
    first = [
        {**evaluation, "evaluation_id": "e2", "message_id": "m2", "created_at": day[2]},
        {**evaluation, "evaluation_id": "e5", "message_id": "m5", "created_at": day[5]},
    ]
    insert_rows(warehouse, "conversation_evaluation", first, dt.datetime(2026, 2, 10))
    daily_job(warehouse, every_test=False)  # the history's build: its key tests
    daily_job(warehouse, every_test=False)  # nothing arrived: no day to rebuild

    def rebuilt(model: str, schema: str) -> set[dt.date]:
        rows = warehouse.query(f"select rebuild_day from {schema}.{model}__rebuild_days")
        return {row["rebuild_day"] for row in rows}

    intermediate = f"{warehouse.schema}_intermediate"
    assert rebuilt("int_evaluations_aggregated_daily", intermediate) == set()
    insert_rows(warehouse, "conversation_evaluation", [
        first[0], {**evaluation, "evaluation_id": "e9", "message_id": "m9", "created_at": day[9]},
    ], dt.datetime(2026, 2, 11))  # fmt: skip
    daily_job(warehouse)

    assert rebuilt("int_evaluations_aggregated_daily", intermediate) == {day[9].date()}
    assert rebuilt("data_quality_daily", warehouse.schema) == {day[2].date(), day[9].date()}
    duplicates = {
        row["quality_date"]: row["row_count"]
        for row in warehouse.mart("data_quality_daily")
        if row["issue"] == "duplicate_evaluation_id"
    }
    assert duplicates == {day[2].date(): 1}
    incremental = snapshot(warehouse)
    full_refresh(warehouse)
    assert_same_tables(incremental, snapshot(warehouse))


def test_a_reaction_without_a_message_delivered_again_keeps_both_copies(make_warehouse):
    """A reaction without a message_id has no (message, user) pair: by loaded_at its copies
    are found by its feedback_id alone. Delivered again, it is ranked with its first copy
    (the copy is set aside, not lost), and every table equals a full refresh."""
    from incremental_support import create_raw_tables, insert_rows

    warehouse = make_warehouse("duckdb", as_of_date="2026-02-23")
    create_raw_tables(warehouse, with_loaded_at=True)
    at = {n: dt.datetime(2026, 2, n, 10) for n in (2, 5)}

    def react(feedback_id: str, message_id: str | None, when: dt.datetime, label: str) -> dict:
        return {"feedback_id": feedback_id, "conversation_id": "c1", "message_id": message_id,
                "user_id": "u1", "created_at": when, "feedback": label}  # fmt: skip

    without_message = react("f1", None, at[2], "like")
    insert_rows(warehouse, "feedback_log", [without_message, react("f2", "m2", at[2], "like")],
                dt.datetime(2026, 2, 10))  # fmt: skip
    daily_job(warehouse, every_test=False)  # the history's build: its key tests
    insert_rows(warehouse, "feedback_log", [without_message, react("f3", None, at[5], "dislike")],
                dt.datetime(2026, 2, 11))  # fmt: skip
    daily_job(warehouse)

    incremental = snapshot(warehouse)
    copies = sorted(
        row["copy_rank"]
        for row in incremental["int_feedback_reactions_ranked"]
        if row["feedback_id"] == "f1"
    )
    assert copies == [1, 2]
    full_refresh(warehouse)
    assert_same_tables(incremental, snapshot(warehouse))


def test_a_late_judge_evaluation_rebuilds_only_its_message(make_warehouse):
    """The agreement marts' weekly sums are summed from int_messages_scored, which writes
    again only the messages whose counted rows changed: m1 (a late judge evaluation) and m2
    (a changed reaction), not m3. m1 was first judged in the week of 02-09; the judge
    evaluation dated 02-04 moves its pair to the week of 02-02. Every table equals a full
    refresh."""
    from incremental_support import create_raw_tables, insert_rows

    warehouse = make_warehouse("duckdb", as_of_date="2026-02-23")
    create_raw_tables(warehouse, with_loaded_at=True)
    at = {n: dt.datetime(2026, 2, n, 10) for n in (2, 4, 9, 10, 16)}
    week = {n: dt.date(2026, 2, n) for n in (2, 9, 16)}
    log = {"conversation_id": "c1", "model_version": "v1", "user_message": "q", "ai_response": "a"}
    evaluation = {"conversation_id": "c1", "accuracy": None, "consistency": None,
                  "emotion_match": None, "model_version": "v1"}  # fmt: skip
    reaction = {"conversation_id": "c1", "user_id": "u1"}
    first_load, second_load = dt.datetime(2026, 2, 17), dt.datetime(2026, 2, 18)
    insert_rows(warehouse, "conversation_log", [
        {**log, "message_id": "m1", "created_at": at[2]},
        {**log, "message_id": "m2", "created_at": at[9]},
        {**log, "message_id": "m3", "created_at": at[16]},
    ], first_load)  # fmt: skip
    insert_rows(warehouse, "conversation_evaluation", [
        {**evaluation, "evaluation_id": f"{rater}{m}", "message_id": f"m{m}", "created_at": at[day],
         "score": score, "evaluator": evaluator}
        for m, day in ((1, 10), (2, 9), (3, 16))
        for rater, evaluator, score in (("h", "human", 6.0), ("j", "llm_judge", 7.0))
    ], first_load)  # fmt: skip
    insert_rows(warehouse, "feedback_log", [
        {**reaction, "feedback_id": f"f{m}", "message_id": f"m{m}", "created_at": at[day],
         "feedback": "like"}
        for m, day in ((1, 10), (2, 10), (3, 16))
    ], first_load)  # fmt: skip
    daily_job(warehouse, every_test=False)  # the history's build
    insert_rows(warehouse, "conversation_evaluation", [
        {**evaluation, "evaluation_id": "j1-late", "message_id": "m1", "created_at": at[4],
         "score": 9.0, "evaluator": "llm_judge"},
    ], second_load)  # fmt: skip
    insert_rows(warehouse, "feedback_log", [
        {**reaction, "feedback_id": "f2-changed", "message_id": "m2",
         "created_at": at[10] + dt.timedelta(hours=1), "feedback": "dislike"},
    ], second_load)  # fmt: skip
    daily_job(warehouse)

    keys_table = f"{warehouse.schema}_intermediate.int_messages_scored__rebuild_keys"
    keys = warehouse.query(f"select key_type, key_value from {keys_table}")
    assert {(row["key_type"], row["key_value"]) for row in keys} == {
        ("message_id", "m1"),
        ("message_id", "m2"),
    }
    pairs = {
        row["week_start"]: (row["pair_count"], row["avg_judge_score"])
        for row in warehouse.mart("judge_agreement_weekly")
        if row["segment_type"] == "service"
    }
    assert pairs == {week[2]: (1, 8.0), week[9]: (1, 7.0), week[16]: (1, 7.0)}
    incremental = snapshot(warehouse)
    full_refresh(warehouse)
    assert_same_tables(incremental, snapshot(warehouse))


def test_a_model_built_apart_does_not_get_ahead_of_the_table_it_reads(make_warehouse):
    """quarantined_rows reads int_rejected_rows, so it processes what that table processed,
    not what the raw tables hold: built alone (`dbt run --select quarantined_rows`) after a
    rejected row arrived, it finds nothing new, and the next daily job brings the row to
    both. Had it taken the raw tables' state, it would have marked the row done while the
    table it reads did not hold it yet, and never shown it."""
    from incremental_support import create_raw_tables, insert_rows

    warehouse = make_warehouse("duckdb", as_of_date="2026-02-23")
    create_raw_tables(warehouse, with_loaded_at=True)
    evaluation = {"conversation_id": "c1", "message_id": "m1", "accuracy": None,
                  "consistency": None, "emotion_match": None, "evaluator": "human",
                  "model_version": "v1"}  # fmt: skip
    insert_rows(warehouse, "conversation_evaluation", [
        {**evaluation, "evaluation_id": "e1", "created_at": dt.datetime(2026, 2, 2, 10),
         "score": 7.0},
    ], dt.datetime(2026, 2, 10))  # fmt: skip
    daily_job(warehouse, every_test=False)  # the history's build
    insert_rows(warehouse, "conversation_evaluation", [
        {**evaluation, "evaluation_id": "e2", "created_at": dt.datetime(2026, 2, 3, 10),
         "score": 42.0},
    ], dt.datetime(2026, 2, 11))  # fmt: skip
    warehouse.dbt("run", "--select", "quarantined_rows")

    def quarantined() -> list[str]:
        return [row["record_id"] for row in warehouse.mart("quarantined_rows")]

    assert quarantined() == []
    daily_job(warehouse)
    assert quarantined() == ["e2"]
    incremental = snapshot(warehouse)
    full_refresh(warehouse)
    assert_same_tables(incremental, snapshot(warehouse))


def test_a_day_whose_raw_rows_were_all_deleted_is_emptied(make_warehouse):
    """Raw rows deleted make what the models processed no longer stand, and each rebuilds
    every day by itself: also a day on which no raw row is left, which every model holds
    until then (a valid and a rejected evaluation on 02-09, both deleted). The daily job
    passes its data tests and equals a full refresh."""
    from incremental_support import create_raw_tables, insert_rows

    warehouse = make_warehouse("duckdb", as_of_date="2026-02-23")
    create_raw_tables(warehouse, with_loaded_at=True)
    evaluation = {"conversation_id": "c1", "accuracy": None, "consistency": None,
                  "emotion_match": None, "evaluator": "human", "model_version": "v1"}  # fmt: skip
    insert_rows(warehouse, "conversation_evaluation", [
        {**evaluation, "evaluation_id": "e2", "message_id": "m2",
         "created_at": dt.datetime(2026, 2, 2, 10), "score": 5.0},
        {**evaluation, "evaluation_id": "e9", "message_id": "m9",
         "created_at": dt.datetime(2026, 2, 9, 10), "score": 5.0},
        {**evaluation, "evaluation_id": "e9-bad", "message_id": "m9",
         "created_at": dt.datetime(2026, 2, 9, 10), "score": 42.0},
    ], dt.datetime(2026, 2, 10))  # fmt: skip
    daily_job(warehouse, every_test=False)  # the history's build
    warehouse.execute(
        f"delete from {warehouse.raw_schema}.conversation_evaluation "
        "where created_at >= cast('2026-02-09' as timestamp)"
    )
    daily_job(warehouse)
    days = [row["score_date"] for row in warehouse.mart("daily_scores", "score_date")]
    assert days == [dt.date(2026, 2, 2)]
    incremental = snapshot(warehouse)
    full_refresh(warehouse)
    assert_same_tables(incremental, snapshot(warehouse))


def test_raw_tables_that_are_views_are_read_by_key_too(make_warehouse):
    """Raw data can be a view (over files, or tables kept elsewhere). A run by loaded_at
    reads the raw rows of the arriving keys straight from the raw relation, and on DuckDB
    by rowid from a table; a view has none, and is read as it is. A late evaluation of an
    old message, a replayed copy and a changed reaction arrive through the views: the
    daily job passes its data tests, counts them, and equals a full refresh."""
    from types import SimpleNamespace

    from incremental_support import create_raw_tables, insert_rows

    warehouse = make_warehouse("duckdb", as_of_date="2026-02-23")
    create_raw_tables(warehouse, with_loaded_at=True)
    raw, store = warehouse.raw_schema, warehouse.raw_schema + "_store"
    warehouse.execute(f"create schema {store}", *[
        statement
        for table in RAW_TABLES
        for statement in (f"create table {store}.{table} as select * from {raw}.{table}",
                          f"drop table {raw}.{table}",
                          f"create view {raw}.{table} as select * from {store}.{table}")
    ])  # fmt: skip
    stored = SimpleNamespace(raw_schema=store, execute=warehouse.execute)
    evaluation = {"conversation_id": "c1", "accuracy": None, "consistency": None,
                  "emotion_match": None, "evaluator": "human", "model_version": "v1"}  # fmt: skip
    reaction = {"conversation_id": "c1", "message_id": "m1", "user_id": "u1"}
    first = [{**evaluation, "evaluation_id": "e1", "message_id": "m1",
              "created_at": dt.datetime(2026, 2, 2, 10), "score": 5.0},
             {**evaluation, "evaluation_id": "e2", "message_id": "m2",
              "created_at": dt.datetime(2026, 2, 16, 10), "score": 7.0}]  # fmt: skip
    insert_rows(stored, "conversation_evaluation", first, dt.datetime(2026, 2, 17))
    insert_rows(stored, "feedback_log", [
        {**reaction, "feedback_id": "f1", "created_at": dt.datetime(2026, 2, 2, 11),
         "feedback": "like"},
    ], dt.datetime(2026, 2, 17))  # fmt: skip
    daily_job(warehouse, every_test=False)  # the history's build

    insert_rows(stored, "conversation_evaluation", [
        first[0],
        {**evaluation, "evaluation_id": "e3", "message_id": "m1",
         "created_at": dt.datetime(2026, 2, 3, 10), "score": 9.0},
    ], dt.datetime(2026, 2, 18))  # fmt: skip
    insert_rows(stored, "feedback_log", [
        {**reaction, "feedback_id": "f2", "created_at": dt.datetime(2026, 2, 17, 9),
         "feedback": "dislike"},
    ], dt.datetime(2026, 2, 18))  # fmt: skip
    daily_job(warehouse)
    scores = {row["score_date"]: row["eval_count"] for row in warehouse.mart("daily_scores")}
    assert scores == {dt.date(2026, 2, 2): 1, dt.date(2026, 2, 3): 1, dt.date(2026, 2, 16): 1}
    feedback = {
        row["feedback_date"]: (row["like_count"], row["dislike_count"])
        for row in warehouse.mart("daily_feedback")
        if row["like_count"] or row["dislike_count"]
    }
    assert feedback == {dt.date(2026, 2, 17): (0, 1)}
    incremental = snapshot(warehouse)
    full_refresh(warehouse)
    assert_same_tables(incremental, snapshot(warehouse))


def raw_counts_by_connection(warehouse) -> dict[str, int]:
    """Per dbt connection of the last command (a model's, or "master" for the run's hooks;
    not the data tests'), its statements that count the rows of a raw table: a count(*)
    over a raw table read in the same select (from dbt.log, which holds every statement
    with its connection)."""
    log = Path(warehouse.root, "logs", "dbt.log").read_text(errors="replace")
    log = log[log.rfind("Running with dbt=") :]
    raw_table = rf'"?{re.escape(warehouse.raw_schema)}"?\."?(?:{"|".join(RAW_TABLES)})\b'
    counting = re.compile(
        rf"count\(\*\)(?:(?!\bselect\b).)*?\bfrom\s+(?:\S+\.)?{raw_table}", re.S | re.I
    )
    statement = re.compile(r"On (\S+): (.*?)(?=\n\S*\d\d:\d\d:\d\d\.\d{6} |\Z)", re.S)
    counts: dict[str, int] = {}
    for connection, sql in statement.findall(log):
        if not connection.startswith("test.") and counting.search(sql):
            counts[connection] = counts.get(connection, 0) + 1
    return counts


def test_a_daily_run_counts_the_raw_tables_once(make_warehouse):
    """Each incremental model checks that what it processed still stands: the raw rows at
    or below its watermark, counted. The daily job counts the raw tables once, at its start
    (on-run-start, remember_raw_loads in macros/arrivals.sql), in one statement, and each
    model takes its state and its check from there: on PostgreSQL at 10M a count took
    about a second, and each of ten models made two (21 s of a 100 s day). Taken at the
    start, the state still holds what it counted: raw rows deleted after a run are found by
    the next one, which rebuilds every day and equals a full refresh."""
    warehouse = make_warehouse("duckdb", as_of_date=END.isoformat())
    load_history(warehouse)
    warehouse.dbt("build", "--resource-type", "model", "--resource-type", "seed", *DAILY_JOB)
    deliver_the_next_day(warehouse)
    daily_job(warehouse)
    assert raw_counts_by_connection(warehouse) == {"master": 1}

    warehouse.execute(
        f"delete from {warehouse.raw_schema}.feedback_log where feedback_id like '%4'"
    )
    daily_job(warehouse)
    incremental = snapshot(warehouse)
    full_refresh(warehouse)
    assert_same_tables(incremental, snapshot(warehouse))
