"""The demo generator: deterministic, and messy in every way the cleaning rules handle."""

from __future__ import annotations

import datetime as dt

from reporter.demo import DemoSpec


def counts(warehouse, sql: str) -> int:
    return next(iter(warehouse.query(sql)[0].values()))


def test_demo_data_contains_every_messy_case(demo_duckdb):
    raw = demo_duckdb.raw_schema
    evaluations, feedback = f"{raw}.conversation_evaluation", f"{raw}.feedback_log"
    distinct_reactions = (
        f"(select message_id, user_id from {feedback} "
        "group by 1, 2 having count(distinct feedback_id) > 1) as changed"
    )
    messy_cases = {
        "duplicate evaluations": f"count(*) - count(distinct evaluation_id) from {evaluations}",
        "null scores": f"count(*) from {evaluations} where score is null",
        "out-of-range scores": f"count(*) from {evaluations} where score > 10 or score < 0",
        "null evaluation times": f"count(*) from {evaluations} where created_at is null",
        "out-of-range dimensions": f"count(*) from {evaluations} where accuracy > 10",
        "duplicate reactions": f"count(*) - count(distinct feedback_id) from {feedback}",
        "label spellings": f"count(distinct feedback) from {feedback} where feedback like '%Like%'",
        "emoji labels": f"count(*) from {feedback} where feedback = '👍'",
        "unknown labels": f"count(*) from {feedback} where feedback in ('meh', '', 'love it')",
        "changed reactions": f"count(*) from {distinct_reactions}",
        "model versions": f"count(distinct model_version) - 1 from {evaluations}",
    }
    found = {case: counts(demo_duckdb, f"select {sql}") for case, sql in messy_cases.items()}
    assert all(value > 0 for value in found.values()), found


def test_same_seed_gives_the_same_data_and_another_seed_does_not(make_warehouse):
    spec = DemoSpec(weeks=1, rows_per_day=30, seed=5, end_date=dt.date(2026, 3, 4))
    first, second, other = make_warehouse(), make_warehouse(), make_warehouse()
    first.generate(spec)
    second.generate(spec)
    other.generate(DemoSpec(weeks=1, rows_per_day=30, seed=6, end_date=dt.date(2026, 3, 4)))
    sql = "select * from {}.conversation_evaluation order by evaluation_id, created_at, score"
    assert first.query(sql.format(first.raw_schema)) == second.query(sql.format(second.raw_schema))
    assert first.query(sql.format(first.raw_schema)) != other.query(sql.format(other.raw_schema))


def test_demo_data_spans_whole_iso_weeks_up_to_the_end_date(make_warehouse):
    warehouse = make_warehouse()
    warehouse.generate(DemoSpec(weeks=2, rows_per_day=20, seed=1, end_date=dt.date(2026, 3, 4)))
    span = warehouse.query(
        f"select min(created_at) as first, max(created_at) as last "
        f"from {warehouse.raw_schema}.conversation_log"
    )[0]
    assert span["first"].date() == dt.date(2026, 2, 23)  # Monday of the week before
    assert span["last"].date() == dt.date(2026, 3, 4)
