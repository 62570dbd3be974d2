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


def tooltip_fields(chart) -> set[str]:
    spec = chart.to_dict()
    layers = spec.get("layer", [spec])
    found = set()
    for layer in layers:
        tooltip = layer.get("encoding", {}).get("tooltip", [])
        found |= {item["field"] for item in tooltip if isinstance(item, dict)}
    return found


def test_the_score_and_like_ratio_tooltips_say_what_the_week_could_detect():
    from report_examples import WEEK

    frame = weeks_frame().assign(
        eval_count=100,
        volume=charts.ENOUGH,
        avg_score_ci_low=6.0,
        avg_score_ci_high=8.0,
        score_mde=0.3,
        like_ratio=0.5,
        like_ratio_change_pp=1.0,
        feedback_count=80,
        like_ratio_ci_low=0.4,
        like_ratio_ci_high=0.6,
        like_ratio_change_significant=False,
        like_ratio_mde_pp=9.0,
        like_ratio_change_p_value=0.5,
        like_count=40,
        dislike_count=40,
    )
    assert "score_mde" in tooltip_fields(charts.weekly_score_chart(frame, WEEK))
    like_points = charts.like_ratio_layers(frame)[3]
    assert "like_ratio_mde_pp" in tooltip_fields(like_points)


def test_the_judge_bias_chart_draws_the_bias_its_interval_and_the_limits_of_agreement():
    frame = pd.DataFrame(
        {
            "week_start": pd.to_datetime([dt.date(2026, 1, 5), dt.date(2026, 1, 12)]),
            "week_label": ["2026-W02", "2026-W03"],
            "pair_count": [120, 130],
            "judge_bias": [0.3, 0.25],
            "judge_bias_ci_low": [0.2, 0.15],
            "judge_bias_ci_high": [0.4, 0.35],
            "agreement_limit_low": [-0.9, -1.0],
            "agreement_limit_high": [1.5, 1.5],
            "quadratic_weighted_kappa": [0.85, 0.87],
            "krippendorff_alpha": [0.84, 0.86],
            "spearman_rho": [0.8, 0.82],
        }
    )
    spec = charts.judge_bias_chart(frame).to_dict()
    encoded = [
        (
            layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"],
            layer["encoding"]["y"]["field"],
        )
        for layer in spec["layer"]
    ]
    assert ("area", "judge_bias_ci_low") in encoded
    assert ("line", "agreement_limit_low") in encoded and (
        "line",
        "agreement_limit_high",
    ) in encoded
    assert ("line", "judge_bias") in encoded and ("rule", "zero") in encoded
    assert {"quadratic_weighted_kappa", "pair_count"} <= tooltip_fields(
        charts.judge_bias_chart(frame)
    )
