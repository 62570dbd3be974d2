"""Pure tests of the report's composition: goldens, n/a, low volume, escaping, limits."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from report_examples import NO_BASELINE, WEEK, report, week
from slack_sdk.models.blocks import Block

from reporter.errors import UserError
from reporter.render import (
    MAX_BLOCKS,
    MAX_FIELD_CHARS,
    MAX_FIELDS,
    MAX_HEADER_CHARS,
    MAX_TEXT_CHARS,
    clip,
    render,
    render_pipeline_failure,
)
from reporter.report import Trend, select_week

GOLDEN = Path(__file__).parent / "golden"
DASHBOARD = "https://dash.example.com/performance"


def all_texts(payload: dict) -> list[str]:
    """Every string a user can see in a payload (fallback text and block texts)."""
    found = [payload["text"]]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(payload["blocks"])
    return found


def assert_within_block_kit_limits(blocks: list[dict]) -> None:
    assert len(blocks) <= MAX_BLOCKS
    for block in blocks:
        # slack_sdk's block classes know Slack's limits; raw dicts are not checked otherwise.
        Block.parse(block).validate_json()
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= MAX_HEADER_CHARS
        if block["type"] == "section":
            assert len(block.get("fields", [])) <= MAX_FIELDS
            assert all(len(f["text"]) <= MAX_FIELD_CHARS for f in block.get("fields", []))
            assert len(block.get("text", {}).get("text", "")) <= MAX_TEXT_CHARS
        if block["type"] == "context":
            assert all(len(e["text"]) <= MAX_TEXT_CHARS for e in block["elements"])


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_report_matches_golden_block_kit(lang: str) -> None:
    payload = render(report(), lang, DASHBOARD).payload()
    golden = GOLDEN / f"report_{lang}.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    assert payload == json.loads(golden.read_text())
    assert_within_block_kit_limits(payload["blocks"])


def test_korean_report_carries_the_original_wording_and_numbers() -> None:
    text = render(report(), "ko").text
    assert text.startswith("📈 AI 성능 개선 리포트")
    for line in (
        "- 이번주 평균 점수: 8.30 (n=3,412, 95% 신뢰구간 8.26–8.34)",
        "- 지난주 평균 점수: 7.50 (n=3,105)",
        "- 변화율: +10.7% (📈 개선)",
        "- 👍 52 / 👎 11",
        "- 좋아요 비율: 82.5% (n=63, 95% 신뢰구간 71.4–90.0%), +4.2%p (유의하지 않음)",
        "- 격리된 행: 12",
        "- 생성시각: 2026-01-05 09:00 KST",
    ):
        assert line in text.splitlines()


def test_ko_and_en_state_the_same_facts() -> None:
    ko, en = render(report(), "ko"), render(report(), "en")
    numbers = ["8.30", "7.50", "3,412", "3,105", "+10.7%", "52", "11", "82.5%", "8.14", "8.27"]
    for number in numbers:
        assert number in ko.text and number in en.text
    assert len(ko.blocks) == len(en.blocks)
    assert "Open dashboard" not in json.dumps(ko.blocks)


@pytest.mark.parametrize(
    ("lang", "label", "na"), [("ko", "변화율", "비교 불가"), ("en", "Change", "n/a")]
)
def test_no_baseline_is_na_never_zero_or_infinity(lang: str, label: str, na: str) -> None:
    rendered = render(report(**NO_BASELINE), lang)
    assert f"- {label}: {na}" in rendered.text.splitlines()
    change_field = rendered.blocks[2]["fields"][2]["text"]
    assert change_field == f"*{label}*\n{na}"
    assert " 0.0%" not in rendered.text and "inf" not in rendered.text.lower()
    assert f"82.5% (n=63, 95% {'신뢰구간' if lang == 'ko' else 'CI'} 71.4–90.0%), {na}" in (
        rendered.text
    )
    assert report(**NO_BASELINE).trend is Trend.NO_BASELINE


def test_previous_week_with_zero_evaluations_has_no_baseline() -> None:
    # The mart's no-gap spine gives an empty previous week zero counts and NULL averages.
    empty_before = report(prev_eval_count=0, prev_avg_score=None, score_change_pct=None)
    assert empty_before.trend is Trend.NO_BASELINE
    assert "변화율: 비교 불가" in render(empty_before, "ko").text


@pytest.mark.parametrize(
    "changes",
    [{"eval_count": 12}, {"prev_eval_count": 7}],
    ids=["this_week_low", "last_week_low"],
)
def test_low_volume_change_is_not_called_improvement(changes: dict) -> None:
    low = report(**changes)
    assert low.is_low_volume and low.trend is Trend.LOW_VOLUME
    for lang, verdicts in (("ko", ("개선", "하락")), ("en", ("improvement", "regression"))):
        rendered = render(low, lang)
        change_line = next(line for line in rendered.text.splitlines() if "+10.7%" in line)
        assert not any(verdict in change_line for verdict in verdicts)
        assert "📈" not in change_line and "📉" not in change_line
        assert "⚠️" in change_line
        notes = [b for b in rendered.blocks if b["type"] == "section" and "text" in b]
        assert len(notes) == 1 and "30" in notes[0]["text"]["text"]


def test_min_n_decides_low_volume() -> None:
    assert report(min_n=3413).trend is Trend.LOW_VOLUME
    assert report(min_n=3105).trend is Trend.IMPROVED


def test_regression_and_no_change_wording() -> None:
    regressed = render(report(score_change_pct=-4.24), "en").text
    assert "-4.2% (📉 regression)" in regressed
    flat = report(score_change_pct=0.04)
    assert flat.trend is Trend.UNCHANGED
    assert "변화율: 0.0% (변화 없음)" in render(flat, "ko").text


def test_empty_week_says_no_data() -> None:
    empty = report(
        eval_count=0,
        avg_score=None,
        avg_score_ci_low=None,
        avg_score_ci_high=None,
        avg_accuracy=None,
        score_change_pct=None,
    )
    text = render(empty, "en").text
    assert "This week's average score: no data (n=0)" in text
    assert "Change: n/a" in text


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_data_values_cannot_ping_the_channel(lang: str) -> None:
    hostile = report(week_label="<!channel> & <@U123|boss> <https://evil.example|click>")
    payload = render(hostile, lang, DASHBOARD).payload()
    for text in all_texts(payload):
        assert "<!channel>" not in text and "<@U123" not in text and "<https://" not in text
    assert "&lt;!channel&gt; &amp; &lt;@U123|boss&gt;" in payload["text"]
    button = next(b for b in payload["blocks"] if b["type"] == "actions")["elements"][0]
    assert button["url"].startswith(DASHBOARD + "?week=%3C%21channel%3E")


def test_very_long_data_value_stays_within_block_kit_limits() -> None:
    long_label = "chat-v2.0-" + "<x>" * 3000  # 9,010 characters, each < and > escaped
    rendered = render(report(week_label=long_label, eval_count=5), "ko", DASHBOARD)
    assert_within_block_kit_limits(rendered.blocks)
    week_text = rendered.blocks[1]["elements"][0]["text"]
    assert len(week_text) <= MAX_TEXT_CHARS and week_text.endswith("…")
    # Cut before an escape, never inside one: no "&l…" or "&g…".
    assert week_text[:-1].endswith(("&lt;", "&gt;", "x"))
    assert len(rendered.text) <= 4000


def test_clip_never_splits_an_entity() -> None:
    assert clip("ab&lt;cd", 5) == "ab…"
    assert clip("ab&lt;cd", 7) == "ab&lt;…"
    assert clip("short", 10) == "short"


def test_dashboard_button_links_to_the_week() -> None:
    blocks = render(report(), "en", DASHBOARD).blocks
    button = next(b for b in blocks if b["type"] == "actions")["elements"][0]
    assert button["text"]["text"] == "Open dashboard"
    assert button["url"] == f"{DASHBOARD}?week=2026-W01"
    with_query = render(report(), "en", DASHBOARD + "?tab=ai").blocks
    button = next(b for b in with_query if b["type"] == "actions")["elements"][0]
    assert button["url"] == f"{DASHBOARD}?tab=ai&week=2026-W01"
    assert not any(b["type"] == "actions" for b in render(report(), "en").blocks)


def test_partial_week_is_marked() -> None:
    assert "not complete" in render(report(is_complete_week=False), "en").text
    assert "not complete" not in render(report(), "en").text


def test_pipeline_failure_notice_escapes_the_reason() -> None:
    notice = render_pipeline_failure("1 failed: <!here>", "en")
    assert "Data pipeline failed" in notice.text and "<!here>" not in notice.text
    assert_within_block_kit_limits(notice.blocks)


# Which week: the latest complete one, an explicit one, or as of a date.
WEEKS = [
    week(week_label="2025-W52", week_start=dt.date(2025, 12, 22), week_end=dt.date(2025, 12, 28)),
    WEEK,
    week(
        week_label="2026-W02",
        week_start=dt.date(2026, 1, 5),
        week_end=dt.date(2026, 1, 11),
        is_complete_week=False,
    ),
]


def test_default_week_is_the_latest_complete_one() -> None:
    assert select_week(WEEKS).week_label == "2026-W01"


def test_as_of_picks_the_latest_week_ended_before_it() -> None:
    assert select_week(WEEKS, as_of=dt.date(2026, 1, 4)).week_label == "2025-W52"
    assert select_week(WEEKS, as_of=dt.date(2026, 1, 5)).week_label == "2026-W01"


def test_explicit_week_even_if_partial() -> None:
    assert select_week(WEEKS, "2026-w02").week_label == "2026-W02"


@pytest.mark.parametrize(
    ("weeks", "label", "as_of", "message"),
    [
        (WEEKS, "2026-1", None, "must look like 2026-W01"),
        (WEEKS, "2026-W54", None, "must look like 2026-W01"),
        (WEEKS, "2025-W01", None, "not in weekly_performance"),
        (WEEKS, None, dt.date(2025, 12, 28), "no week"),
        ([], None, None, "empty"),
    ],
)
def test_week_selection_errors_are_user_errors(weeks, label, as_of, message) -> None:
    with pytest.raises(UserError, match=message):
        select_week(weeks, label, as_of)
