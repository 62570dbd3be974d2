"""Typed reads of the marts, through the one connection config (reporter.warehouse)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any

from reporter.report import (
    JudgeAgreement,
    QuarantineFigures,
    SegmentFigures,
    VersionFigures,
    WeekFigures,
)
from reporter.warehouse import WarehouseConfig, as_date, fetch_all

WEEK_COLUMNS = tuple(field.name for field in fields(WeekFigures))
_INT_COLUMNS = {
    "iso_year",
    "iso_week",
    "eval_count",
    "prev_eval_count",
    "like_count",
    "dislike_count",
    "feedback_count",
    "prev_feedback_count",
    "quarantined_count",
    "pair_count",
}
_BOOL_COLUMNS = {
    "is_complete_week",
    "score_change_significant",
    "like_ratio_change_significant",
    "is_low_volume",
    "score_diff_significant",
    "like_ratio_diff_significant",
    "judge_bias_change_significant",
}
_TEXT_COLUMNS = {
    "week_label",
    "segment_type",
    "segment_value",
    "same_rows_as_model_version",
    "model_version",
    "baseline_version",
}
_DATE_COLUMNS = {"week_start", "week_end"}


def _typed(column: str, value: Any) -> Any:
    # Drivers differ (Decimal, numpy, datetime): one Python type per column for the report.
    if value is None:
        return None
    if column in _INT_COLUMNS:
        return int(value)
    if column in _DATE_COLUMNS:
        return value.date() if isinstance(value, dt.datetime) else value
    if column in _TEXT_COLUMNS:
        return str(value)
    if column in _BOOL_COLUMNS:
        return bool(value)
    return float(value)


def week_from_row(row: dict[str, Any]) -> WeekFigures:
    return WeekFigures(**{column: _typed(column, row[column]) for column in WEEK_COLUMNS})


def read_weekly_performance(config: WarehouseConfig) -> list[WeekFigures]:
    """Every row of weekly_performance, oldest week first."""
    columns = ", ".join(WEEK_COLUMNS)
    rows = fetch_all(
        config,
        f"select {columns} from {config.relation('weekly_performance')} order by week_start",
    )
    return [week_from_row(row) for row in rows]


def _rows_of_week(
    config: WarehouseConfig, mart: str, kind: type, week_start: dt.date, where: str, order_by: str
) -> list:
    """The rows of one week of a mart, as `kind` (a dataclass named after its columns)."""
    columns = [field.name for field in fields(kind)]
    rows = fetch_all(
        config,
        f"select {', '.join(columns)} from {config.relation(mart)} "
        f"where week_start = cast('{week_start.isoformat()}' as date){where} order by {order_by}",
    )
    return [kind(**{column: _typed(column, row[column]) for column in columns}) for row in rows]


def read_versions(config: WarehouseConfig, week_start: dt.date) -> list[VersionFigures]:
    """The rows of model_version_comparison for one week."""
    return _rows_of_week(
        config, "model_version_comparison", VersionFigures, week_start, "", "model_version"
    )


def read_agreement(config: WarehouseConfig, week_start: dt.date) -> JudgeAgreement | None:
    """The service row of judge_agreement_weekly for one week; None without matched pairs."""
    rows = _rows_of_week(
        config,
        "judge_agreement_weekly",
        JudgeAgreement,
        week_start,
        " and segment_type = 'service'",
        "pair_count",
    )
    return rows[0] if rows else None


@dataclass(frozen=True)
class AgreementWeek:
    """One row of `judge_agreement_weekly`, for the dashboard's judge-vs-human view."""

    week_start: dt.date
    week_label: str
    segment_type: str
    segment_value: str
    pair_count: int
    judge_bias: float | None
    judge_bias_ci_low: float | None
    judge_bias_ci_high: float | None
    agreement_limit_low: float | None
    agreement_limit_high: float | None
    quadratic_weighted_kappa: float | None
    krippendorff_alpha: float | None
    spearman_rho: float | None
    judge_bias_change_significant: bool
    is_low_volume: bool


