"""The dashboard in Streamlit's own test harness (AppTest), on the demo warehouse.

The app reads the same dbt profile as everything else: the tests point DBT_PROFILES_DIR
and DBT_TARGET at a test warehouse. Charts are checked through the data Streamlit hands to
Vega-Lite, so "the chart shows the mart's numbers" means exactly that.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import fake_slack
import pandas as pd
import pyarrow as pa
import pytest
import streamlit as st
import warehouses
from fake_slack import FakeSlack
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from reporter.reads import read_weekly_performance
from reporter.report import comparison_is_low_volume, previous_week
from reporter.service import ReportRequest, preview_report


def weeks_of(warehouse: warehouses.TestWarehouse) -> list[dict[str, Any]]:
    return warehouse.mart("weekly_performance", "week_start")


def latest_complete(weeks: list[dict[str, Any]]) -> dict[str, Any]:
    return [week for week in weeks if week["is_complete_week"]][-1]


def charts(app: AppTest, tab: int) -> list[Any]:
    return list(app.tabs[tab].get("vega_lite_chart"))


def layers(chart: Any) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    """Each layer's Vega-Lite spec with the data frame Streamlit sent for it."""
    frames = {
        dataset.name: pa.ipc.open_stream(dataset.data.data).read_all().to_pandas()
        for dataset in chart.proto.datasets
    }
    spec = json.loads(chart.proto.spec)
    return [
        (layer, frames[(layer.get("data") or spec["data"])["name"]])
        for layer in spec.get("layer", [spec])
    ]


def records(frame: pd.DataFrame, *columns: str) -> list[tuple[Any, ...]]:
    picked = frame[list(columns)].astype(object).where(frame[list(columns)].notna(), None)
    return [tuple(row) for row in picked.itertuples(index=False)]


def metric(app: AppTest, label_start: str) -> Any:
    found = [m for m in app.metric if m.label.startswith(label_start)]
    assert len(found) == 1, [m.label for m in app.metric]
    return found[0]


def metric_color(element: Any) -> str:
    return MetricProto.MetricColor.Name(element.proto.color)


def charts_module() -> Any:
    """The app's chart functions, imported without Streamlit."""
    return importlib.import_module("dashboards.charts")


def test_ai_performance_tab_charts_the_marts_weekly_and_daily_scores(open_app, demo_warehouse):
    app = open_app(demo_warehouse)
    assert [tab.label for tab in app.tabs] == [
        "AI Performance",
        "Feedback",
        "Quality dimensions",
        "By model and evaluator",
        "Data quality",
        "Judge vs human",
    ]
    weekly_chart, daily_chart = charts(app, 0)

    weeks = weeks_of(demo_warehouse)
    (
        (band, band_data),
        (line, complete_data),
        (dashed, partial_data),
        (points, line_data),
        (rings, ring_data),
        (rule, rule_data),
    ) = layers(weekly_chart)
    assert line["mark"]["type"] == "line" and points["mark"]["type"] == "point"
    # Complete weeks on the solid line; the dashed one runs from the last complete week on.
    complete = [w["week_label"] for w in weeks if w["is_complete_week"]]
    assert list(complete_data["week_label"]) == complete
    assert list(partial_data["week_label"]) == [w["week_label"] for w in weeks][len(complete) - 1 :]
    # The interval band is the mart's, and the rings mark exactly its significant changes.
    assert band["mark"]["type"] == "area" and band["encoding"]["y2"]["field"] == "avg_score_ci_high"
    assert records(band_data, "week_label", "avg_score_ci_low", "avg_score_ci_high") == [
        (w["week_label"], w["avg_score_ci_low"], w["avg_score_ci_high"]) for w in weeks
    ]
    assert records(ring_data, "week_label", "direction") == [
        (w["week_label"], "up" if w["score_change_pct"] > 0 else "down")
        for w in weeks
        if w["score_change_significant"]
    ]
    assert len(ring_data) >= 1  # the demo's trend has significant weeks
    assert records(line_data, "week_label", "avg_score", "eval_count") == [
        (w["week_label"], w["avg_score"], w["eval_count"]) for w in weeks
    ]
    tooltip = {t["field"] for t in points["encoding"]["tooltip"]}
    assert {"avg_score", "eval_count"} <= tooltip  # the sample size on hover
    default = latest_complete(weeks)
    assert list(rule_data["week_label"]) == [default["week_label"]]

    days = demo_warehouse.mart("daily_scores", "score_date")
    ((daily, _), (daily_points, daily_data)) = layers(daily_chart)
    assert daily["mark"]["type"] == "line" and daily_points["mark"]["type"] == "point"
    assert {"avg_score", "eval_count"} <= {t["field"] for t in daily["encoding"]["tooltip"]}
    assert [
        (ts.date(), score, n)
        for ts, score, n in records(daily_data, "score_date", "avg_score", "eval_count")
    ] == [(d["score_date"], d["avg_score"], d["eval_count"]) for d in days]


