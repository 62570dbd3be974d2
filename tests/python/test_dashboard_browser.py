"""The dashboard as a user opens it: `streamlit run`, then headless Chromium on 127.0.0.1.

Locally without Chromium this skips; under CI=true a missing Chromium is a failure
(`.ci/run` installs it). The screenshot is kept in the test's tmp folder, or written to
DASHBOARD_SCREENSHOT when that is set.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import browser
import pytest
from conftest import unavailable

pytestmark = pytest.mark.browser


def require_chromium() -> None:
    if browser.chromium_path():
        return
    unavailable("chromium is not installed (apt-get install -y chromium)")


def test_the_dashboard_opens_on_the_linked_week_in_a_real_browser(demo_duckdb, tmp_path):
    require_chromium()
    weeks = demo_duckdb.mart("weekly_performance", "week_start")
    complete = [week for week in weeks if week["is_complete_week"]]
    week = complete[-2]  # not the default week, so only the link can select it
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(demo_duckdb.profiles_dir),
        "DBT_TARGET": demo_duckdb.target,
        "DO_NOT_TRACK": "1",
    }
    unset = ("SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL", "REPORT_MIN_N", "DBT_VARS", "DASHBOARD_URL")
    for name in unset:
        env.pop(name, None)
    expected = [
        f"Average score · {week['week_label']}",
        f"{week['avg_score']:.2f}",
        f"{week['score_change_pct']:+.1f}%",
        f"{week['eval_count']:,}",
        "Weekly average score",
    ]
    shot = tmp_path / "dashboard.png"
    with (
        browser.streamlit_app(env, tmp_path / "streamlit.log") as base,
        browser.chromium(tmp_path / "chromium-profile") as page,
    ):
        text = browser.open_and_wait(page, f"{base}?week={week['week_label']}", expected)
        png = browser.screenshot(page, shot)
        address = page.evaluate("location.href")
        score_charts = browser.charts(page)
        feedback_charts = browser.open_tab(page, "Feedback")

    assert f"week={week['week_label']}" in address
    check_legends_and_partial_week(score_charts, feedback_charts)
    default = complete[-1]["week_label"]
    assert f"Average score · {default}" not in text
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000  # a drawn page
    target = os.environ.get("DASHBOARD_SCREENSHOT")
    if target:
        shutil.copy(shot, Path(target))


def legend(chart: dict, title: str) -> dict[str, dict]:
    """One legend of a drawn chart: its entries by label."""
    found = [item for item in chart["legends"] if item["title"] == title]
    assert len(found) == 1, [item["title"] for item in chart["legends"]]
    return {entry["label"]: entry for entry in found[0]["entries"]}


def check_legends_and_partial_week(score_charts: list[dict], feedback_charts: list[dict]) -> None:
    """What Chromium drew: one legend per meaning, in its own colours, and the running week
    drawn dashed, hollow and faded, with a legend entry saying so."""
    weekly = score_charts[0]
    # The significance diamonds: green up, red down, in a legend of their own.
    significant = legend(weekly, "Significant change")
    assert list(significant) == ["up", "down"]
    assert (significant["up"]["stroke"], significant["down"]["stroke"]) == ("#2ca02c", "#d62728")
    volume = legend(weekly, "Volume")
    assert list(volume) == ["enough evaluations", "low volume"]
    assert {entry["fill"] for entry in volume.values()}.isdisjoint({"#2ca02c", "#d62728"})
    # The partial week: a dashed line (and its legend entry), a hollow point.
    week_lines = legend(weekly, "Week")
    assert week_lines["partial week (still changing)"]["dash"] == "6,4"
    assert week_lines["complete week"]["dash"] in (None, "1,0")
    assert "6,4" in weekly["lineDashes"] and weekly["hollowPoints"] >= 1

    bars = feedback_charts[0]
    reactions = legend(bars, "Reaction")
    assert list(reactions) == ["like", "dislike"]  # not "Significant change" over them
    assert list(legend(bars, "Significant change")) == ["up", "down"]
    faded = legend(bars, "Bars")
    assert float(faded["partial week (still changing)"]["opacity"]) < 1.0
    assert "0.35" in bars["barOpacities"]  # the running week's bars, as the legend says
    assert legend(bars, "Week")["partial week (still changing)"]["dash"] == "6,4"
    daily = legend(feedback_charts[1], "Day")
    assert any(label.startswith("fewer than") for label in daily)