@dataclass(frozen=True)
class VersionWeek:
    """One row of `model_version_comparison`, for the dashboard's model-version table."""

    week_start: dt.date
    week_label: str
    model_version: str
    baseline_version: str
    eval_count: int
    avg_score: float | None
    score_diff: float | None
    score_diff_ci_low: float | None
    score_diff_ci_high: float | None
    score_diff_q_value: float | None
    score_diff_significant: bool
    feedback_count: int
    like_ratio: float | None
    like_ratio_diff_pp: float | None
    like_ratio_diff_ci_low_pp: float | None
    like_ratio_diff_ci_high_pp: float | None
    like_ratio_diff_significant: bool
    is_low_volume: bool


def read_rows(config: WarehouseConfig, mart: str, kind: type, order_by: str) -> list:
    """Every row of a mart, as `kind` (a dataclass named after the columns it reads)."""
    columns = [field.name for field in fields(kind)]
    rows = fetch_all(
        config, f"select {', '.join(columns)} from {config.relation(mart)} order by {order_by}"
    )
    return [kind(**{column: _typed(column, row[column]) for column in columns}) for row in rows]


SEGMENT_COLUMNS = tuple(field.name for field in fields(SegmentFigures))


def read_segments(config: WarehouseConfig, week_start: dt.date) -> list[SegmentFigures]:
    """The rows of weekly_segment_performance for one week."""
    columns = ", ".join(SEGMENT_COLUMNS)
    rows = fetch_all(
        config,
        f"select {columns} from {config.relation('weekly_segment_performance')} "
        f"where week_start = cast('{week_start.isoformat()}' as date) "
        "order by segment_type, segment_value",
    )
    return [
        SegmentFigures(**{column: _typed(column, row[column]) for column in SEGMENT_COLUMNS})
        for row in rows
    ]


@dataclass(frozen=True)
class SegmentWeek:
    """One row of `weekly_segment_performance`, for the dashboard's per-segment view."""

    week_start: dt.date
    week_label: str
    segment_type: str
    segment_value: str
    eval_count: int
    avg_score: float | None
    avg_score_ci_low: float | None
    avg_score_ci_high: float | None
    prev_eval_count: int
    score_change: float | None
    score_change_ci_low: float | None
    score_change_ci_high: float | None
    score_change_significant: bool
    feedback_count: int
    like_ratio: float | None
    like_ratio_change_pp: float | None
    like_ratio_change_significant: bool
    is_low_volume: bool
    same_rows_as_model_version: str | None


_SEGMENT_WEEK_INTS = {"eval_count", "prev_eval_count", "feedback_count"}


def read_segment_weeks(config: WarehouseConfig) -> list[SegmentWeek]:
    """Every row of weekly_segment_performance, by week, then segment."""
    names = [field.name for field in fields(SegmentWeek)]
    rows = fetch_all(
        config,
        f"select {', '.join(names)} from {config.relation('weekly_segment_performance')} "
        "order by week_start, segment_type, segment_value",
    )

    def typed(column: str, value: Any) -> Any:
        if value is not None and column in _SEGMENT_WEEK_INTS:
            return int(value)
        return _typed(column, value)

    return [SegmentWeek(**{name: typed(name, row[name]) for name in names}) for row in rows]


TOP_REASONS = 3


