"""The dashboard's chart builders, without Streamlit: a frame in, an Altair chart out."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboards import charts
from reporter.reads import DayFeedback


def layer_data(layer) -> pd.DataFrame:
    return layer.data if isinstance(layer.data, pd.DataFrame) else pd.DataFrame()


def weeks_frame() -> pd.DataFrame:
    starts = [dt.date(2026, 1, 5) + dt.timedelta(days=7 * i) for i in range(4)]
    return pd.DataFrame(
        {
            "week_start": pd.to_datetime(starts),
            "week_label": ["2026-W02", "2026-W03", "2026-W04", "2026-W05"],
            "avg_score": [7.0, 7.5, 6.0, 6.2],
            "score_change_pct": [None, 7.1, -20.0, 3.3],
            "score_change_significant": [False, False, True, None],
            "score_change_p_value": [None, 0.2, 0.001, 0.5],
            "period": [charts.COMPLETE] * 3 + [charts.PARTIAL],
        }
    )


def test_change_markers_ring_only_significant_weeks_with_their_direction():
    marked = charts.significant_changes(
        weeks_frame(), "score_change_significant", "score_change_pct"
    )
    assert list(marked["week_label"]) == ["2026-W04"]
    assert list(marked["direction"]) == ["down"]


def test_the_dashed_line_starts_at_the_last_complete_week():
    complete, partial = charts.period_lines(weeks_frame(), charts.alt.Y("avg_score:Q")).layer
    assert list(layer_data(complete)["week_label"]) == ["2026-W02", "2026-W03", "2026-W04"]
    assert list(layer_data(partial)["week_label"]) == ["2026-W04", "2026-W05"]


def test_days_below_the_threshold_are_off_the_daily_line():
    days = [
        DayFeedback(dt.date(2026, 1, 5), 40, 10, 50, 0.8),
        DayFeedback(dt.date(2026, 1, 6), 1, 0, 1, 1.0),
        DayFeedback(dt.date(2026, 1, 7), 30, 20, 50, 0.6),
    ]
    line, points = charts.daily_feedback_chart(days, threshold=30).layer
    on_line = layer_data(line)["feedback_date"].dt.date.tolist()
    assert on_line == [dt.date(2026, 1, 5), dt.date(2026, 1, 7)]
    shown = layer_data(points)
    volumes = dict(zip(shown["feedback_count"], shown["day_volume"], strict=True))
    assert volumes[1] == "fewer than 30 reactions (not a trend)"
    assert volumes[50] == "30 reactions or more"
