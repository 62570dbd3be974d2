"""model_version_comparison, feedback_score_agreement_weekly and score_feedback_disagreements
against an independent computation: the raw rows cleaned by reference.py (pandas), and the
statistics from scipy (Welch's t test on the scores themselves, Wilson intervals, the
chi-square test, Benjamini–Hochberg, the point-biserial correlation). Newcombe's interval
is written out here from scipy's Wilson intervals; the SQL shares nothing with this file.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
import reference
from scipy import stats

ALPHA = 0.05
GOOD_SCORE, BAD_SCORE = 8, 4


def blank_as_null(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def version_name(value: object) -> str:
    value = blank_as_null(value)
    return value.strip() if isinstance(value, str) else "unknown"


RAW_TABLES = ("conversation_evaluation", "feedback_log", "conversation_log")


def raw_frames(rows: list[list[dict]]) -> dict[str, pd.DataFrame]:
    frames = dict(zip(RAW_TABLES, (pd.DataFrame(part) for part in rows), strict=True))
    for frame in frames.values():
        for column in ("message_id", "conversation_id"):
            frame[column] = frame[column].map(blank_as_null)
    return frames


def read_raw(warehouse) -> dict[str, pd.DataFrame]:
    return raw_frames(
        warehouse.query_many(
            [f"select * from {warehouse.raw_schema}.{table}" for table in RAW_TABLES]
        )
    )


def cleaned(raw: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Valid deduplicated evaluations and latest reactions, each with a week and a version."""
    evaluations = reference.clean_evaluations(raw["conversation_evaluation"])
    evaluations["week"] = evaluations["day"].map(reference.monday)
    evaluations["version"] = evaluations["model_version"].map(version_name)
    feedback = reference.clean_feedback(raw["feedback_log"])
    feedback["week"] = feedback["day"].map(reference.monday)
    log = raw["conversation_log"].dropna(subset=["message_id"])
    # A reaction belongs to its message's version; a message logged twice, to the larger name.
    named = log.assign(v=log["model_version"].map(blank_as_null).str.strip()).dropna(subset=["v"])
    versions = named.groupby("message_id")["v"].max()
    feedback["version"] = feedback["message_id"].map(versions).map(version_name)
    return evaluations, feedback


# --- model_version_comparison -------------------------------------------------------------


def wilson(likes: int, trials: int, level: float) -> tuple[float, float]:
    interval = stats.binomtest(likes, trials).proportion_ci(level, method="wilson")
    return interval.low, interval.high


def newcombe(likes_1: int, n_1: int, likes_2: int, n_2: int, level: float) -> tuple[float, float]:
    """Newcombe (1998) method 10: the hybrid score interval of p1 - p2."""
    p_1, p_2 = likes_1 / n_1, likes_2 / n_2
    low_1, high_1 = wilson(likes_1, n_1, level)
    low_2, high_2 = wilson(likes_2, n_2, level)
    return (
        p_1 - p_2 - math.hypot(p_1 - low_1, high_2 - p_2),
        p_1 - p_2 + math.hypot(high_1 - p_1, p_2 - low_2),
    )


def welch_interval(a: np.ndarray, b: np.ndarray, level: float) -> tuple[float, float]:
    """Welch's interval, with the project's documented rule for the t quantile: a
    fractional df below 200 uses the whole df below it (never a narrower interval)."""
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    t = stats.t.ppf((1 + level) / 2, math.floor(df) if df < 200 else df)
    diff = a.mean() - b.mean()
    return diff - t * math.sqrt(va + vb), diff + t * math.sqrt(va + vb)


def expected_baselines(evaluations: pd.DataFrame) -> dict[dt.date, tuple[str, str]]:
    """The default baseline of each week, with how it was chosen, written from the rule."""
    counts = evaluations.groupby(["week", "version"]).size()
    baselines = {}
    for week in sorted({week for week, _ in counts.index}):
        this_week = counts[week]
        before = week - dt.timedelta(days=7)
        last_week = counts[before] if before in counts.index.get_level_values(0) else {}
        candidates = [
            (version == "unknown", -int(last_week.get(version, 0)), -int(n), version)
            for version, n in this_week.items()
        ]
        best = min(candidates)
        baselines[week] = (best[3], "previous_week" if best[1] < 0 else "same_week")
    return baselines


