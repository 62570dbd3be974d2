"""Intervals, tests and segments in the marts, end to end: scipy agrees with every number,
an injected regression is found, and noise raises no more alarms than alpha allows."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

import pytest
from scipy import stats

from demo_data import DemoSpec, generate

ALPHA = 0.05


def test_weekly_intervals_and_tests_match_scipy(demo_warehouse) -> None:
    weeks = demo_warehouse.mart("weekly_performance", "week_start")
    tested = 0
    for week, last in zip(weeks[1:], weeks[:-1], strict=True):
        n, mean, sd = week["eval_count"], week["avg_score"], week["stddev_score"]
        low, high = stats.t.interval(0.95, n - 1, loc=mean, scale=sd / math.sqrt(n))
        assert week["avg_score_ci_low"] == pytest.approx(low, abs=1e-6)
        assert week["avg_score_ci_high"] == pytest.approx(high, abs=1e-6)
        likes, reactions = week["like_count"], week["feedback_count"]
        wilson = stats.binomtest(likes, reactions).proportion_ci(0.95, method="wilson")
        assert week["like_ratio_ci_low"] == pytest.approx(wilson.low, abs=1e-6)
        assert week["like_ratio_ci_high"] == pytest.approx(wilson.high, abs=1e-6)
        welch = stats.ttest_ind_from_stats(
            mean,
            sd,
            n,
            last["avg_score"],
            last["stddev_score"],
            last["eval_count"],
            equal_var=False,
        )
        assert week["score_change_p_value"] == pytest.approx(welch.pvalue, abs=1e-6)
        assert week["score_change_significant"] == (welch.pvalue < ALPHA)
        table = [
            [likes, reactions - likes],
            [last["like_count"], last["feedback_count"] - last["like_count"]],
        ]
        chi2 = stats.chi2_contingency(table, correction=False).pvalue
        assert week["like_ratio_change_p_value"] == pytest.approx(chi2, abs=2e-7)
        assert week["like_ratio_change_significant"] == (chi2 < ALPHA)
        assert week["is_low_volume"] == (n < 30 or reactions < 30)
        tested += 1
    assert tested >= 4
    first = weeks[0]
    assert first["score_change_p_value"] is None and first["score_change_significant"] is False


def test_segment_significance_is_benjamini_hochberg_over_the_week(demo_warehouse) -> None:
    rows = demo_warehouse.mart("weekly_segment_performance", "week_start")
    assert {row["segment_type"] for row in rows} == {"model_version", "evaluator"}
    families: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        for metric in ("score", "like_ratio"):
            if row[f"{metric}_change_p_value"] is not None:
                families[(row["week_start"], metric)].append(row)
    assert len(families) >= 8
    for (_, metric), members in families.items():
        p_values = [row[f"{metric}_change_p_value"] for row in members]
        q_values = stats.false_discovery_control(p_values, method="bh")
        for row, q in zip(members, q_values, strict=True):
            assert row[f"{metric}_change_q_value"] == pytest.approx(q, rel=1e-9, abs=1e-12)
            assert row[f"{metric}_change_significant"] == (q <= ALPHA)
    for row in rows:
        if row["score_change_p_value"] is not None and row["prev_eval_count"] >= 2:
            welch = stats.ttest_ind_from_stats(
                row["avg_score"],
                row["stddev_score"],
                row["eval_count"],
                row["prev_avg_score"],
                demo_stddev(rows, row),
                row["prev_eval_count"],
                equal_var=False,
            )
            assert row["score_change_p_value"] == pytest.approx(welch.pvalue, abs=1e-3)


def demo_stddev(rows: list[dict], row: dict) -> float:
    before = row["week_start"] - dt.timedelta(days=7)
    (previous,) = [
        other
        for other in rows
        if other["week_start"] == before
        and other["segment_type"] == row["segment_type"]
        and other["segment_value"] == row["segment_value"]
    ]
    return previous["stddev_score"]


# z(1 - alpha/2) + z(power) at the defaults alpha 0.05 and power 0.8.
DETECTABLE_FACTOR = stats.norm.ppf(1 - ALPHA / 2) + stats.norm.ppf(0.8)


def expected_mde(n, sd, prev_n, prev_sd, likes, reactions, prev_likes, prev_reactions):
    """The minimum detectable changes by the issue's formulas, from scipy's normal quantiles."""
    score = None
    if n >= 2 and prev_n >= 2 and sd is not None and prev_sd is not None:
        score = DETECTABLE_FACTOR * math.sqrt(sd * sd / n + prev_sd * prev_sd / prev_n)
    like_ratio = None
    if reactions and prev_reactions:
        pooled = (likes + prev_likes) / (reactions + prev_reactions)
        variance = pooled * (1 - pooled) * (1 / reactions + 1 / prev_reactions)
        like_ratio = 100 * DETECTABLE_FACTOR * math.sqrt(variance) if variance > 0 else None
    return score, like_ratio


def test_detectable_changes_match_the_formulas(demo_warehouse) -> None:
    weeks = demo_warehouse.mart("weekly_performance", "week_start")
    assert weeks[0]["score_mde"] is None and weeks[0]["like_ratio_mde_pp"] is None
    for week, last in zip(weeks[1:], weeks[:-1], strict=True):
        score, like_ratio = expected_mde(
            week["eval_count"],
            week["stddev_score"],
            last["eval_count"],
            last["stddev_score"],
            week["like_count"],
            week["feedback_count"],
            last["like_count"],
            last["feedback_count"],
        )
        assert week["score_mde"] == pytest.approx(score, abs=1e-6)
        assert week["like_ratio_mde_pp"] == pytest.approx(like_ratio, abs=1e-6)
    # Segments: the same formulas on each segment's weeks.
    rows = demo_warehouse.mart("weekly_segment_performance", "week_start")
    checked = 0
    for row in rows:
        if row["prev_eval_count"] < 2 or row["eval_count"] < 2:
            assert row["score_mde"] is None
            continue
        prev_reactions = row["prev_feedback_count"]
        prev_likes = round(row["prev_like_ratio"] * prev_reactions) if prev_reactions else 0
        score, like_ratio = expected_mde(
            row["eval_count"],
            row["stddev_score"],
            row["prev_eval_count"],
            demo_stddev(rows, row),
            row["like_count"],
            row["feedback_count"],
            prev_likes,
            prev_reactions,
        )
        assert row["score_mde"] == pytest.approx(score, abs=1e-6)
        assert row["like_ratio_mde_pp"] == pytest.approx(like_ratio, abs=1e-6)
        checked += row["like_ratio_mde_pp"] is not None
    assert checked >= 8


def quality_regression_status(build_output: str) -> str:
    (line,) = [
        line
        for line in build_output.splitlines()
        if "quality_regression_weekly_performance" in line
        and " of " in line
        and " START " not in line
    ]
    return "WARN" if " WARN " in line else "PASS" if " PASS " in line else line


def test_an_injected_regression_is_found_in_its_model_version(make_warehouse) -> None:
    warehouse = make_warehouse("duckdb", as_of_date="2026-01-07")
    # The last week (2026-W01, ending Sunday 2026-01-04) loses 1.5 points in chat-v2.0 only.
    warehouse.generate(
        DemoSpec(
            weeks=6,
            rows_per_day=60,
            seed=7,
            end_date=dt.date(2026, 1, 4),
            regression="chat-v2.0:-1.5",
        )
    )
    build = warehouse.build()
    assert quality_regression_status(build.stdout) == "WARN"
    segments = {
        (row["segment_type"], row["segment_value"]): row
        for row in warehouse.query(
            f"select * from {warehouse.schema}.weekly_segment_performance "
            "where week_label = '2026-W01'"
        )
    }
    regressed = segments[("model_version", "chat-v2.0")]
    assert regressed["score_change_significant"] and regressed["score_change_ci_high"] < 0
    # The largest drop by its conservative bound is the injected one.
    drops = [row for row in segments.values() if row["score_change_significant"]]
    worst = min(drops, key=lambda row: row["score_change_ci_high"])
    assert worst["segment_value"] == "chat-v2.0"
    untouched = segments[("model_version", "chat-v1.1")]
    assert not (untouched["score_change_significant"] and untouched["score_change"] < 0)
    # Configured to error, the same test gates a deployment.
    gated = warehouse.dbt(
        "test",
        "--select",
        "test_name:quality_regression",
        dbt_vars={"quality_regression_severity": "error"},
        check=False,
    )
    assert gated.returncode != 0 and "quality_regression" in gated.stdout


SEEDS = range(1, 21)
FIRST_SUNDAY = dt.date(2025, 1, 5)


def stack_seeds(warehouse) -> list[dt.date]:
    """Twenty flat two-week data sets, one after another, with ids made unique per seed.

    Returns the Monday of each seed's second week: the one compared with its first.
    """
    raw = warehouse.raw_schema
    id_columns = {
        "conversation_log": ("message_id", "conversation_id"),
        "conversation_evaluation": ("evaluation_id", "conversation_id", "message_id"),
        "feedback_log": ("feedback_id", "conversation_id", "message_id", "user_id"),
    }
    second_weeks = []
    for seed in SEEDS:
        end = FIRST_SUNDAY + dt.timedelta(days=14 * seed)
        seed_schema = f"{raw}_s{seed}"
        generate(
            warehouse.config,
            DemoSpec(weeks=2, rows_per_day=20, seed=seed, end_date=end, trend=False),
            seed_schema,
        )
        statements = [f"create schema if not exists {raw}"] if seed == SEEDS[0] else []
        for table, ids in id_columns.items():
            columns = [
                row["column_name"]
                for row in warehouse.query(
                    "select column_name from information_schema.columns "
                    f"where table_schema = '{seed_schema}' and table_name = '{table}' "
                    "order by ordinal_position"
                )
            ]
            select = ", ".join(
                f"'s{seed}-' || {column} as {column}" if column in ids else column
                for column in columns
            )
            if seed == SEEDS[0]:
                statements.append(
                    f"create table {raw}.{table} as select {select} from {seed_schema}.{table}"
                )
            else:
                statements.append(
                    f"insert into {raw}.{table} select {select} from {seed_schema}.{table}"
                )
        warehouse.execute(*statements, f"drop schema {seed_schema} cascade")
        second_weeks.append(end - dt.timedelta(days=6))
    return second_weeks


def test_no_false_alarms_beyond_alpha_on_data_without_change(make_warehouse) -> None:
    last_day = FIRST_SUNDAY + dt.timedelta(days=14 * SEEDS[-1])
    warehouse = make_warehouse("duckdb", as_of_date=(last_day + dt.timedelta(days=1)).isoformat())
    second_weeks = stack_seeds(warehouse)
    build = warehouse.build()  # one build for all twenty seeds
    weeks = {row["week_start"]: row for row in warehouse.mart("weekly_performance")}
    compared = [weeks[monday] for monday in second_weeks]
    assert all(week["prev_eval_count"] >= 30 for week in compared)
    # Twenty tests at alpha 0.05 expect one false alarm; four or fewer happens with 98% chance.
    allowed = int(stats.binom.ppf(0.98, len(compared), ALPHA))
    for metric in ("score", "like_ratio"):
        alarms = sum(week[f"{metric}_change_significant"] for week in compared)
        assert alarms <= allowed, (metric, alarms)
    # Segments: Benjamini–Hochberg keeps each week's chance of any false alarm at alpha.
    segments = warehouse.mart("weekly_segment_performance")
    for metric in ("score", "like_ratio"):
        weeks_with_alarm = {
            row["week_start"]
            for row in segments
            if row["week_start"] in second_weeks and row[f"{metric}_change_significant"]
        }
        assert len(weeks_with_alarm) <= allowed, (metric, sorted(weeks_with_alarm))
    # The regression test looks at the latest complete week: quiet here.
    assert quality_regression_status(build.stdout) == "PASS"