def test_default_week_is_the_latest_complete_one_with_its_week_over_week_change(
    open_app, demo_duckdb
):
    app = open_app(demo_duckdb)
    week = latest_complete(weeks_of(demo_duckdb))
    assert app.sidebar.selectbox(key="week").value == week["week_label"]
    score = metric(app, "Average score")
    assert score.label == f"Average score · {week['week_label']}"
    assert score.value == f"{week['avg_score']:.2f}"
    assert score.delta == f"{week['score_change_pct']:+.1f}%"
    assert metric_color(score) == ("GREEN" if week["score_change_pct"] > 0 else "RED")
    assert metric(app, "Evaluations").value == f"{week['eval_count']:,}"
    assert metric(app, "Like ratio").delta == f"{week['like_ratio_change_pp']:+.1f} pp"
    assert app.query_params["week"] == week["week_label"]


def test_week_selector_changes_the_metrics(open_app, demo_duckdb):
    app = open_app(demo_duckdb)
    weeks = weeks_of(demo_duckdb)
    other = weeks[-3]
    assert other["week_label"] != app.sidebar.selectbox(key="week").value

    app.sidebar.selectbox(key="week").set_value(other["week_label"]).run()

    score = metric(app, "Average score")
    assert score.label.endswith(other["week_label"])
    assert score.value == f"{other['avg_score']:.2f}"
    assert score.delta == f"{other['score_change_pct']:+.1f}%"
    assert metric(app, "Quarantined rows").value == f"{other['quarantined_count']:,}"
    assert app.query_params["week"] == other["week_label"]  # a shareable address
    (*_, (_, rule_data)) = layers(charts(app, 0)[0])
    assert list(rule_data["week_label"]) == [other["week_label"]]


def test_week_query_parameter_opens_that_week(open_app, demo_duckdb):
    weeks = weeks_of(demo_duckdb)
    asked = weeks[1]
    app = open_app(demo_duckdb, week=asked["week_label"].lower())
    assert app.sidebar.selectbox(key="week").value == asked["week_label"]
    assert metric(app, "Average score").value == f"{asked['avg_score']:.2f}"
    assert not app.warning or all("Sending is off" in w.value for w in app.warning)


def test_unknown_week_in_the_link_says_so_and_shows_the_default(open_app, demo_duckdb):
    app = open_app(demo_duckdb, week="2019-W07")
    default = latest_complete(weeks_of(demo_duckdb))
    assert any(
        "2019-W07" in w.value and "not in weekly_performance" in w.value for w in app.warning
    )
    assert app.sidebar.selectbox(key="week").value == default["week_label"]