def check_version_comparison(
    rows: list[dict], evaluations: pd.DataFrame, feedback: pd.DataFrame, baseline: str | None
) -> dict[tuple, list[float]]:
    """Every row against the raw data and scipy; returns the week's p-values per metric."""
    level = 1 - ALPHA
    scores = evaluations.groupby(["week", "version"])["score"].apply(np.array).to_dict()
    likes = feedback.groupby(["week", "version"])["label"].apply(lambda s: (s == "like").sum())
    reactions = feedback.groupby(["week", "version"]).size()
    defaults = expected_baselines(evaluations)
    weeks = {week for week, _ in reactions.index} | {week for week, _ in scores}
    versions_of = defaultdict(set)
    for week, version in list(scores) + list(reactions.index):
        versions_of[week].add(version)
    expected_keys = set()
    for week in weeks:
        # With the default rule, a week without evaluations has no baseline and no rows.
        if baseline or week in defaults:
            chosen = baseline or defaults[week][0]
            expected_keys |= {(week, v) for v in versions_of[week] if v != chosen}
    assert {(row["week_start"], row["model_version"]) for row in rows} == expected_keys

    families: dict[tuple, list[tuple[dict, float]]] = defaultdict(list)
    for row in rows:
        week, version = row["week_start"], row["model_version"]
        assert row["baseline_version"] == (baseline or defaults[week][0])
        assert row["baseline_chosen_by"] == ("var" if baseline else defaults[week][1])
        mine = scores.get((week, version), np.array([]))
        theirs = scores.get((week, row["baseline_version"]), np.array([]))
        assert (row["eval_count"], row["baseline_eval_count"]) == (len(mine), len(theirs))
        if len(mine) >= 2 and len(theirs) >= 2:
            welch = stats.ttest_ind(mine, theirs, equal_var=False)
            assert row["score_diff"] == pytest.approx(mine.mean() - theirs.mean(), abs=1e-9)
            assert row["score_diff_p_value"] == pytest.approx(welch.pvalue, abs=1e-6)
            low, high = welch_interval(mine, theirs, level)
            assert row["score_diff_ci_low"] == pytest.approx(low, abs=2e-6)
            assert row["score_diff_ci_high"] == pytest.approx(high, abs=2e-6)
            families[(week, "score")].append((row, welch.pvalue))
        else:
            assert row["score_diff_p_value"] is None and not row["score_diff_significant"]
        n_1 = int(reactions.get((week, version), 0))
        n_2 = int(reactions.get((week, row["baseline_version"]), 0))
        k_1 = int(likes.get((week, version), 0))
        k_2 = int(likes.get((week, row["baseline_version"]), 0))
        assert (row["like_count"], row["feedback_count"]) == (k_1, n_1)
        assert (row["baseline_like_count"], row["baseline_feedback_count"]) == (k_2, n_2)
        if n_1 and n_2 and 0 < k_1 + k_2 < n_1 + n_2:
            assert row["like_ratio_diff_pp"] == pytest.approx(100 * (k_1 / n_1 - k_2 / n_2))
            low, high = newcombe(k_1, n_1, k_2, n_2, level)
            assert row["like_ratio_diff_ci_low_pp"] == pytest.approx(100 * low, abs=2e-6)
            assert row["like_ratio_diff_ci_high_pp"] == pytest.approx(100 * high, abs=2e-6)
            table = [[k_1, n_1 - k_1], [k_2, n_2 - k_2]]
            p = stats.chi2_contingency(table, correction=False).pvalue
            assert row["like_ratio_diff_p_value"] == pytest.approx(p, abs=2e-7)
            families[(week, "like_ratio")].append((row, p))
        else:
            assert row["like_ratio_diff_p_value"] is None
            assert not row["like_ratio_diff_significant"]
        low_volume = min(len(mine), len(theirs), n_1, n_2) < 30
        assert row["is_low_volume"] == low_volume

    for (_, metric), members in families.items():
        q_values = stats.false_discovery_control([p for _, p in members], method="bh")
        for (row, _), q in zip(members, q_values, strict=True):
            assert row[f"{metric}_diff_q_value"] == pytest.approx(q, abs=1e-6)
            assert row[f"{metric}_diff_significant"] == (q <= ALPHA)
            if metric == "score" and row["score_diff_significant"]:
                assert row["score_diff_ci_low"] > 0 or row["score_diff_ci_high"] < 0
    return families


