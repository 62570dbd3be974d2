"""The report's shape: dataclasses and pure functions (which week, baseline, wording).

Every number and flag comes from the marts as it is; nothing here computes a statistic or
sets a threshold. Low volume is the mart's `is_low_volume` (dbt var min_n), of the week
and of the week it is compared with.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import Enum

from reporter.errors import NoDataError, UserError

WEEK_LABEL = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class WeekFigures:
    """One row of `weekly_performance` (see models/marts/weekly_performance.yml for each column)."""

    week_start: dt.date
    week_end: dt.date
    iso_year: int
    iso_week: int
    week_label: str
    eval_count: int
    avg_score: float | None
    stddev_score: float | None
    avg_accuracy: float | None
    avg_consistency: float | None
    avg_emotion_match: float | None
    prev_eval_count: int
    prev_avg_score: float | None
    score_change_pct: float | None
    like_count: int
    dislike_count: int
    feedback_count: int
    like_ratio: float | None
    prev_feedback_count: int
    prev_like_ratio: float | None
    like_ratio_change_pp: float | None
    quarantined_count: int
    is_complete_week: bool
    # Intervals and tests (issue 7). Defaults keep hand-built weeks short; reads fill them all.
    confidence_level: float = 0.95
    avg_score_ci_low: float | None = None
    avg_score_ci_high: float | None = None
    like_ratio_ci_low: float | None = None
    like_ratio_ci_high: float | None = None
    score_change_p_value: float | None = None
    score_change_significant: bool = False
    like_ratio_change_p_value: float | None = None
    like_ratio_change_significant: bool = False
    is_low_volume: bool = False
    # The smallest change this week's and last week's samples could detect (issue 15).
    score_mde: float | None = None
    like_ratio_mde_pp: float | None = None


@dataclass(frozen=True)
class SegmentFigures:
    """One row of `weekly_segment_performance` (see models/marts/weekly_segment_performance.yml)."""

    week_start: dt.date
    segment_type: str
    segment_value: str
    eval_count: int
    prev_eval_count: int
    score_change: float | None
    score_change_ci_low: float | None
    score_change_ci_high: float | None
    score_change_significant: bool
    feedback_count: int
    prev_feedback_count: int
    like_ratio_change_pp: float | None
    like_ratio_change_ci_low_pp: float | None
    like_ratio_change_ci_high_pp: float | None
    like_ratio_change_significant: bool
    # For an evaluator whose rows are exactly a model version's (the mart decides).
    same_rows_as_model_version: str | None = None


@dataclass(frozen=True)
class Mover:
    """A segment whose score or like ratio changed significantly, with its interval."""

    segment_type: str
    segment_value: str
    metric: str  # "score" (points) or "like_ratio" (percentage points)
    change: float
    ci_low: float
    ci_high: float
    n: int
    prev_n: int
    # Segments holding the same rows as this one, shown once: (("evaluator", "llm_judge"),)
    same_rows: tuple[tuple[str, str], ...] = ()

    @property
    def conservative_bound(self) -> float:
        """The end of the interval nearest to zero: how large the change surely is."""
        return self.ci_low if self.change > 0 else self.ci_high

    @property
    def strength(self) -> float:
        """The conservative bound as a share of the metric's range (10 points, 100 pp)."""
        bound = self.conservative_bound
        if (bound > 0) != (self.change > 0):
            return 0.0
        return abs(bound) / (10.0 if self.metric == "score" else 100.0)


MAX_MOVERS = 3


def select_movers(segments: list[SegmentFigures], limit: int = MAX_MOVERS) -> tuple[Mover, ...]:
    """The significant segment changes, strongest conservative bound first.

    Ranking by the bound nearest to zero, not by the change itself, keeps a segment with
    a handful of ratings (a wide interval) from topping the list. An evaluator that holds
    exactly a model version's rows (the mart's `same_rows_as_model_version`) is not listed
    again: the model version's line names it.
    """
    twins: dict[str, list[tuple[str, str]]] = {}
    for segment in segments:
        if segment.same_rows_as_model_version is not None:
            twins.setdefault(segment.same_rows_as_model_version, []).append(
                (segment.segment_type, segment.segment_value)
            )
    movers = []
    for segment in segments:
        if segment.same_rows_as_model_version is not None:
            continue
        same_rows = (
            tuple(twins.get(segment.segment_value, ()))
            if segment.segment_type == "model_version"
            else ()
        )
        checks = (
            (
                "score",
                segment.score_change_significant,
                segment.score_change,
                segment.score_change_ci_low,
                segment.score_change_ci_high,
                segment.eval_count,
                segment.prev_eval_count,
            ),
            (
                "like_ratio",
                segment.like_ratio_change_significant,
                segment.like_ratio_change_pp,
                segment.like_ratio_change_ci_low_pp,
                segment.like_ratio_change_ci_high_pp,
                segment.feedback_count,
                segment.prev_feedback_count,
            ),
        )
        for metric, significant, change, low, high, n, prev_n in checks:
            if significant and change is not None and low is not None and high is not None:
                mover = Mover(
                    segment.segment_type,
                    segment.segment_value,
                    metric,
                    change,
                    low,
                    high,
                    n,
                    prev_n,
                    same_rows,
                )
                if mover.strength > 0:
                    movers.append(mover)
    movers.sort(key=lambda m: (-m.strength, m.segment_type, m.segment_value, m.metric))
    return tuple(movers[:limit])


