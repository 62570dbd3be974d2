"""Hand-written weeks for the pure tests: the numbers of the team's original message."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from reporter.report import Report, WeekFigures

KST = dt.timezone(dt.timedelta(hours=9), "KST")
GENERATED_AT = dt.datetime(2026, 1, 5, 9, 0, tzinfo=KST)

WEEK = WeekFigures(
    week_start=dt.date(2025, 12, 29),
    week_end=dt.date(2026, 1, 4),
    iso_year=2026,
    iso_week=1,
    week_label="2026-W01",
    eval_count=3412,
    avg_score=8.3,
    stddev_score=1.21,
    avg_accuracy=8.14,
    avg_consistency=8.27,
    avg_emotion_match=7.91,
    prev_eval_count=3105,
    prev_avg_score=7.5,
    score_change_pct=10.666666666666667,
    like_count=52,
    dislike_count=11,
    feedback_count=63,
    like_ratio=0.8253968253968254,
    prev_feedback_count=60,
    prev_like_ratio=0.7833333333333333,
    like_ratio_change_pp=4.206349206349206,
    quarantined_count=12,
    is_complete_week=True,
    confidence_level=0.95,
    avg_score_ci_low=8.259377,
    avg_score_ci_high=8.340623,
    like_ratio_ci_low=0.713786,
    like_ratio_ci_high=0.899606,
    score_change_p_value=1.2e-150,
    score_change_significant=True,
    like_ratio_change_p_value=0.556257,
    like_ratio_change_significant=False,
    is_low_volume=False,
)


def week(**changes: Any) -> WeekFigures:
    return replace(WEEK, **changes)


def report(previous: WeekFigures | None = None, **changes: Any) -> Report:
    return Report(week=week(**changes), generated_at=GENERATED_AT, previous=previous)


NO_BASELINE = {
    "prev_eval_count": 0,
    "prev_avg_score": None,
    "score_change_pct": None,
    "prev_feedback_count": 0,
    "prev_like_ratio": None,
    "like_ratio_change_pp": None,
}