def test_model_version_comparison_matches_scipy(demo_warehouse) -> None:
    raw = read_raw(demo_warehouse)
    evaluations, feedback = cleaned(raw)
    rows = demo_warehouse.mart("model_version_comparison", "week_start, model_version")
    families = check_version_comparison(rows, evaluations, feedback, baseline=None)
    assert len(rows) >= 4 and len(families) >= 6
    assert any(row["baseline_chosen_by"] == "previous_week" for row in rows)


def test_model_version_comparison_with_a_configured_baseline(demo_warehouse) -> None:
    """var baseline_model_version: every week against that version, evaluated or not;
    two versions tested against it in a week are corrected together (Benjamini–Hochberg).
    Computed with `dbt show`, which reads the built warehouse and writes nothing."""
    shown = demo_warehouse.dbt(
        "show",
        "--select",
        "model_version_comparison",
        "--limit",
        "-1",
        "--output",
        "json",
        "--quiet",
        dbt_vars={"baseline_model_version": "chat-v1.1"},
    )
    rows = json.loads(shown.stdout[shown.stdout.index("{") :])["show"]
    for row in rows:
        row["week_start"] = dt.date.fromisoformat(str(row["week_start"])[:10])
        for column, value in row.items():
            if isinstance(value, int) and not isinstance(value, bool) and "count" not in column:
                row[column] = float(value)
    raw = read_raw(demo_warehouse)
    evaluations, feedback = cleaned(raw)
    families = check_version_comparison(rows, evaluations, feedback, baseline="chat-v1.1")
    assert {row["baseline_version"] for row in rows} == {"chat-v1.1"}
    assert any(len(members) >= 2 for members in families.values())
    # Weeks before chat-v1.1 existed compare with nothing: untested, never significant.
    untested = [row for row in rows if row["baseline_eval_count"] == 0]
    assert untested and not any(row["score_diff_significant"] for row in untested)


# --- feedback_score_agreement_weekly and score_feedback_disagreements ----------------------


