"""Rendering, pure: a Report → Slack Block Kit blocks and the fallback text.

The ko and en wording sit side by side in WORDING, so both languages say the same facts.
Values that came from data are escaped (&, <, >) so that a label like `<!channel>`
shows as text and cannot ping anyone, and every text is clipped to Block Kit's limits.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from reporter.report import Report, Trend

LANGUAGES = ("ko", "en")

# Block Kit limits (https://api.slack.com/reference/block-kit/blocks).
MAX_BLOCKS = 50
MAX_HEADER_CHARS = 150
MAX_TEXT_CHARS = 3000
MAX_FIELD_CHARS = 2000
MAX_FIELDS = 10
MAX_BUTTON_TEXT_CHARS = 75
MAX_URL_CHARS = 3000
MAX_FALLBACK_CHARS = 4000

WORDING: dict[str, dict[str, str]] = {
    "title": {"ko": "📈 AI 성능 개선 리포트", "en": "📈 AI Performance Improvement Report"},
    "partial_week": {"ko": "⚠️ 아직 끝나지 않은 주", "en": "⚠️ week not complete yet"},
    "this_week": {"ko": "이번주 평균 점수", "en": "This week's average score"},
    "last_week": {"ko": "지난주 평균 점수", "en": "Last week's average score"},
    "change": {"ko": "변화율", "en": "Change"},
    "feedback": {"ko": "피드백", "en": "Feedback"},
    "like_ratio": {"ko": "좋아요 비율", "en": "Like ratio"},
    "pp": {"ko": "%p", "en": " pp"},
    "accuracy": {"ko": "정확도", "en": "Accuracy"},
    "consistency": {"ko": "일관성", "en": "Consistency"},
    "emotion_match": {"ko": "감정 일치도", "en": "Emotion match"},
    "quarantined": {"ko": "격리된 행", "en": "Quarantined rows"},
    "generated_at": {"ko": "생성시각", "en": "Generated"},
    "no_baseline": {"ko": "비교 불가", "en": "n/a"},
    "no_data": {"ko": "데이터 없음", "en": "no data"},
    "improved": {"ko": "📈 개선", "en": "📈 improvement"},
    "regressed": {"ko": "📉 하락", "en": "📉 regression"},
    "unchanged": {"ko": "변화 없음", "en": "no change"},
    "low_volume_change": {"ko": "⚠️ 표본 부족", "en": "⚠️ low volume"},
    "low_volume_note": {
        "ko": (
            "⚠️ 표본 부족: 이번주 평가 {n}건, 지난주 {prev}건 (최소 {min_n}건). "
            "변화율은 개선이나 하락으로 판단하지 않습니다."
        ),
        "en": (
            "⚠️ Low volume: {n} evaluations this week, {prev} last week (minimum {min_n}). "
            "The change is not an improvement or a regression."
        ),
    },
    "dashboard": {"ko": "대시보드 열기", "en": "Open dashboard"},
    "pipeline_failed": {
        "ko": "⚠️ 데이터 파이프라인 실패: 이번 주 성능 리포트는 보내지 않습니다. ({reason})",
        "en": "⚠️ Data pipeline failed: no performance report this week. ({reason})",
    },
}


def word(key: str, lang: str) -> str:
    return WORDING[key][lang]


@dataclass(frozen=True)
class RenderedReport:
    """Exactly what is posted: the fallback text and the blocks."""

    text: str
    blocks: list[dict[str, Any]]

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}

    def to_json(self) -> str:
        return json.dumps(self.payload(), ensure_ascii=False, indent=2)

    def payload_hash(self) -> str:
        canonical = json.dumps(self.payload(), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


def escape(value: object) -> str:
    """Slack's three control characters, for any value that came from data."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, ending in … when cut, never inside an &entity;."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def _score(value: float | None, lang: str) -> str:
    return word("no_data", lang) if value is None else f"{value:.2f}"


def _signed(value: float, unit: str) -> str:
    shown = round(value, 1)
    return f"0.0{unit}" if shown == 0 else f"{shown:+.1f}{unit}"


def _change(report: Report, lang: str) -> str:
    trend = report.trend
    if trend is Trend.NO_BASELINE or report.week.score_change_pct is None:
        return word("no_baseline", lang)
    shown = _signed(report.week.score_change_pct, "%")
    verdict = {
        Trend.IMPROVED: "improved",
        Trend.REGRESSED: "regressed",
        Trend.UNCHANGED: "unchanged",
        Trend.LOW_VOLUME: "low_volume_change",
    }[trend]
    return f"{shown} ({word(verdict, lang)})"


