"""Pure tests of the report's composition: goldens, n/a, low volume, escaping, limits."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from report_examples import NO_BASELINE, WEEK, report, week
from slack_sdk.models.blocks import Block

from reporter.errors import NoDataError, UserError
from reporter.render import (
    MAX_BLOCKS,
    MAX_FIELD_CHARS,
    MAX_FIELDS,
    MAX_HEADER_CHARS,
    MAX_TEXT_CHARS,
    MAX_VALUE_CHARS,
    clip,
    escape,
    render,
    render_movers,
    render_pipeline_failure,
    word,
)
from reporter.report import (
    Mover,
    QuarantineFigures,
    SegmentFigures,
    Trend,
    parse_week_label,
    select_movers,
    select_week,
)

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
    ("changes", "previous"),
    [({"eval_count": 12, "is_low_volume": True}, None), ({"prev_eval_count": 7}, True)],
    ids=["this_week_low", "last_week_low"],
)
def test_low_volume_change_is_not_called_improvement(changes: dict, previous: bool) -> None:
    low = report(week(is_low_volume=True) if previous else None, **changes)
    assert low.is_low_volume and low.trend is Trend.LOW_VOLUME
    for lang, verdicts in (("ko", ("개선", "하락")), ("en", ("improvement", "regression"))):
        rendered = render(low, lang)
        change_line = next(line for line in rendered.text.splitlines() if "+10.7%" in line)
        assert not any(verdict in change_line for verdict in verdicts)
        assert "📈" not in change_line and "📉" not in change_line
        assert "⚠️" in change_line
        notes = [b for b in rendered.blocks if b["type"] == "section" and "text" in b]
        assert len(notes) == 1 and "30" in notes[0]["text"]["text"]


def test_the_marts_flags_decide_low_volume() -> None:
    assert report(is_low_volume=True).trend is Trend.LOW_VOLUME
    assert report(week(is_low_volume=True)).trend is Trend.LOW_VOLUME  # the week before
    assert report(week(is_low_volume=False)).trend is Trend.IMPROVED
    # Python sets no threshold of its own: 12 evaluations the mart calls enough are enough.
    assert report(eval_count=12).trend is Trend.IMPROVED
    # Without a baseline the week before does not count.
    assert report(week(is_low_volume=True), prev_eval_count=0).trend is Trend.NO_BASELINE


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
        (WEEKS, "2026-W54", None, "week 54 does not exist in 2026, whose ISO weeks are W01 to W53"),
        (WEEKS, "2026-W99", None, "week 99 does not exist in 2026"),
        (WEEKS, "2025-W53", None, "week 53 does not exist in 2025, whose ISO weeks are W01 to W52"),
        (WEEKS, "2025-W01", None, "not in weekly_performance"),
        (WEEKS, None, dt.date(2025, 12, 28), "no week"),
        ([], None, None, "empty"),
    ],
)
def test_week_selection_errors_are_user_errors(weeks, label, as_of, message) -> None:
    with pytest.raises(UserError, match=message):
        select_week(weeks, label, as_of)


def test_a_53rd_week_exists_in_a_year_that_has_one() -> None:
    assert parse_week_label("2026-w53") == "2026-W53"  # 2026 has 53 ISO weeks


@pytest.mark.parametrize("label", ["2050-W01", "2026-W02"])
def test_unknown_or_empty_week_is_refused_with_its_own_exit_code(label: str) -> None:
    empty = week(
        week_label="2026-W02",
        week_start=dt.date(2026, 1, 5),
        week_end=dt.date(2026, 1, 11),
        eval_count=0,
        feedback_count=0,
        like_count=0,
        dislike_count=0,
        avg_score=None,
    )
    with pytest.raises(NoDataError) as refused:
        select_week([*WEEKS[:2], empty], label)
    assert refused.value.exit_code == 3 != UserError.exit_code
    assert "--week" in str(refused.value) and "2025-W52 to 2026-W02" in str(refused.value)


def test_the_latest_complete_week_skips_a_week_without_data() -> None:
    empty = week(eval_count=0, feedback_count=0, avg_score=None)
    assert select_week([WEEKS[0], empty]).week_label == "2025-W52"


MOVERS = (
    Mover("model_version", "chat-v2.0", "score", -1.26, -1.49, -1.04, 268, 225),
    Mover("evaluator", "human", "score", -0.9, -1.3, -0.5, 100, 90),
)


def test_a_webhook_message_shows_the_movers_in_its_blocks() -> None:
    moved = replace(report(), movers=MOVERS)
    for lang in ("ko", "en"):
        inline = render(moved, lang, DASHBOARD, threaded=False)
        assert inline.thread is None
        shown = json.dumps(inline.blocks, ensure_ascii=False)
        assert "chat-v2.0" in shown and "human" in shown
        assert word("movers_title", lang) in shown
        assert_within_block_kit_limits(inline.blocks)


def test_a_bot_message_says_in_its_blocks_that_the_movers_are_in_the_thread() -> None:
    moved = replace(report(), movers=MOVERS)
    threaded = render(moved, "en", DASHBOARD)
    shown = json.dumps(threaded.blocks, ensure_ascii=False)
    assert "Biggest movers are in the thread" in shown and "chat-v2.0" not in shown
    assert "chat-v2.0" in threaded.thread.text


@pytest.mark.parametrize(
    ("changes", "ko", "en"),
    [
        ({}, "📈 AI 성능 개선 리포트", "📈 AI Performance Improvement Report"),
        (
            {"score_change_pct": -4.2},
            "📉 AI 성능 하락 리포트",
            "📉 AI Performance Regression Report",
        ),
        ({"score_change_significant": False}, "📊 AI 성능 리포트", "📊 AI Performance Report"),
        ({"eval_count": 4, "is_low_volume": True}, "📊 AI 성능 리포트", "📊 AI Performance Report"),
    ],
    ids=["improved", "regressed", "not_significant", "low_volume"],
)
def test_the_header_fits_the_week(changes: dict, ko: str, en: str) -> None:
    for lang, title in (("ko", ko), ("en", en)):
        rendered = render(report(**changes), lang)
        header = next(b for b in rendered.blocks if b["type"] == "header")
        assert header["text"]["text"] == title
        assert f"{title} · " in rendered.text


def test_a_regression_header_never_says_improvement() -> None:
    regressed = render(report(score_change_pct=-4.2), "en")
    assert regressed.blocks[0]["text"]["text"].startswith("⚠️ Significant regression")
    assert "Improvement" not in json.dumps(regressed.payload())


def test_one_evaluation_is_singular() -> None:
    text = render(report(eval_count=1, prev_eval_count=1, is_low_volume=True), "en").text
    assert "1 evaluation and 63 reactions this week, 1 evaluation and 60 reactions" in text
    assert "1 evaluations" not in text
    low = report(eval_count=12, feedback_count=1, is_low_volume=True)
    assert "12 evaluations and 1 reaction this week" in render(low, "en").text


QUARANTINE = QuarantineFigures(
    raw_row_count=4321,
    quarantined_count=100,
    quarantined_pct=2.3,
    top_reasons=(("unknown_feedback_label", 61), ("score_out_of_range", 30), ("null_score", 9)),
)


def test_quarantined_rows_come_with_their_share_and_top_reasons() -> None:
    quarantined = replace(report(quarantined_count=100), quarantine=QUARANTINE)
    en = render(quarantined, "en").text
    assert (
        "- Quarantined rows: 100 (2.3% of 4,321 raw rows) · top reasons: "
        "unknown_feedback_label 61, score_out_of_range 30, null_score 9"
    ) in en.splitlines()
    ko = render(quarantined, "ko").text
    assert (
        "- 격리된 행: 100 (원본 4,321행 중 2.3%) · 주요 사유: "
        "unknown_feedback_label 61, score_out_of_range 30, null_score 9"
    ) in ko.splitlines()


def test_two_segments_with_the_same_rows_are_shown_once() -> None:
    def segment(kind: str, value: str, twin: str | None = None) -> SegmentFigures:
        return SegmentFigures(
            dt.date(2026, 1, 5), kind, value, 300, 280, -1.1, -1.4, -0.8, True,
            0, 0, None, None, None, False, twin,
        )  # fmt: skip

    movers = select_movers(
        [
            segment("model_version", "chat-v2.0"),
            segment("evaluator", "llm_judge", twin="chat-v2.0"),
            segment("model_version", "chat-v1.1"),
        ]
    )
    assert [(m.segment_type, m.segment_value) for m in movers] == [
        ("model_version", "chat-v1.1"),
        ("model_version", "chat-v2.0"),
    ]
    assert movers[1].same_rows == (("evaluator", "llm_judge"),)
    moved = replace(report(), movers=movers)
    lines = [line for line in render_movers(moved, "en").text.splitlines() if "-1.10" in line]
    assert len(lines) == 2  # not three: llm_judge is not a line of its own
    assert "(the same evaluations as evaluator llm_judge, shown once)" in lines[1]
    assert "평가자 llm_judge와 같은 평가" in render_movers(moved, "ko").text


def _mover_section(blocks: list[dict]) -> dict:
    return next(
        b for b in blocks if b["type"] == "section" and "•" in b.get("text", {}).get("text", "")
    )


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_formatting_characters_in_data_are_neutralised(lang: str) -> None:
    name = "<!channel> *x* _y_ ~z~ `c`"
    hostile = (Mover("model_version", name, "score", -1, -1.2, -0.8, 40, 40),)
    rendered = render(replace(report(), movers=hostile), lang, threaded=False)
    line = next(x for x in _mover_section(rendered.blocks)["text"]["text"].splitlines() if "•" in x)
    assert line.count("*") == 2  # only the bold span the renderer opened and closed
    shown = line.split("*")[1]
    assert shown == "&lt;!channel&gt; ∗x∗ ˍyˍ ∼z∼ ˋcˋ"
    assert not set("*_~`") & set(shown)
    assert escape("llm_judge") == "llm_judge"  # an underscore inside a word formats nothing


def test_one_long_segment_name_does_not_push_out_the_other_movers() -> None:
    movers = (
        Mover("model_version", "x" * 5000, "score", -1.5, -1.8, -1.2, 300, 280),
        Mover("model_version", "chat-v1.1", "score", -1.0, -1.3, -0.7, 300, 280),
        Mover("evaluator", "human", "score", -0.9, -1.2, -0.6, 300, 280),
    )
    rendered = render(replace(report(), movers=movers), "en", threaded=False)
    assert_within_block_kit_limits(rendered.blocks)
    section = _mover_section(rendered.blocks)["text"]["text"]
    assert "chat-v1.1" in section and "human" in section
    long_line = next(x for x in section.splitlines() if "xxx" in x)
    assert "x" * MAX_VALUE_CHARS not in long_line and "…" in long_line
