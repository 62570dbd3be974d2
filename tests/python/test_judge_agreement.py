"""judge_agreement_weekly end to end: raw evaluations with matched human and LLM-judge scores,
built by dbt, against an independent computation with numpy and scipy on the same raw rows
(cleaned by the pandas reference). A judge that drifts in the last week is caught."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
import reference
from incremental_support import RAW_COLUMNS, literal
from scipy import stats
from warehouses import RAW_DDL

ALPHA = 0.05
FIRST_MONDAY = dt.date(2026, 1, 5)  # 2026-W02
WEEKS = 4
AS_OF = FIRST_MONDAY + dt.timedelta(days=7 * WEEKS)  # every week complete
VERSIONS = ("chat-a", "chat-b")


def judge_bias_of(week: int, version: str) -> float:
    """The generated judge's bias: steady, then +1.2 points for chat-b in the last week."""
    return 0.3 + (1.2 if week == WEEKS - 1 and version == "chat-b" else 0.0)


def generated_evaluations(seed: int = 11, messages_per_week: int = 140) -> list[dict]:
    """Raw evaluation rows: judges score most messages (some twice, one decimal), humans
    some (integers, some twice, days later); with invalid rows, copies, another evaluator
    and rows without a message id, which must not make pairs."""
    rng = np.random.default_rng(seed)
    rows: list[dict] = []

    def add(message: str, evaluator: str, score: float | None, at: dt.datetime, version: str):
        rows.append(
            {
                "evaluation_id": f"e{len(rows)}",
                "conversation_id": f"c-{message}",
                "message_id": message,
                "created_at": at,
                "score": score,
                "accuracy": None,
                "consistency": None,
                "emotion_match": None,
                "evaluator": evaluator,
                "model_version": version,
            }
        )

    for week in range(WEEKS):
        for index in range(messages_per_week):
            message = f"m{week}-{index}"
            version = VERSIONS[index % 2]
            created = dt.datetime.combine(
                FIRST_MONDAY + dt.timedelta(days=7 * week), dt.time()
            ) + dt.timedelta(seconds=float(rng.uniform(0, 7 * 86400)))
            quality = float(rng.uniform(2, 9.5))
            if rng.uniform() < 0.9:
                for _ in range(1 + int(rng.uniform() < 0.3)):
                    score = quality + judge_bias_of(week, version) + rng.normal(0, 0.6)
                    judged = created + dt.timedelta(hours=float(rng.uniform(0, 30)))
                    add(message, "llm_judge", round(min(10.0, max(0.0, score)), 1), judged, version)
            if rng.uniform() < 0.6:
                for _ in range(1 + int(rng.uniform() < 0.2)):
                    score = float(np.clip(np.round(quality + rng.normal(0, 0.8)), 0, 10))
                    reviewed = created + dt.timedelta(days=float(rng.uniform(0, 10)))
                    add(message, "human", score, reviewed, version)
            if rng.uniform() < 0.05:  # invalid: out of range, so not a human score
                add(message, "human", 11.0, created + dt.timedelta(hours=2), version)
            if rng.uniform() < 0.05:
                add(message, "self_check", float(rng.integers(0, 11)), created, version)
    for index in range(10):  # no message id: never a pair
        at = dt.datetime.combine(FIRST_MONDAY, dt.time(12)) + dt.timedelta(hours=index)
        add(None, "human", 3.0, at, "chat-a")
        add(None, "llm_judge", 9.0, at, "chat-a")
    copies = [dict(row) for row in rows[::25]]  # at-least-once delivery: the same rows again
    return rows + copies


def load_raw(warehouse) -> None:
    """The generated rows in the raw contract's tables, in one batch of statements."""
    rows = generated_evaluations()
    statements = [f"create schema if not exists {warehouse.raw_schema}"]
    for table, ddl in RAW_DDL.items():
        if warehouse.target == "spark":  # Spark's names of the same types
            ddl = ddl.replace(" text", " string").replace("double precision", "double")
        statements.append(f"drop table if exists {warehouse.raw_schema}.{table}")
        statements.append(f"create table {warehouse.raw_schema}.{table} ({ddl})")
    columns = RAW_COLUMNS["conversation_evaluation"]
    for start in range(0, len(rows), 500):
        values = ", ".join(
            "(" + ", ".join(literal(row[column]) for column in columns) + ")"
            for row in rows[start : start + 500]
        )
        statements.append(
            f"insert into {warehouse.raw_schema}.conversation_evaluation "
            f"({', '.join(columns)}) values {values}"
        )
    warehouse.execute(*statements)


def build(warehouse) -> str:
    load_raw(warehouse)
    result = warehouse.dbt(
        "build", "--select", "+judge_agreement_weekly", "--indirect-selection", "cautious"
    )
    return result.stdout


