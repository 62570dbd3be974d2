"""The marts, built by dbt from generated raw data, equal an independent pandas computation."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
import reference
from conftest import DEMO_AS_OF

from demo_data import DemoSpec


def raw_frame(warehouse, table: str) -> pd.DataFrame:
    return pd.DataFrame(warehouse.query(raw_sql(warehouse, table)))


def raw_sql(warehouse, table: str) -> str:
    return f"select * from {warehouse.raw_schema}.{table}"


def assert_close(actual, expected, what: str) -> None:
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        assert actual is None or (isinstance(actual, float) and math.isnan(actual)), what
    elif isinstance(expected, float):
        assert actual is not None and math.isclose(
            float(actual), expected, rel_tol=1e-9, abs_tol=1e-9
        ), f"{what}: {actual} != {expected}"
    else:
        assert actual == expected, f"{what}: {actual!r} != {expected!r}"


def compare(mart_rows: list[dict], expected: pd.DataFrame, key: str) -> None:
    assert [row[key] for row in mart_rows] == list(expected.index), f"{key} values differ"
    for row in mart_rows:
        for column in expected.columns:
            value = expected.loc[row[key], column]
            if hasattr(value, "item"):
                value = value.item()
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and column.endswith(("ratio", "score", "pct", "pp"))
            ):
                value = float(value)
            assert_close(row[column], value, f"{row[key]} {column}")


def check_marts(warehouse, timezone: str, as_of: dt.date) -> None:
    # One read of everything: on Spark each read is a process of its own.
    raw_evaluation_rows, raw_feedback_rows, scores, feedback_days, weeks, quarantined = (
        warehouse.query_many(
            [
                raw_sql(warehouse, "conversation_evaluation"),
                raw_sql(warehouse, "feedback_log"),
                warehouse.mart_sql("daily_scores", "score_date"),
                warehouse.mart_sql("daily_feedback", "feedback_date"),
                warehouse.mart_sql("weekly_performance", "week_start"),
                warehouse.mart_sql("quarantined_rows"),
            ]
        )
    )
    raw_evaluations = pd.DataFrame(raw_evaluation_rows)
    raw_feedback = pd.DataFrame(raw_feedback_rows)
    evaluations = reference.clean_evaluations(raw_evaluations, timezone)
    feedback = reference.clean_feedback(raw_feedback, timezone)
    rejected = reference.rejected_timestamps(raw_evaluations, raw_feedback)
    rejected_days = reference.to_local_date(rejected.dropna(), timezone)

    compare(scores, reference.daily_scores(evaluations), "score_date")
    compare(feedback_days, reference.daily_feedback(feedback), "feedback_date")
    compare(
        weeks,
        reference.weekly_performance(evaluations, feedback, rejected_days, as_of),
        "week_start",
    )
    assert len(quarantined) == len(rejected)
    assert sum(row["occurred_date"] is None for row in quarantined) == rejected.isna().sum()


def test_demo_marts_equal_the_pandas_reference(demo_warehouse):
    check_marts(demo_warehouse, "UTC", dt.date.fromisoformat(DEMO_AS_OF))


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_spark_demo_marts_equal_the_pandas_reference(demo_spark):
    """The same models, macros and dbt tests on Apache Spark (`dbt build` passed)."""
    check_marts(demo_spark, "UTC", dt.date.fromisoformat(DEMO_AS_OF))


def test_marts_follow_the_report_time_zone(make_warehouse):
    warehouse = make_warehouse("duckdb", report_timezone="Asia/Seoul", as_of_date="2026-01-07")
    warehouse.generate(DemoSpec(weeks=3, rows_per_day=40, seed=3, end_date=dt.date(2026, 1, 6)))
    warehouse.build()
    check_marts(warehouse, "Asia/Seoul", dt.date(2026, 1, 7))
    # The shift is real: some evaluation falls on another day in Seoul than in UTC.
    raw = raw_frame(warehouse, "conversation_evaluation").dropna(subset=["created_at"])
    assert (
        reference.to_local_date(raw["created_at"], "Asia/Seoul")
        != reference.to_local_date(raw["created_at"], "UTC")
    ).any()


@pytest.mark.parametrize("bad_zone", ["Mars/Olympus", "KST'; drop table x; --"])
def test_an_unknown_time_zone_is_a_clear_error(make_warehouse, bad_zone):
    warehouse = make_warehouse("duckdb", report_timezone=bad_zone)
    warehouse.generate(DemoSpec(weeks=1, rows_per_day=5, seed=1, end_date=dt.date(2026, 1, 6)))
    result = warehouse.build(check=False)
    assert result.returncode != 0
    assert "is not an IANA time zone name" in result.stdout