@dataclass(frozen=True)
class VersionFigures:
    """One row of `model_version_comparison`: a model version against the week's baseline
    version, on the same week's traffic (see models/marts/model_version_comparison.yml)."""

    model_version: str
    baseline_version: str
    score_diff: float | None
    score_diff_ci_low: float | None
    score_diff_ci_high: float | None
    score_diff_significant: bool
    like_ratio_diff_pp: float | None
    like_ratio_diff_ci_low_pp: float | None
    like_ratio_diff_ci_high_pp: float | None
    like_ratio_diff_significant: bool
    is_low_volume: bool


@dataclass(frozen=True)
class VersionDifference:
    """A model version that differs significantly from the baseline version of the week."""

    model_version: str
    baseline_version: str
    metric: str  # "score" (points) or "like_ratio" (percentage points)
    difference: float
    ci_low: float
    ci_high: float


def version_differences(versions: list[VersionFigures]) -> tuple[VersionDifference, ...]:
    """The significant differences the mart found (Benjamini–Hochberg over the week's
    versions), score before like ratio; none for a low-volume comparison."""
    found = []
    for row in versions:
        if row.is_low_volume or row.model_version == row.baseline_version:
            continue
        for metric, significant, diff, low, high in (
            (
                "score",
                row.score_diff_significant,
                row.score_diff,
                row.score_diff_ci_low,
                row.score_diff_ci_high,
            ),
            (
                "like_ratio",
                row.like_ratio_diff_significant,
                row.like_ratio_diff_pp,
                row.like_ratio_diff_ci_low_pp,
                row.like_ratio_diff_ci_high_pp,
            ),
        ):
            if significant and None not in (diff, low, high):
                found.append(
                    VersionDifference(
                        row.model_version, row.baseline_version, metric, diff, low, high
                    )
                )
    found.sort(key=lambda d: (d.metric != "score", d.model_version))
    return tuple(found)


@dataclass(frozen=True)
class JudgeAgreement:
    """The service row of `judge_agreement_weekly` for the report's week: how the LLM judge's
    scores agree with human scores of the same responses."""

    pair_count: int
    judge_bias: float | None
    judge_bias_ci_low: float | None
    judge_bias_ci_high: float | None
    quadratic_weighted_kappa: float | None
    judge_bias_change_significant: bool
    is_low_volume: bool


@dataclass(frozen=True)
class QuarantineFigures:
    """A week's quarantined rows against the raw rows that arrived (reads.read_quarantine)."""

    raw_row_count: int  # raw evaluation and reaction rows dated in the week
    quarantined_count: int
    quarantined_pct: float | None  # None when no raw row arrived
    top_reasons: tuple[tuple[str, int], ...] = ()  # (reason, rows), most rows first


def comparison_is_low_volume(week: WeekFigures, previous: WeekFigures | None) -> bool:
    """The mart flags the week, or the week it is compared with, as low volume: a change
    between them is not called a trend."""
    return week.is_low_volume or (
        has_baseline(week) and previous is not None and previous.is_low_volume
    )


def has_baseline(week: WeekFigures) -> bool:
    return week.prev_eval_count > 0 and week.prev_avg_score is not None


class Trend(Enum):
    """How the score change may be presented."""

    IMPROVED = "improved"
    REGRESSED = "regressed"
    UNCHANGED = "unchanged"
    NOT_SIGNIFICANT = "not_significant"  # within what noise explains (Welch's test)
    NO_BASELINE = "no_baseline"  # no previous week, or it had no evaluations
    LOW_VOLUME = "low_volume"  # too few evaluations to call it a trend