def expected_pairs(raw: pd.DataFrame) -> pd.DataFrame:
    """Matched pairs from the raw rows, cleaned by the pandas reference (no dbt code)."""
    valid = reference.clean_evaluations(raw)
    valid = valid[valid["message_id"].notna()]
    by_message = defaultdict(dict)
    for message, group in valid.groupby("message_id"):
        human = group[group["evaluator"] == "human"]
        judge = group[group["evaluator"] == "llm_judge"]
        if len(human) and len(judge):
            first_judged = min(judge["day"])
            by_message[message] = {
                "week_start": reference.monday(first_judged),
                "model_version": max(group["model_version"]),
                "human": human["score"].mean(),
                "judge": judge["score"].mean(),
            }
    return pd.DataFrame.from_dict(by_message, orient="index")


def expected_statistics(human: np.ndarray, judge: np.ndarray) -> dict[str, float]:
    difference = judge - human
    n = len(difference)
    bias, sd = difference.mean(), difference.std(ddof=1)
    interval = stats.ttest_1samp(difference, 0.0).confidence_interval(0.95)
    z = stats.norm.ppf(0.975)
    # Quadratic weighted kappa by its definition: observed over chance-expected squared
    # disagreement, the expectation over every (human, judge) combination of values.
    expected_disagreement = np.mean((human[:, None] - judge[None, :]) ** 2)
    # Krippendorff's alpha from its coincidence definition: expected disagreement over all
    # pairs of distinct values in the pooled data.
    pooled = np.concatenate([human, judge])
    pairwise = np.sum((pooled[:, None] - pooled[None, :]) ** 2) / (len(pooled) * (len(pooled) - 1))
    return {
        "pair_count": n,
        "avg_human_score": human.mean(),
        "avg_judge_score": judge.mean(),
        "judge_bias": bias,
        "stddev_difference": sd,
        "judge_bias_ci_low": interval.low,
        "judge_bias_ci_high": interval.high,
        "agreement_limit_low": bias - z * sd,
        "agreement_limit_high": bias + z * sd,
        "mean_abs_difference": np.mean(np.abs(difference)),
        "within_one_point_ratio": np.mean(np.abs(difference) <= 1 + 1e-9),
        "quadratic_weighted_kappa": 1 - np.mean(difference**2) / expected_disagreement,
        "krippendorff_alpha": 1 - np.mean(difference**2) / pairwise,
        "spearman_rho": stats.spearmanr(human, judge).statistic,
    }


def lin_ccc(human: np.ndarray, judge: np.ndarray) -> float:
    covariance = np.cov(human, judge, bias=True)[0, 1]
    return 2 * covariance / (human.var() + judge.var() + (human.mean() - judge.mean()) ** 2)


def segments_of(pairs: pd.DataFrame):
    for week_start, week in pairs.groupby("week_start"):
        yield (week_start, "service", "all"), week
        for version, group in week.groupby("model_version"):
            yield (week_start, "model_version", version), group