def test_feedback_tab_stacks_the_weekly_likes_and_dislikes_under_the_like_ratio(
    open_app, demo_duckdb
):
    app = open_app(demo_duckdb)
    weeks = weeks_of(demo_duckdb)
    weekly_chart, daily_chart = charts(app, 1)
    (
        (bars, bar_data),
        (band, band_data),
        (ratio, _),
        (_, _),
        (ratio_points, ratio_data),
        (rings, ring_data),
    ) = layers(weekly_chart)
    assert band["mark"]["type"] == "area"
    assert records(band_data, "week_label", "like_ratio_ci_low", "like_ratio_ci_high") == [
        (w["week_label"], w["like_ratio_ci_low"], w["like_ratio_ci_high"]) for w in weeks
    ]
    assert list(ring_data["week_label"]) == [
        w["week_label"] for w in weeks if w["like_ratio_change_significant"]
    ]
    assert bars["mark"]["type"] == "bar" and bars["encoding"]["y"]["stack"] == "zero"
    assert sorted(records(bar_data, "week_label", "reaction", "count")) == sorted(
        [(w["week_label"], "like", w["like_count"]) for w in weeks]
        + [(w["week_label"], "dislike", w["dislike_count"]) for w in weeks]
    )
    assert ratio["mark"]["type"] == "line" and ratio_points["mark"]["type"] == "point"
    assert records(ratio_data, "week_label", "like_ratio") == [
        (w["week_label"], w["like_ratio"]) for w in weeks
    ]
    days = demo_duckdb.mart("daily_feedback", "feedback_date")
    ((daily, _), (_, daily_data)) = layers(daily_chart)
    assert {"like_ratio", "feedback_count"} <= {t["field"] for t in daily["encoding"]["tooltip"]}
    assert [
        (ts.date(), ratio, n)
        for ts, ratio, n in records(daily_data, "feedback_date", "like_ratio", "feedback_count")
    ] == [(d["feedback_date"], d["like_ratio"], d["feedback_count"]) for d in days]


def test_quality_dimensions_tab_charts_accuracy_consistency_and_emotion_match(
    open_app, demo_duckdb
):
    app = open_app(demo_duckdb)
    weeks = weeks_of(demo_duckdb)
    ((_, data),) = layers(charts(app, 2)[0])
    names = {"avg_accuracy": "accuracy", "avg_consistency": "consistency"}
    names["avg_emotion_match"] = "emotion match"
    assert sorted(records(data, "week_label", "dimension", "average")) == sorted(
        (w["week_label"], label, w[column]) for w in weeks for column, label in names.items()
    )


def test_data_quality_tab_charts_quarantined_rows_per_day_and_reason(open_app, demo_duckdb):
    app = open_app(demo_duckdb)
    quality = demo_duckdb.mart("data_quality_daily")
    quarantined_chart, aside_chart = charts(app, 4)
    ((bars, data),) = layers(quarantined_chart)
    assert bars["encoding"]["color"]["field"] == "issue"
    shown = [
        (ts.date(), table, issue, n)
        for ts, table, issue, n in records(
            data, "quality_date", "source_table", "issue", "row_count"
        )
    ]
    expected = [
        (row["quality_date"], row["source_table"], row["issue"], row["row_count"])
        for row in quality
        if row["is_quarantined"] and row["quality_date"] is not None
    ]
    assert expected and sorted(shown) == sorted(expected)
    ((_, aside),) = layers(aside_chart)
    assert set(aside["issue"]) == {
        row["issue"] for row in quality if not row["is_quarantined"] and row["quality_date"]
    }


def test_date_range_keeps_the_weeks_and_days_inside_it(open_app, demo_duckdb):
    app = open_app(demo_duckdb)
    weeks = weeks_of(demo_duckdb)
    start, end = weeks[2]["week_start"], weeks[3]["week_end"]
    app.sidebar.date_input(key="dates").set_value((start, end)).run()

    (_, _, _, (_, weekly), *_) = layers(charts(app, 0)[0])
    assert list(weekly["week_label"]) == [weeks[2]["week_label"], weeks[3]["week_label"]]
    (_, (_, daily)) = layers(charts(app, 0)[1])
    days = [ts.date() for ts in daily["score_date"]]
    assert days and min(days) >= start and max(days) <= end
    ((_, quality),) = layers(charts(app, 4)[0])
    assert all(start <= ts.date() <= end for ts in quality["quality_date"])


