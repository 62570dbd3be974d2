"""The report's significance wording, the regression lead and mention, and the movers."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest
from report_examples import report, week
from test_report_render import assert_within_block_kit_limits

from reporter.render import render, slack_mention
from reporter.report import Mover, SegmentFigures, Trend, select_movers

MENTION = "<!subteam^S0PERF>"
# Last week 8.75 on 3,105; this week 8.30 on 3,412: a significant drop (Welch p < 0.001).
DROP = {
    "prev_avg_score": 8.75,
    "score_change_pct": -5.142857142857143,
    "score_change_p_value": 2.0e-40,
    "score_change_significant": True,
}


def segment(value: str, **changes) -> SegmentFigures:
    base = {
        "week_start": dt.date(2025, 12, 29),
        "segment_type": "model_version",
        "segment_value": value,
        "eval_count": 268,
        "prev_eval_count": 225,
        "score_change": None,
        "score_change_ci_low": None,
        "score_change_ci_high": None,
        "score_change_significant": False,
        "feedback_count": 110,
        "prev_feedback_count": 95,
        "like_ratio_change_pp": None,
        "like_ratio_change_ci_low_pp": None,
        "like_ratio_change_ci_high_pp": None,
        "like_ratio_change_significant": False,
    }
    return SegmentFigures(**{**base, **changes})


def score_move(value: str, change: float, low: float, high: float, n: int = 268) -> SegmentFigures:
    return segment(
        value,
        eval_count=n,
        score_change=change,
        score_change_ci_low=low,
        score_change_ci_high=high,
        score_change_significant=True,
    )


def test_a_change_within_noise_says_not_significant() -> None:
    noise = report(score_change_pct=1.2, score_change_p_value=0.31, score_change_significant=False)
    assert noise.trend is Trend.NOT_SIGNIFICANT
    assert "- 변화율: +1.2% (유의하지 않음)" in render(noise, "ko").text.splitlines()
    en = render(noise, "en").text
    assert "Change: +1.2% (not significant)" in en
    assert "improvement" not in en and "📈 improvement" not in en


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_significant_regression_leads_with_one_mention(lang: str) -> None:
    rendered = render(report(**DROP), lang, mention=MENTION)
    first = rendered.blocks[0]
    assert first["type"] == "section" and first["text"]["text"].startswith("⚠️")
    assert "8.75" in first["text"]["text"] and "-5.1%" in first["text"]["text"]
    assert "p<0.001" in first["text"]["text"]
    assert rendered.text.splitlines()[0].startswith("⚠️")
    assert json.dumps(rendered.blocks).count(MENTION) == 1
    assert rendered.text.count(MENTION) == 1
    assert_within_block_kit_limits(rendered.blocks)


def test_no_lead_and_no_mention_without_a_significant_regression() -> None:
    for calm in (
        report(),  # a significant improvement
        report(**{**DROP, "score_change_significant": False, "score_change_p_value": 0.2}),
        report(**DROP, eval_count=12, is_low_volume=True),  # the mart's low-volume flag
    ):
        rendered = render(calm, "en", mention=MENTION)
        assert MENTION not in rendered.text and MENTION not in json.dumps(rendered.blocks)
        assert not rendered.text.startswith("⚠️ Significant")


def test_a_significant_like_ratio_drop_leads_too() -> None:
    dropped = report(
        like_ratio=0.55,
        like_ratio_change_pp=-23.3,
        like_ratio_change_p_value=0.004,
        like_ratio_change_significant=True,
    )
    assert dropped.regressions == ("like_ratio",)
    lead = render(dropped, "en").text.splitlines()[0]
    assert lead.startswith("⚠️ Significant regression: like ratio 55.0%") and "p=0.004" in lead
    # Low volume either week (the marts' flag): no alarm, whatever the test says.
    assert report(**{**dropped.week.__dict__, "is_low_volume": True}).regressions == ()
    assert report(week(is_low_volume=True), **dropped.week.__dict__).regressions == ()


def test_movers_rank_by_the_conservative_bound_not_the_change() -> None:
    movers = select_movers(
        [
            # The largest change, but with 3 ratings its interval nearly reaches 0.
            score_move("chat-tiny", -3.0, -5.9, -0.1, n=3),
            score_move("chat-v2.0", -1.26, -1.49, -1.04),
            score_move("chat-v1.1", 0.55, 0.31, 0.79),
            segment(
                "chat-v1.0",
                like_ratio_change_pp=-20.0,
                like_ratio_change_ci_low_pp=-31.0,
                like_ratio_change_ci_high_pp=-9.0,
                like_ratio_change_significant=True,
            ),
            segment(  # a large change that is not significant after the correction
                "chat-noise", score_change=-0.9, score_change_ci_low=-1.5, score_change_ci_high=-0.3
            ),
        ]
    )
    assert [(m.segment_value, m.metric) for m in movers] == [
        ("chat-v2.0", "score"),  # 1.04 points of 10 = 0.104
        ("chat-v1.0", "like_ratio"),  # 9 pp of 100 = 0.09
        ("chat-v1.1", "score"),  # 0.031
    ]
    assert len(select_movers([score_move(f"m{i}", -1.0, -1.5, -0.5) for i in range(5)])) == 3


def test_movers_go_to_a_thread_reply_or_inline_for_a_webhook() -> None:
    movers = (Mover("model_version", "chat-v2.0", "score", -1.26, -1.49, -1.04, 268, 225),)
    threaded = render(replace(report(**DROP), movers=movers), "en", mention=MENTION)
    assert threaded.thread is not None
    assert "chat-v2.0" in threaded.thread.text and "chat-v2.0" not in threaded.text
    assert "Biggest movers are in the thread" in threaded.text
    assert MENTION not in threaded.thread.text  # mentioned once, in the main message
    assert "-1.26" in threaded.thread.text and "n=268 vs 225" in threaded.thread.text
    assert_within_block_kit_limits(threaded.thread.blocks)
    inline = render(replace(report(**DROP), movers=movers), "en", threaded=False)
    assert inline.thread is None and "chat-v2.0" in inline.text
    assert not render(report(), "en").thread  # nothing more to say: no thread


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("U012AB3CD", "<@U012AB3CD>"),
        ("S0PERF", "<!subteam^S0PERF>"),
        ("<!subteam^S0PERF>", "<!subteam^S0PERF>"),
        ("here", "<!here>"),
        ("", None),
        (None, None),
    ],
)
def test_alert_mention_forms(value, expected) -> None:
    assert slack_mention(value) == expected


@pytest.mark.parametrize("bad", ["@alice", "<https://evil.example|x>", "U1 U2"])
def test_alert_mention_rejects_anything_else(bad: str) -> None:
    with pytest.raises(ValueError, match="SLACK_ALERT_MENTION"):
        slack_mention(bad)
