"""Typed reads of the marts, through the one connection config (reporter.warehouse)."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from typing import Any

from reporter.report import WeekFigures
from reporter.warehouse import WarehouseConfig, fetch_all

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
    if column == "week_label":
        return str(value)
    if column == "is_complete_week":
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