def _like_ratio(report: Report, lang: str) -> str:
    week = report.week
    if week.like_ratio is None:
        return word("no_data", lang)
    ratio = f"{week.like_ratio * 100:.1f}%"
    if week.like_ratio_change_pp is None:
        return f"{ratio} ({word('no_baseline', lang)})"
    return f"{ratio} ({_signed(week.like_ratio_change_pp, word('pp', lang))})"


def _week_line(report: Report, lang: str) -> str:
    week = report.week
    line = (
        f"*{escape(week.week_label)}* · {week.week_start.isoformat()} ~ {week.week_end.isoformat()}"
    )
    if not week.is_complete_week:
        line += f" · {word('partial_week', lang)}"
    return line


def _facts(report: Report, lang: str) -> list[tuple[str, str]]:
    """(label, value) pairs in display order; values are already escaped."""
    week = report.week
    return [
        (word("this_week", lang), f"{_score(week.avg_score, lang)} (n={week.eval_count:,})"),
        (
            word("last_week", lang),
            f"{_score(week.prev_avg_score, lang)} (n={week.prev_eval_count:,})",
        ),
        (word("change", lang), _change(report, lang)),
        (word("feedback", lang), f"👍 {week.like_count:,} / 👎 {week.dislike_count:,}"),
        (word("like_ratio", lang), _like_ratio(report, lang)),
        (word("accuracy", lang), _score(week.avg_accuracy, lang)),
        (word("consistency", lang), _score(week.avg_consistency, lang)),
        (word("emotion_match", lang), _score(week.avg_emotion_match, lang)),
        (word("quarantined", lang), f"{week.quarantined_count:,}"),
    ]


def _low_volume_note(report: Report, lang: str) -> str:
    week = report.week
    return word("low_volume_note", lang).format(
        n=f"{week.eval_count:,}", prev=f"{week.prev_eval_count:,}", min_n=f"{report.min_n:,}"
    )


def _generated_line(report: Report, lang: str) -> str:
    return f"{word('generated_at', lang)}: {report.generated_at.strftime('%Y-%m-%d %H:%M %Z')}"


def dashboard_link(dashboard_url: str, week_label: str) -> str:
    """The dashboard URL with ?week=<label>, which the dashboard reads."""
    separator = "&" if "?" in dashboard_url else "?"
    return f"{dashboard_url}{separator}week={quote(week_label, safe='')}"


def render_text(report: Report, lang: str = "ko") -> str:
    """The fallback text: what notifications show, and what `preview` prints."""
    lines = [f"{word('title', lang)} · {_week_line(report, lang)}"]
    feedback = word("feedback", lang)
    # As in the team's original message: "- 👍 52 / 👎 11", no label before it.
    lines += [
        f"- {value}" if label == feedback else f"- {label}: {value}"
        for label, value in _facts(report, lang)
    ]
    if report.is_low_volume:
        lines.append(_low_volume_note(report, lang))
    lines.append(f"- {_generated_line(report, lang)}")
    return clip("\n".join(lines), MAX_FALLBACK_CHARS)


def render_blocks(
    report: Report, lang: str = "ko", dashboard_url: str | None = None
) -> list[dict[str, Any]]:
    """Header, the week, the facts as section fields, notes, the dashboard button, context."""
    facts = _facts(report, lang)
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": clip(word("title", lang), MAX_HEADER_CHARS),
                "emoji": True,
            },
        },
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": clip(_week_line(report, lang), MAX_TEXT_CHARS)}
            ],
        },
    ]
    for start in range(0, len(facts), MAX_FIELDS):
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": clip(f"*{label}*\n{value}", MAX_FIELD_CHARS)}
                    for label, value in facts[start : start + MAX_FIELDS]
                ],
            }
        )
    if report.is_low_volume:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": clip(_low_volume_note(report, lang), MAX_TEXT_CHARS),
                },
            }
        )
    if dashboard_url:
        url = dashboard_link(dashboard_url, report.week.week_label)
        if len(url) <= MAX_URL_CHARS:
            blocks.append(
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "open_dashboard",
                            "text": {
                                "type": "plain_text",
                                "text": clip(word("dashboard", lang), MAX_BUTTON_TEXT_CHARS),
                            },
                            "url": url,
                        }
                    ],
                }
            )
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": _generated_line(report, lang)}],
        }
    )
    return blocks[:MAX_BLOCKS]


def render(report: Report, lang: str = "ko", dashboard_url: str | None = None) -> RenderedReport:
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}")
    return RenderedReport(
        text=render_text(report, lang), blocks=render_blocks(report, lang, dashboard_url)
    )


def render_pipeline_failure(reason: str, lang: str = "ko") -> RenderedReport:
    """The short notice posted instead of a report when `dbt build` failed."""
    text = clip(
        word("pipeline_failed", lang).format(reason=escape(reason)),
        MAX_TEXT_CHARS,
    )
    return RenderedReport(
        text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    )