def responses(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per evaluated and reacted-to response: week, mean score, likes, dislikes."""
    evaluations, feedback = cleaned(raw)
    mean_scores = evaluations.dropna(subset=["message_id"]).groupby("message_id")["score"].mean()
    reacted = feedback.dropna(subset=["message_id"])
    likes = reacted.groupby("message_id")["label"].apply(lambda s: int((s == "like").sum()))
    dislikes = reacted.groupby("message_id")["label"].apply(lambda s: int((s == "dislike").sum()))
    log = raw["conversation_log"].dropna(subset=["message_id", "created_at"])
    first_day = (
        log.assign(day=reference.to_local_date(log["created_at"], "UTC"))
        .groupby("message_id")["day"]
        .min()
    )
    frame = pd.DataFrame({"mean_score": mean_scores.round(4), "likes": likes, "dislikes": dislikes})
    frame = frame.dropna(subset=["mean_score", "likes"]).join(first_day, how="inner")
    frame["week"] = frame["day"].map(reference.monday)
    return frame


def test_feedback_score_agreement_matches_scipy(demo_warehouse) -> None:
    rows = demo_warehouse.mart("feedback_score_agreement_weekly", "week_start, score_band_low")
    check_feedback_score_agreement(rows, read_raw(demo_warehouse))


def check_feedback_score_agreement(rows: list[dict], raw: dict[str, pd.DataFrame]) -> None:
    frame = responses(raw)
    assert {row["week_start"] for row in rows} == set(frame["week"])
    assert len(rows) == 5 * frame["week"].nunique()
    correlated = 0
    for row in rows:
        week = frame[frame["week"] == row["week_start"]]
        low, high = row["score_band_low"], row["score_band_high"]
        assert row["score_band"] == f"{low:g}-{high:g}"
        in_band = week[(week["mean_score"] >= low) & ((week["mean_score"] < high) | (high == 10))]
        likes, dislikes = int(in_band["likes"].sum()), int(in_band["dislikes"].sum())
        assert (row["response_count"], row["like_count"], row["dislike_count"]) == (
            len(in_band),
            likes,
            dislikes,
        )
        if likes + dislikes:
            ci_low, ci_high = wilson(likes, likes + dislikes, 0.95)
            assert row["like_ratio"] == pytest.approx(likes / (likes + dislikes))
            assert row["like_ratio_ci_low"] == pytest.approx(ci_low, abs=1e-6)
            assert row["like_ratio_ci_high"] == pytest.approx(ci_high, abs=1e-6)
        else:
            assert row["like_ratio"] is None and row["like_ratio_ci_low"] is None
        net = week[week["likes"] != week["dislikes"]]
        assert row["correlated_response_count"] == len(net)
        result = stats.pointbiserialr(net["likes"] > net["dislikes"], net["mean_score"])
        assert row["point_biserial_r"] == pytest.approx(result.statistic, abs=1e-6)
        assert row["point_biserial_p_value"] == pytest.approx(result.pvalue, abs=1e-6)
        correlated += 1
    assert correlated >= 20
    # The demo's users like higher scores: every full week shows it.
    assert all(row["point_biserial_r"] > 0.2 for row in rows if row["is_complete_week"])
    # Top bands are liked more than the middle.
    by_band = defaultdict(lambda: [0, 0])
    for row in rows:
        by_band[row["score_band"]][0] += row["like_count"]
        by_band[row["score_band"]][1] += row["feedback_count"]
    assert by_band["8-10"][0] / by_band["8-10"][1] > by_band["4-6"][0] / by_band["4-6"][1]


def test_score_feedback_disagreements_are_the_rule_applied_to_raw_rows(demo_warehouse) -> None:
    rows = demo_warehouse.mart("score_feedback_disagreements")
    check_disagreements(rows, read_raw(demo_warehouse))


def check_disagreements(rows: list[dict], raw: dict[str, pd.DataFrame]) -> None:
    evaluations, feedback = cleaned(raw)
    log = raw["conversation_log"]
    usable = log[
        log["message_id"].notna()
        & log["conversation_id"].notna()
        & log["user_message"].fillna("").str.strip().ne("")
        & log["ai_response"].fillna("").str.strip().ne("")
    ]
    mean_scores = evaluations.dropna(subset=["message_id"]).groupby("message_id")["score"].mean()
    reacted = feedback.dropna(subset=["message_id"])
    likes = reacted.groupby("message_id")["label"].apply(lambda s: int((s == "like").sum()))
    dislikes = reacted.groupby("message_id")["label"].apply(lambda s: int((s == "dislike").sum()))
    expected = {}
    for message_id in set(usable["message_id"]):
        score = mean_scores.get(message_id)
        up, down = int(likes.get(message_id, 0)), int(dislikes.get(message_id, 0))
        if score is None:
            continue
        if round(score, 4) >= GOOD_SCORE and down > up:
            expected[message_id] = "high_score_disliked"
        elif round(score, 4) <= BAD_SCORE and up > down:
            expected[message_id] = "low_score_liked"
    assert {row["message_id"]: row["disagreement"] for row in rows} == expected
    assert expected, "the demo data has disagreements to review"
    texts = usable.set_index("message_id")
    for row in rows:
        assert row["ai_response"] in set(texts.loc[[row["message_id"]], "ai_response"])


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_spark_version_and_feedback_marts_match_scipy(demo_spark) -> None:
    """The same three marts on Apache Spark, read with the raw tables in one process."""
    marts = (
        demo_spark.mart_sql("model_version_comparison", "week_start, model_version"),
        demo_spark.mart_sql("feedback_score_agreement_weekly", "week_start, score_band_low"),
        demo_spark.mart_sql("score_feedback_disagreements"),
    )
    *raw_rows, versions, agreement, disagreements = demo_spark.query_many(
        [f"select * from {demo_spark.raw_schema}.{table}" for table in RAW_TABLES] + list(marts)
    )
    raw = raw_frames(raw_rows)
    evaluations, feedback = cleaned(raw)
    assert check_version_comparison(versions, evaluations, feedback, baseline=None)
    check_feedback_score_agreement(agreement, raw)
    check_disagreements(disagreements, raw)