def read_quarantine(config: WarehouseConfig, week: WeekFigures) -> QuarantineFigures:
    """A week's quarantined rows, their share of the raw rows and the top reasons.

    Raw rows of the week, as the balance test (tests/assert_every_raw_row_is_accounted_for)
    counts them: the rows counted in weekly_performance, plus the rows set aside by rule and
    the rows quarantined, from data_quality_daily. A repaired row (a dimension out of range)
    is already among the counted ones.
    """
    start, end = week.week_start.isoformat(), week.week_end.isoformat()
    in_week = f"quality_date between cast('{start}' as date) and cast('{end}' as date)"
    quality = config.relation("data_quality_daily")
    totals = fetch_all(
        config,
        "with this_week as ("
        " select eval_count + feedback_count + quarantined_count as counted_count,"
        " quarantined_count"
        f" from {config.relation('weekly_performance')}"
        f" where week_start = cast('{start}' as date)"
        "), set_aside as ("
        " select coalesce(sum(row_count), 0) as set_aside_count"
        f" from {quality} where {in_week}"
        " and not is_quarantined and issue <> 'dimension_out_of_range'"
        ") select counted_count + set_aside_count as raw_row_count, quarantined_count,"
        " case when counted_count + set_aside_count > 0 then"
        " round(100.0 * quarantined_count / (counted_count + set_aside_count), 1) end"
        " as quarantined_pct"
        " from this_week cross join set_aside",
    )
    reasons = fetch_all(
        config,
        f"select issue, sum(row_count) as row_count from {quality}"
        f" where {in_week} and is_quarantined"
        f" group by issue order by row_count desc, issue limit {TOP_REASONS}",
    )
    if not totals:
        return QuarantineFigures(0, 0, None)
    row = totals[0]
    return QuarantineFigures(
        raw_row_count=int(row["raw_row_count"]),
        quarantined_count=int(row["quarantined_count"]),
        quarantined_pct=_float(row["quarantined_pct"]),
        top_reasons=tuple((str(r["issue"]), int(r["row_count"])) for r in reasons),
    )


@dataclass(frozen=True)
class DayScores:
    """One row of `daily_scores` (models/marts/daily_scores.yml)."""

    score_date: dt.date
    eval_count: int
    avg_score: float
    avg_accuracy: float | None
    avg_consistency: float | None
    avg_emotion_match: float | None


@dataclass(frozen=True)
class DayFeedback:
    """One row of `daily_feedback`."""

    feedback_date: dt.date
    like_count: int
    dislike_count: int
    feedback_count: int
    like_ratio: float


@dataclass(frozen=True)
class QualityCount:
    """One row of `data_quality_daily`: rows of one raw table with one issue on one day."""

    quality_date: dt.date | None  # None for rows without created_at
    source_table: str
    issue: str
    is_quarantined: bool
    row_count: int


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def read_daily_scores(config: WarehouseConfig) -> list[DayScores]:
    """Every row of daily_scores, oldest day first."""
    rows = fetch_all(
        config,
        "select score_date, eval_count, avg_score, avg_accuracy, avg_consistency, "
        f"avg_emotion_match from {config.relation('daily_scores')} order by score_date",
    )
    return [
        DayScores(
            score_date=as_date(row["score_date"]),
            eval_count=int(row["eval_count"]),
            avg_score=float(row["avg_score"]),
            avg_accuracy=_float(row["avg_accuracy"]),
            avg_consistency=_float(row["avg_consistency"]),
            avg_emotion_match=_float(row["avg_emotion_match"]),
        )
        for row in rows
    ]


def read_daily_feedback(config: WarehouseConfig) -> list[DayFeedback]:
    """Every row of daily_feedback, oldest day first."""
    rows = fetch_all(
        config,
        "select feedback_date, like_count, dislike_count, feedback_count, like_ratio "
        f"from {config.relation('daily_feedback')} order by feedback_date",
    )
    return [
        DayFeedback(
            feedback_date=as_date(row["feedback_date"]),
            like_count=int(row["like_count"]),
            dislike_count=int(row["dislike_count"]),
            feedback_count=int(row["feedback_count"]),
            like_ratio=float(row["like_ratio"]),
        )
        for row in rows
    ]


def read_data_quality_daily(config: WarehouseConfig) -> list[QualityCount]:
    """Every row of data_quality_daily; rows without a date last."""
    rows = fetch_all(
        config,
        "select quality_date, source_table, issue, is_quarantined, row_count "
        f"from {config.relation('data_quality_daily')} "
        "order by quality_date nulls last, source_table, issue",
    )
    return [
        QualityCount(
            quality_date=as_date(row["quality_date"]),
            source_table=str(row["source_table"]),
            issue=str(row["issue"]),
            is_quarantined=bool(row["is_quarantined"]),
            row_count=int(row["row_count"]),
        )
        for row in rows
    ]