def test_low_volume_weeks_are_marked_with_the_marts_flags(open_app, demo_duckdb, tmp_path):
    weeks = weeks_of(demo_duckdb)
    # A threshold between the smallest and the largest week: some weeks are low, some not.
    min_n = sorted(min(w["eval_count"], w["feedback_count"]) for w in weeks)[len(weeks) // 2]
    # The demo warehouse, its weekly marts rebuilt with that var min_n.
    built = dataclasses.replace(demo_duckdb, root=tmp_path)
    built.write_profile()
    shutil.copy(demo_duckdb.root / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    built.build("--select", "int_weeks_compared+", dbt_vars={"min_n": min_n})
    app = open_app(built, DBT_VARS=json.dumps({"min_n": min_n}))

    (_, _, _, (points, data), *_) = layers(charts(app, 0)[0])
    figures = read_weekly_performance(built.config)
    expected = [comparison_is_low_volume(w, previous_week(figures, w)) for w in figures]
    assert any(expected) and not all(expected)
    assert list(data["volume"] == "low volume") == expected
    assert points["encoding"]["color"]["field"] == "volume"
    low = [w.week_label for w, is_low in zip(figures, expected, strict=True) if is_low]
    options = app.sidebar.selectbox(key="week").options
    assert {o.split(" · ")[0] for o in options if "low volume" in o} == set(low)

    app.sidebar.selectbox(key="week").set_value(low[-1]).run()
    assert any(w.value.startswith("Low volume:") for w in app.warning)
    assert metric_color(metric(app, "Average score")) == "GRAY"  # not called a trend


def test_empty_warehouse_shows_a_message_not_a_traceback(open_app, make_warehouse):
    warehouse = make_warehouse("duckdb", as_of_date="2026-01-07")
    warehouses.create_raw_tables(warehouse)
    warehouse.build()
    app = open_app(warehouse)
    assert [i.value for i in app.info] and "no data yet" in app.info[0].value
    assert "dbt build" in app.info[0].value
    assert not app.tabs and not app.error


def test_missing_warehouse_file_says_what_to_run(open_app, make_warehouse):
    app = open_app(make_warehouse("duckdb"))  # a profile, no file yet
    assert len(app.error) == 1
    assert "no warehouse at" in app.error[0].value and "make demo" in app.error[0].value


def test_missing_slack_settings_disable_sending_with_a_clear_message(open_app, demo_duckdb):
    app = open_app(demo_duckdb)
    warnings = [w.value for w in app.warning]
    assert any("SLACK_WEBHOOK_URL" in w and "SLACK_BOT_TOKEN" in w for w in warnings)
    assert app.button(key="send").disabled

    app = open_app(demo_duckdb, SLACK_BOT_TOKEN="fake-bot-token-no-channel")
    assert any("SLACK_CHANNEL" in w.value for w in app.warning)
    assert app.button(key="send").disabled


def _previews(config, request: ReportRequest) -> set[str]:
    # The "generated at" minute can tick over between the app's run and ours.
    return {preview_report(config, request).rendered.text}


def test_preview_is_exactly_the_reporters_for_the_selected_week(open_app, demo_warehouse):
    url = "http://dash.example:8501/"
    config = demo_warehouse.config
    week = weeks_of(demo_warehouse)[-3]["week_label"]
    request = ReportRequest(week=week, lang="ko", dashboard_url=url)

    before = _previews(config, request)
    app = open_app(demo_warehouse, week=week, DASHBOARD_URL=url)
    shown = app.code[0].value
    assert shown in before | _previews(config, request)
    assert week in shown

    english = ReportRequest(week=week, lang="en", dashboard_url=url)
    before = _previews(config, english)
    app.radio(key="lang").set_value("en").run()
    assert app.code[0].value in before | _previews(config, english)
    # The demo's raw data differs by engine (each hashes its own way), so the week's
    # title may be any of the three; it is in English.
    assert re.search(r"AI Performance (Improvement |Regression )?Report", app.code[0].value)


@pytest.fixture
def writable_demo(
    demo_duckdb: warehouses.TestWarehouse, tmp_path: Path
) -> warehouses.TestWarehouse:
    """A copy of the demo file: sending writes the reporter's ledger."""
    copy = warehouses.TestWarehouse("duckdb", tmp_path, demo_duckdb.schema, demo_duckdb.raw_schema)
    copy.write_profile()
    shutil.copy(demo_duckdb.root / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    return copy


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack.running() as fake:
        yield fake


def test_send_posts_once_and_the_slack_button_opens_the_dashboard_on_that_week(
    open_app, writable_demo, slack
):
    url = "http://127.0.0.1:8501/"
    channel = f"#perf-{uuid.uuid4().hex[:8]}"
    weeks = weeks_of(writable_demo)
    week = weeks[-3]
    app = open_app(writable_demo, week=week["week_label"], DASHBOARD_URL=url, **slack.env(channel))
    preview = app.code[0].value

    app.button(key="send").click().run()
    assert [s.value for s in app.success] == [f"Sent {week['week_label']} to {channel}."]
    assert len(slack.reports) == 1
    posted = slack.reports[0]
    assert posted["channel"] == channel
    assert posted["text"].split("\n")[:-1] == preview.split("\n")[:-1]  # all but the time

    app.button(key="send").click().run()
    assert not app.success
    assert any("already sent" in i.value for i in app.info)
    assert len(slack.reports) == 1  # the ledger stopped the second post

    # The message's "Open dashboard" button leads back to the dashboard on that week.
    buttons = [
        element
        for block in posted["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    link = urlparse(buttons[0]["url"])
    assert f"{link.scheme}://{link.netloc}{link.path}" == url
    (linked_week,) = parse_qs(link.query)["week"]
    st.cache_data.clear()
    reopened = open_app(writable_demo, week=linked_week)
    assert reopened.sidebar.selectbox(key="week").value == week["week_label"]
    assert metric(reopened, "Average score").value == f"{week['avg_score']:.2f}"


def test_significance_diamonds_have_their_own_green_and_red_legend(open_app, demo_duckdb):
    app = open_app(demo_duckdb)
    for chart_, markers in ((charts(app, 0)[0], 4), (charts(app, 1)[0], 5)):
        specs = [spec for spec, _ in layers(chart_)]
        rings = specs[markers]["encoding"]
        # Not the colour channel: that one is the volume's (or the reaction's) legend.
        assert "color" not in rings and rings["stroke"]["field"] == "direction"
        assert rings["stroke"]["title"] == "Significant change"
        assert rings["stroke"]["scale"] == {
            "domain": ["up", "down"],
            "range": ["#2ca02c", "#d62728"],
        }
        colours = [
            spec["encoding"]["color"] for spec in specs if "color" in spec.get("encoding", {})
        ]
        assert colours and all(c["field"] != "direction" for c in colours)
    points = layers(charts(app, 0)[0])[3][0]["encoding"]["color"]
    assert points["title"] == "Volume" and points["scale"]["domain"] == [
        "enough evaluations",
        "low volume",
    ]
    bars = layers(charts(app, 1)[0])[0][0]["encoding"]["color"]
    assert bars["title"] == "Reaction" and bars["scale"]["domain"] == ["like", "dislike"]


def test_a_partial_week_is_drawn_dashed_hollow_and_faded(open_app, demo_duckdb):
    app = open_app(demo_duckdb)
    weeks = weeks_of(demo_duckdb)
    partial = [w["week_label"] for w in weeks if not w["is_complete_week"]]
    assert partial  # the fixture ends on a Wednesday
    score = layers(charts(app, 0)[0])
    (solid, _), (dashed, dashed_data) = score[1], score[2]
    for line in (solid, dashed):
        assert line["encoding"]["strokeDash"]["title"] == "Week"
    assert set(dashed_data["line"]) == {"partial week (still changing)"}
    assert dashed["encoding"]["strokeDash"]["scale"]["range"][1] == [6, 4]
    points, point_data = score[3]
    fill = points["encoding"]["fillOpacity"]
    assert fill["field"] == "period" and fill["scale"]["range"] == [1.0, 0.0]  # hollow
    assert list(point_data[point_data["period"] != "complete week"]["week_label"]) == partial
    bars, bar_data = layers(charts(app, 1)[0])[0]
    opacity = bars["encoding"]["opacity"]
    assert opacity["field"] == "period" and opacity["legend"] is not None
    faded = dict(zip(opacity["scale"]["domain"], opacity["scale"]["range"], strict=True))
    assert faded["partial week (still changing)"] < faded["complete week"]
    assert set(bar_data[bar_data["period"] != "complete week"]["week_label"]) == set(partial)


def test_days_with_few_reactions_are_off_the_line(open_app, demo_duckdb):
    days = demo_duckdb.mart("daily_feedback", "feedback_date")
    counts = sorted(d["feedback_count"] for d in days)
    threshold = counts[len(counts) // 2]  # some days below, some not
    app = open_app(demo_duckdb, DBT_VARS=json.dumps({"min_n": threshold}))
    (line, line_data), (points, point_data) = layers(charts(app, 1)[1])
    on_line = {ts.date() for ts in line_data["feedback_date"]}
    assert on_line == {d["feedback_date"] for d in days if d["feedback_count"] >= threshold}
    few = point_data[point_data["feedback_count"] < threshold]
    assert len(few) and set(few["day_volume"]) == {
        f"fewer than {threshold:,} reactions (not a trend)"
    }
    assert points["encoding"]["color"]["title"] == "Day"


def test_a_reason_keeps_its_colour_when_a_new_reason_appears():
    dashboard_module = charts_module()
    before = dashboard_module.reason_scale(["null_score", "score_out_of_range"])
    after = dashboard_module.reason_scale(
        ["brand_new_reason", "null_score", "null_created_at", "score_out_of_range"]
    )

    def colours(scale) -> dict[str, str]:
        return dict(zip(scale.domain, scale.range, strict=True))

    assert colours(before).items() <= colours(after).items()
    assert len(set(colours(after).values())) == 4  # every reason its own colour


def test_the_segment_tab_charts_each_model_version_and_evaluator(open_app, demo_duckdb):
    app = open_app(demo_duckdb)
    segments = demo_duckdb.mart("weekly_segment_performance", "week_start")
    ((_, line_data), (points, _)) = layers(charts(app, 3)[0])
    models = [s for s in segments if s["segment_type"] == "model_version"]
    assert sorted(
        records(line_data, "week_label", "segment_value", "avg_score", "eval_count")
    ) == sorted(
        (s["week_label"], s["segment_value"], s["avg_score"], s["eval_count"]) for s in models
    )
    assert points["encoding"]["shape"]["field"] == "volume"
    week = latest_complete(weeks_of(demo_duckdb))["week_label"]
    table = app.tabs[3].dataframe[0].value
    assert sorted(table["Model version"]) == sorted(
        s["segment_value"] for s in models if s["week_label"] == week
    )

    app.radio(key="segment_type").set_value("evaluator").run()
    ((_, evaluator_data), _) = layers(charts(app, 3)[0])
    assert set(evaluator_data["segment_value"]) == {
        s["segment_value"] for s in segments if s["segment_type"] == "evaluator"
    }


def test_the_model_versions_of_the_week_are_compared_with_its_baseline(open_app, demo_duckdb):
    app = open_app(demo_duckdb)
    week = latest_complete(weeks_of(demo_duckdb))["week_label"]
    versions = [
        row
        for row in demo_duckdb.mart("model_version_comparison", "model_version")
        if row["week_label"] == week
    ]
    assert versions, "the demo has more than one model version in its last complete week"
    table = app.tabs[3].dataframe[1].value
    assert list(table["Model"]) == [row["model_version"] for row in versions]
    assert list(table["Baseline"]) == [row["baseline_version"] for row in versions]
    assert list(table["Score significant"]) == [row["score_diff_significant"] for row in versions]


def test_the_judge_tab_charts_the_judges_bias_per_week(open_app, demo_duckdb):
    app = open_app(demo_duckdb)
    service = [
        row
        for row in demo_duckdb.mart("judge_agreement_weekly", "week_start")
        if row["segment_type"] == "service"
    ]
    assert service, "the demo has responses rated by a human and the judge"
    lines = [
        (layer, data)
        for layer, data in layers(charts(app, 5)[0])
        if layer["encoding"]["y"]["field"] == "judge_bias"
    ]
    [(_, data)] = lines
    assert records(data, "week_label", "judge_bias", "pair_count") == [
        (row["week_label"], row["judge_bias"], row["pair_count"]) for row in service
    ]
