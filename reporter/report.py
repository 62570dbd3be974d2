"""The report's shape: dataclasses and pure functions (which week, low volume, baseline).

Every number comes from the `weekly_performance` mart as it is; nothing here computes a
statistic. The functions only decide what to show: the week, whether there is a baseline
to compare with, and whether the week has enough evaluations to call a change a trend.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import Enum

from reporter.errors import UserError

DEFAULT_MIN_N = 30
WEEK_LABEL = re.compile(r"^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$")


@dataclass(frozen=True)
class WeekFigures:
    """One row of `weekly_performance` (see models/marts/_marts.yml for each column)."""

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


class Trend(Enum):
    """How the score change may be presented."""

    IMPROVED = "improved"
    REGRESSED = "regressed"
    UNCHANGED = "unchanged"
    NO_BASELINE = "no_baseline"  # no previous week, or it had no evaluations
    LOW_VOLUME = "low_volume"  # too few evaluations to call it a trend


@dataclass(frozen=True)
class Report:
    """What the weekly message says, before any wording or formatting."""

    week: WeekFigures
    generated_at: dt.datetime  # timezone-aware
    min_n: int = DEFAULT_MIN_N

    @property
    def is_low_volume(self) -> bool:
        """This week, or the week it is compared with, has fewer than `min_n` evaluations."""
        return self.week.eval_count < self.min_n or (
            self.has_baseline and self.week.prev_eval_count < self.min_n
        )

    @property
    def has_baseline(self) -> bool:
        return self.week.prev_eval_count > 0 and self.week.prev_avg_score is not None

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
        return Trend.IMPROVED if change > 0 else Trend.REGRESSED


def parse_week_label(value: str) -> str:
    """Validate a `--week` value such as 2026-W01."""
    text = value.strip().upper()
    if not WEEK_LABEL.match(text):
        raise UserError(f"--week must look like 2026-W01, not {value!r}")
    return text


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
        for week in weeks:
            if week.week_label == label:
                return week
        known = f"{weeks[0].week_label} to {weeks[-1].week_label}"
        raise UserError(f"week {label} is not in weekly_performance (it has {known})")
    if as_of is None:
        complete = [week for week in weeks if week.is_complete_week]
        condition = "is complete yet"
    else:
        complete = [week for week in weeks if week.week_end < as_of]
        condition = f"ended before {as_of.isoformat()}"
    if not complete:
        raise UserError(
            f"no week in weekly_performance {condition} (the first is {weeks[0].week_label}); "
            "pass --week to report a partial week"
        )
    return max(complete, key=lambda week: week.week_start)