def check_agreement(warehouse) -> None:
    raw_rows, mart_rows = warehouse.query_many(
        [
            f"select * from {warehouse.raw_schema}.conversation_evaluation",
            warehouse.mart_sql("judge_agreement_weekly", "week_start, segment_type, segment_value"),
        ]
    )
    pairs = expected_pairs(pd.DataFrame(raw_rows))
    rows = {
        (row["week_start"], row["segment_type"], row["segment_value"]): row for row in mart_rows
    }
    segments = dict(segments_of(pairs))
    assert set(rows) == set(segments)
    # Each generated week, and the week after, where some messages were first judged.
    assert len({key[0] for key in rows}) == WEEKS + 1
    for key, group in segments.items():
        human, judge = group["human"].to_numpy(float), group["judge"].to_numpy(float)
        row = rows[key]
        for column, expected in expected_statistics(human, judge).items():
            rounded = column.endswith(("_low", "_high", "kappa", "alpha", "rho"))
            assert row[column] == pytest.approx(
                expected, abs=1e-6 if rounded else 1e-9, rel=0 if rounded else 1e-12
            ), (key, column)
        assert row["quadratic_weighted_kappa"] == pytest.approx(lin_ccc(human, judge), abs=1e-6)
        assert row["is_low_volume"] == (len(human) < 30)
        assert row["week_label"] == "{}-W{:02d}".format(*key[0].isocalendar()[:2])
        # Week over week: Welch's test of this week's differences against last week's.
        last = segments.get((key[0] - dt.timedelta(days=7), *key[1:]))
        if last is None:
            assert row["prev_pair_count"] == 0 and row["judge_bias_change_p_value"] is None
            continue
        this_difference = judge - human
        last_difference = (last["judge"] - last["human"]).to_numpy(float)
        welch = stats.ttest_ind(this_difference, last_difference, equal_var=False)
        interval = welch.confidence_interval(1 - ALPHA)
        assert row["prev_pair_count"] == len(last_difference)
        assert row["judge_bias_change"] == pytest.approx(
            this_difference.mean() - last_difference.mean(), abs=1e-9
        )
        # The accuracy macros/stats.sql documents for its t p-values, by degrees of freedom;
        # below 2 df it counts as 1 df (a larger p-value).
        if welch.df < 2:
            assert row["judge_bias_change_p_value"] >= welch.pvalue, key
        else:
            tolerance = 5e-4 if welch.df < 3 else 5e-5 if welch.df < 5 else 1e-6
            assert row["judge_bias_change_p_value"] == pytest.approx(welch.pvalue, abs=tolerance)
        # A fractional df below 200 takes the t of the whole df below it (the seed's rows):
        # never a narrower interval than scipy's.
        assert row["judge_bias_change_ci_low"] <= interval.low + 1e-6
        assert row["judge_bias_change_ci_high"] >= interval.high - 1e-6
        df = welch.df if welch.df >= 200 else np.floor(welch.df)
        half_width = stats.t.ppf(1 - ALPHA / 2, df) * np.sqrt(
            this_difference.var(ddof=1) / len(this_difference)
            + last_difference.var(ddof=1) / len(last_difference)
        )
        change = row["judge_bias_change"]
        assert row["judge_bias_change_ci_low"] == pytest.approx(change - half_width, abs=1e-6)
        assert row["judge_bias_change_ci_high"] == pytest.approx(change + half_width, abs=1e-6)
    for week_start in {key[0] for key in rows}:
        service = rows[(week_start, "service", "all")]
        if service["judge_bias_change_p_value"] is not None:
            assert service["judge_bias_change_q_value"] == pytest.approx(
                service["judge_bias_change_p_value"], rel=1e-12
            )
            assert service["judge_bias_change_significant"] == (
                service["judge_bias_change_p_value"] < ALPHA
            )
        versions = [
            rows[(week_start, "model_version", version)]
            for version in VERSIONS
            if rows[(week_start, "model_version", version)]["judge_bias_change_p_value"] is not None
        ]
        if versions:
            q_values = stats.false_discovery_control(
                [row["judge_bias_change_p_value"] for row in versions], method="bh"
            )
            for row, q in zip(versions, q_values, strict=True):
                assert row["judge_bias_change_q_value"] == pytest.approx(q, rel=1e-9)
                assert row["judge_bias_change_significant"] == (q <= ALPHA)
    # The generated judge drifted by +1.2 points on chat-b in the last week, not before.
    last_week = FIRST_MONDAY + dt.timedelta(days=7 * (WEEKS - 1))
    drifted = {key[2] for key, row in rows.items() if row["judge_bias_change_significant"]}
    assert drifted == {"all", "chat-b"}
    assert all(
        key[0] == last_week for key, row in rows.items() if row["judge_bias_change_significant"]
    )
    assert rows[(last_week, "model_version", "chat-b")]["judge_bias_change_ci_low"] > 0.5


def judge_drift_status(build_output: str) -> str:
    (line,) = [
        line
        for line in build_output.splitlines()
        if "judge_drift_judge_agreement_weekly" in line and " of " in line and " START " not in line
    ]
    return "WARN" if " WARN " in line else "PASS" if " PASS " in line else line


def test_agreement_matches_numpy_and_scipy(make_warehouse, engine: str) -> None:
    warehouse = make_warehouse(engine, as_of_date=AS_OF.isoformat())
    output = build(warehouse)
    check_agreement(warehouse)
    assert judge_drift_status(output) == "WARN"
    # Configured to error, the same test gates a deployment.
    gated = warehouse.dbt(
        "test",
        "--select",
        "test_name:judge_drift",
        dbt_vars={"judge_drift_severity": "error"},
        check=False,
    )
    assert gated.returncode != 0 and "judge_drift" in gated.stdout


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_agreement_and_detectable_changes_on_spark(make_warehouse) -> None:
    warehouse = make_warehouse("spark", as_of_date=AS_OF.isoformat())
    load_raw(warehouse)
    # The models only (each data test costs Spark seconds), then the drift test.
    warehouse.dbt(
        "build",
        "--select",
        "+judge_agreement_weekly",
        "+weekly_performance",
        "--resource-type",
        "model",
        "--resource-type",
        "seed",
    )
    check_agreement(warehouse)
    drift = warehouse.dbt("test", "--select", "test_name:judge_drift")
    assert judge_drift_status(drift.stdout) == "WARN"
    # The MDE's normal quantile and formula on Spark (scores only: no reactions here).
    weeks = warehouse.mart("weekly_performance", "week_start")
    factor = stats.norm.ppf(1 - ALPHA / 2) + stats.norm.ppf(0.8)
    for week, last in zip(weeks[1:], weeks[:-1], strict=True):
        if min(week["eval_count"], last["eval_count"]) < 2:
            assert week["score_mde"] is None
            continue
        expected = factor * np.sqrt(
            week["stddev_score"] ** 2 / week["eval_count"]
            + last["stddev_score"] ** 2 / last["eval_count"]
        )
        assert week["score_mde"] == pytest.approx(expected, abs=1e-6)
        assert week["like_ratio_mde_pp"] is None