@dataclass(frozen=True)
class Report:
    """What the weekly message says, before any wording or formatting."""

    week: WeekFigures
    generated_at: dt.datetime  # timezone-aware
    previous: WeekFigures | None = None  # the mart's row of the calendar week before
    min_n: int = 30  # var('min_n') the marts were built with: shown, never compared here
    movers: tuple[Mover, ...] = ()
    quarantine: QuarantineFigures | None = None
    versions: tuple[VersionDifference, ...] = ()
    agreement: JudgeAgreement | None = None  # None: no matched pair in the week

    @property
    def is_low_volume(self) -> bool:
        return comparison_is_low_volume(self.week, self.previous)

    @property
    def has_baseline(self) -> bool:
        return has_baseline(self.week)

    @property
    def trend(self) -> Trend:
        change = self.week.score_change_pct
        if not self.has_baseline or change is None:
            return Trend.NO_BASELINE
        if self.is_low_volume:
            return Trend.LOW_VOLUME
        # The change is shown with one decimal: what rounds to 0.0 is no change.
        if round(change, 1) == 0:
            return Trend.UNCHANGED
        if not self.week.score_change_significant:
            return Trend.NOT_SIGNIFICANT
        return Trend.IMPROVED if change > 0 else Trend.REGRESSED

    @property
    def like_ratio_regressed(self) -> bool:
        """The like ratio dropped significantly, and neither week is low volume."""
        week = self.week
        return (
            week.like_ratio_change_significant
            and week.like_ratio_change_pp is not None
            and week.like_ratio_change_pp < 0
            and not self.is_low_volume
        )

    @property
    def regressions(self) -> tuple[str, ...]:
        """The metrics that dropped significantly: what the message leads with."""
        found = ("score",) if self.trend is Trend.REGRESSED else ()
        return found + (("like_ratio",) if self.like_ratio_regressed else ())


def parse_week_label(value: str) -> str:
    """Validate a `--week` value such as 2026-W01, including that the week exists."""
    text = value.strip().upper()
    match = WEEK_LABEL.match(text)
    if not match:
        raise UserError(f"--week must look like 2026-W01 (year, W, two-digit week), not {value!r}")
    year, number = int(match.group(1)), int(match.group(2))
    weeks_in_year = dt.date(year, 12, 28).isocalendar()[1]  # 28 December is in the last week
    if not 1 <= number <= weeks_in_year:
        raise UserError(
            f"--week {text}: week {number} does not exist in {year}, whose ISO weeks are "
            f"W01 to W{weeks_in_year}"
        )
    return text


def previous_week(weeks: list[WeekFigures], week: WeekFigures) -> WeekFigures | None:
    """The mart's row of the calendar week before `week` (None for the first week)."""
    before = week.week_start - dt.timedelta(days=7)
    return next((other for other in weeks if other.week_start == before), None)


def _has_data(week: WeekFigures) -> bool:
    return week.eval_count > 0 or week.feedback_count > 0


def select_week(
    weeks: list[WeekFigures], week_label: str | None = None, as_of: dt.date | None = None
) -> WeekFigures:
    """The week to report: the one asked for, else the latest complete week.

    Without `as_of`, "complete" is the mart's `is_complete_week` (set by `dbt build`).
    With `as_of`, it is a week that ended before that date, for reproducible runs.
    """
    if not weeks:
        raise UserError("weekly_performance is empty: no valid evaluation or reaction yet")
    if week_label is not None:
        label = parse_week_label(week_label)
        known = f"{weeks[0].week_label} to {weeks[-1].week_label}"
        for week in weeks:
            if week.week_label == label:
                if not _has_data(week):
                    raise NoDataError(
                        f"week {label} has no valid evaluation or reaction, so there is nothing "
                        f"to report; pass another --week (weekly_performance has {known})"
                    )
                return week
        raise NoDataError(f"week {label} is not in weekly_performance; pass a --week from {known}")
    if as_of is None:
        complete = [week for week in weeks if week.is_complete_week]
        condition = "is complete yet"
    else:
        complete = [week for week in weeks if week.week_end < as_of]
        condition = f"ended before {as_of.isoformat()}"
    complete = [week for week in complete if _has_data(week)]
    if not complete:
        raise NoDataError(
            f"no week in weekly_performance {condition} (the first is {weeks[0].week_label}); "
            "pass --week to report a partial week"
        )
    return max(complete, key=lambda week: week.week_start)
