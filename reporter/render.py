"""The Slack message, pure: a Report → one message model → Block Kit blocks and fallback text.

    compose(report, "ko")   → Message: what the message says, worded, part by part
    render_message(message) → RenderedReport: the blocks and the fallback text, one part at a time

The ko and en wording sit side by side in WORDING, so both languages say the same facts.
Each part of a Message is rendered once, to its blocks and its fallback lines together, so
the text and the blocks cannot drift apart. Blocks are built with slack_sdk's block models,
whose limits (HeaderBlock.text_max_length, …) every text is clipped to and whose validation
runs on every block.
Values that came from data are escaped (&, <, >) so that a label like `<!channel>`
shows as text and cannot ping anyone; mrkdwn's formatting characters in them (* _ ~ `)
are shown as look-alike characters that Slack does not treat as formatting; each value
is clipped on its own.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from reporter.report import Mover, QuarantineFigures, Report, Trend, VersionDifference

LANGUAGES = ("ko", "en")

# Block Kit limits come from slack_sdk's block models; these names are for callers and tests.
MAX_HEADER_CHARS = HeaderBlock.text_max_length
MAX_TEXT_CHARS = SectionBlock.text_max_length  # any text object's limit, context ones too
MAX_FIELDS = SectionBlock.fields_max_length
# Slack's limits that slack_sdk's models do not carry (https://api.slack.com/reference/block-kit):
MAX_FIELD_CHARS = 2000  # one section field (slack_sdk documents it, does not check it)
MAX_BLOCKS = 50  # blocks in one message
MAX_FALLBACK_CHARS = 4000  # the fallback text a notification shows in full
# One data value (a model version, an evaluator): long enough to tell values apart, short
# enough that three movers always fit one section.
MAX_VALUE_CHARS = 80
# Slack has no escape for mrkdwn formatting: these look the same and format nothing. An
# underscore between two letters or digits (llm_judge) cannot open or close italics and
# stays as it is.
MRKDWN_LOOKALIKES = str.maketrans({"*": "\u2217", "~": "\u223c", "`": "\u02cb"})
FORMATTING_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")

WORDING: dict[str, dict[str, str]] = {
    # The header fits the week: a regression, an improvement, or neither.
    "title": {"ko": "📊 AI 성능 리포트", "en": "📊 AI Performance Report"},
    "title_improved": {
        "ko": "📈 AI 성능 개선 리포트",
        "en": "📈 AI Performance Improvement Report",
    },
    "title_regressed": {
        "ko": "📉 AI 성능 하락 리포트",
        "en": "📉 AI Performance Regression Report",
    },
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
    "quarantined_share": {
        "ko": "{count} (원본 {raw}행 중 {pct})",
        "en": "{count} ({pct} of {raw} raw rows)",
    },
    "top_reasons": {"ko": "주요 사유", "en": "top reasons"},
    "generated_at": {"ko": "생성시각", "en": "Generated"},
    "no_baseline": {"ko": "비교 불가", "en": "n/a"},
    "no_data": {"ko": "데이터 없음", "en": "no data"},
    "improved": {"ko": "📈 개선", "en": "📈 improvement"},
    "regressed": {"ko": "📉 하락", "en": "📉 regression"},
    "unchanged": {"ko": "변화 없음", "en": "no change"},
    "not_significant": {"ko": "유의하지 않음", "en": "not significant"},
    "could_detect": {"ko": "±{mde}부터 감지 가능", "en": "could detect ±{mde}"},
    "points": {"ko": "점", "en": " points"},
    "agreement": {"ko": "LLM 심사 vs 사람", "en": "LLM judge vs humans"},
    "agreement_value": {
        "ko": "편향 {bias} ({ci} {low} ~ {high}), 가중 카파 {kappa}, {n}쌍",
        "en": "bias {bias} ({ci} {low} to {high}), weighted κ {kappa}, {n} pairs",
    },
    "judge_drift": {
        "ko": "⚠️ 지난주보다 편향이 유의하게 변함",
        "en": "⚠️ bias changed significantly",
    },
    "versions_title": {
        "ko": "🆚 모델 버전 비교 (같은 주의 트래픽)",
        "en": "🆚 Model versions (the same week's traffic)",
    },
    "version_line": {
        "ko": "{version} vs {baseline}: {metric}{diff} ({ci} {low} ~ {high})",
        "en": "{version} vs {baseline}: {metric}{diff} ({ci} {low} to {high})",
    },
    "ci": {"ko": "{level}% 신뢰구간", "en": "{level}% CI"},
    "regression_lead": {"ko": "⚠️ 유의한 하락: {what}", "en": "⚠️ Significant regression: {what}"},
    "score_drop": {
        "ko": "평균 점수 {now} (지난주 {before}, {change}, {p})",
        "en": "average score {now} vs {before} last week ({change}, {p})",
    },
    "like_drop": {
        "ko": "좋아요 비율 {now} (지난주 {before}, {change}, {p})",
        "en": "like ratio {now} vs {before} last week ({change}, {p})",
    },
    "and": {"ko": " · ", "en": "; "},
    "movers_title": {"ko": "🔎 가장 크게 변한 세그먼트", "en": "🔎 Biggest movers"},
    "movers_in_thread": {
        "ko": "🧵 가장 크게 변한 세그먼트는 스레드에 있습니다.",
        "en": "🧵 Biggest movers are in the thread.",
    },
    "movers_note": {
        "ko": "유의한 변화만, 신뢰구간의 보수적인 끝으로 순위를 매겼습니다.",
        "en": "Significant changes only, ranked by the conservative end of the interval.",
    },
    "model_version": {"ko": "모델", "en": "model"},
    "same_rows": {
        "ko": "{who}와 같은 평가라 한 번만 표시",
        "en": "the same evaluations as {who}, shown once",
    },
    "evaluator": {"ko": "평가자", "en": "evaluator"},
    "score_metric": {"ko": "점수", "en": "score"},
    "like_ratio_metric": {"ko": "좋아요 비율", "en": "like ratio"},
    "vs": {"ko": "지난주", "en": "vs"},
    "low_volume_change": {"ko": "⚠️ 표본 부족", "en": "⚠️ low volume"},
    "low_volume_note": {
        "ko": (
            "⚠️ 표본 부족: 이번주 평가 {n}건·반응 {r}건, 지난주 평가 {prev}건·반응 {prev_r}건 "
            "(각 최소 {min_n}건). "
            "변화율은 개선이나 하락으로 판단하지 않습니다."
        ),
        "en": (
            "⚠️ Low volume: {n} and {r} this week, {prev} and {prev_r} last week "
            "(minimum {min_n} each). "
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
    """Exactly what is posted: the fallback text and the blocks, and a thread reply if any."""

    text: str
    blocks: list[dict[str, Any]]
    thread: RenderedReport | None = None

    def payload(self) -> dict[str, Any]:
        """The main message (the thread reply is posted after it, under its ts)."""
        return {"text": self.text, "blocks": self.blocks}

    def to_json(self) -> str:
        shown = self.payload()
        if self.thread is not None:
            shown["thread"] = self.thread.payload()
        return json.dumps(shown, ensure_ascii=False, indent=2)

    def payload_hash(self) -> str:
        canonical = {**self.payload(), "thread": self.thread.payload() if self.thread else None}
        text = json.dumps(canonical, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


# The message model: what a message says, part by part, in order, already worded and
# escaped. `compose` builds it from a Report; `render_message` turns it into Slack's form.


@dataclass(frozen=True)
class Header:
    """The title (a header block) and the line under it (the week)."""

    title: str
    subtitle: str


@dataclass(frozen=True)
class Fact:
    """One labelled value. `labelled_in_text`: the fallback line names the label too."""

    label: str
    value: str
    labelled_in_text: bool = True


@dataclass(frozen=True)
class Facts:
    """Labelled values side by side (section fields), one "- label: value" line each."""

    items: tuple[Fact, ...]


@dataclass(frozen=True)
class Section:
    """Lines of mrkdwn, under a bold title if any: the lead, a note, the movers."""

    lines: tuple[str, ...]
    title: str | None = None


@dataclass(frozen=True)
class Context:
    """A small grey line. `bulleted`: its fallback line starts with "- " like the facts."""

    text: str
    bulleted: bool = False


@dataclass(frozen=True)
class Link:
    """A button to a URL; the fallback text has no place for it."""

    label: str
    url: str
    action_id: str


Part = Header | Facts | Section | Context | Link


@dataclass(frozen=True)
class Message:
    """A whole Slack message, and the reply posted under it in a thread, if any."""

    parts: tuple[Part, ...]
    thread: Message | None = None


def escape(value: object) -> str:
    """Slack's three control characters, and mrkdwn's formatting characters as look-alikes,
    for any value that came from data."""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return FORMATTING_UNDERSCORE.sub("\u02cd", text.translate(MRKDWN_LOOKALIKES))


def value_text(value: object) -> str:
    """A data value as shown in a list: escaped, and clipped on its own."""
    return clip(escape(value), MAX_VALUE_CHARS)


def count_noun(count: int, singular: str, plural: str) -> str:
    """1 evaluation, 2 evaluations (English)."""
    return f"{count:,} {singular if count == 1 else plural}"


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
        Trend.NOT_SIGNIFICANT: "not_significant",
        Trend.LOW_VOLUME: "low_volume_change",
    }[trend]
    text = word(verdict, lang)
    if trend is Trend.NOT_SIGNIFICANT and report.week.score_mde is not None:
        text += ", " + _could_detect(f"{report.week.score_mde:.2f}{word('points', lang)}", lang)
    return f"{shown} ({text})"


def _could_detect(mde: str, lang: str) -> str:
    """What "not significant" means with this sample: the smallest change it could detect
    (the mart's MDE at var('alpha') and var('power'))."""
    return word("could_detect", lang).format(mde=mde)


def _ci_label(report: Report, lang: str) -> str:
    level = report.week.confidence_level * 100
    return word("ci", lang).format(level=f"{level:g}")


def _this_week_score(report: Report, lang: str) -> str:
    """8.30 (n=412, 95% CI 8.10–8.50): the mean with its sample size and interval."""
    week = report.week
    inside = f"n={week.eval_count:,}"
    if week.avg_score_ci_low is not None and week.avg_score_ci_high is not None:
        interval = f"{week.avg_score_ci_low:.2f}–{week.avg_score_ci_high:.2f}"
        inside += f", {_ci_label(report, lang)} {interval}"
    return f"{_score(week.avg_score, lang)} ({inside})"


def _like_ratio(report: Report, lang: str) -> str:
    week = report.week
    if week.like_ratio is None:
        return word("no_data", lang)
    inside = f"n={week.feedback_count:,}"
    if week.like_ratio_ci_low is not None and week.like_ratio_ci_high is not None:
        interval = f"{week.like_ratio_ci_low * 100:.1f}–{week.like_ratio_ci_high * 100:.1f}%"
        inside += f", {_ci_label(report, lang)} {interval}"
    ratio = f"{week.like_ratio * 100:.1f}% ({inside})"
    if week.like_ratio_change_pp is None:
        return f"{ratio}, {word('no_baseline', lang)}"
    change = _signed(week.like_ratio_change_pp, word("pp", lang))
    if report.like_ratio_regressed:
        verdict = word("regressed", lang)
    elif week.like_ratio_change_significant and round(week.like_ratio_change_pp, 1) != 0:
        verdict = (
            word("improved", lang) if week.like_ratio_change_pp > 0 else word("regressed", lang)
        )
    else:
        verdict = word("not_significant", lang)
        if week.like_ratio_mde_pp is not None:
            verdict += ", " + _could_detect(f"{week.like_ratio_mde_pp:.1f}{word('pp', lang)}", lang)
    return f"{ratio}, {change} ({verdict})"


def _p_value(p: float | None) -> str:
    if p is None:
        return "p n/a"
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def _regression_lead(report: Report, lang: str, mention: str | None) -> str | None:
    """⚠️ and what dropped significantly, with one mention; None when nothing did."""
    week = report.week
    parts = []
    if "score" in report.regressions and week.score_change_pct is not None:
        parts.append(
            word("score_drop", lang).format(
                now=_score(week.avg_score, lang),
                before=_score(week.prev_avg_score, lang),
                change=_signed(week.score_change_pct, "%"),
                p=_p_value(week.score_change_p_value),
            )
        )
    if "like_ratio" in report.regressions and week.like_ratio_change_pp is not None:
        parts.append(
            word("like_drop", lang).format(
                now=f"{(week.like_ratio or 0) * 100:.1f}%",
                before=f"{(week.prev_like_ratio or 0) * 100:.1f}%",
                change=_signed(week.like_ratio_change_pp, word("pp", lang)),
                p=_p_value(week.like_ratio_change_p_value),
            )
        )
    if not parts:
        return None
    lead = word("regression_lead", lang).format(what=word("and", lang).join(parts))
    return f"{lead} {mention}" if mention else lead


def _mover_line(mover: Mover, lang: str) -> str:
    if mover.metric == "score":
        change = f"{mover.change:+.2f}"
        interval = f"{mover.ci_low:+.2f} ~ {mover.ci_high:+.2f}"
    else:
        change = _signed(mover.change, word("pp", lang))
        interval = f"{mover.ci_low:+.1f} ~ {mover.ci_high:+.1f}{word('pp', lang)}"
    counts = f"n={mover.n:,} {word('vs', lang)} {mover.prev_n:,}"
    line = (
        f"• {word(mover.segment_type, lang)} *{value_text(mover.segment_value)}*: "
        f"{word(mover.metric + '_metric', lang)} {change} (CI {interval}; {counts})"
    )
    if mover.same_rows:
        who = ", ".join(
            f"{word(kind, lang)} {value_text(value)}" for kind, value in mover.same_rows
        )
        line += f" ({word('same_rows', lang).format(who=who)})"
    return line


def _week_line(report: Report, lang: str) -> str:
    week = report.week
    line = (
        f"*{escape(week.week_label)}* · {week.week_start.isoformat()} ~ {week.week_end.isoformat()}"
    )
    if not week.is_complete_week:
        line += f" · {word('partial_week', lang)}"
    return line


def _title(report: Report, lang: str) -> str:
    if report.regressions:
        return word("title_regressed", lang)
    if report.trend is Trend.IMPROVED:
        return word("title_improved", lang)
    return word("title", lang)


def _quarantined(week_count: int, figures: QuarantineFigures | None, lang: str) -> str:
    """12 (1.0% of 1,234 raw rows) · top reasons: null_score 7, unknown_feedback_label 5"""
    if figures is None or figures.quarantined_pct is None:
        return f"{week_count:,}"
    text = word("quarantined_share", lang).format(
        count=f"{figures.quarantined_count:,}",
        raw=f"{figures.raw_row_count:,}",
        pct=f"{figures.quarantined_pct:.1f}%",
    )
    if figures.top_reasons:
        reasons = ", ".join(f"{value_text(reason)} {n:,}" for reason, n in figures.top_reasons)
        text += f" · {word('top_reasons', lang)}: {reasons}"
    return text


def _facts(report: Report, lang: str) -> Facts:
    """The week's figures in display order; values are already escaped."""
    week = report.week
    return Facts(
        (
            Fact(word("this_week", lang), _this_week_score(report, lang)),
            Fact(
                word("last_week", lang),
                f"{_score(week.prev_avg_score, lang)} (n={week.prev_eval_count:,})",
            ),
            Fact(word("change", lang), _change(report, lang)),
            # As in the team's original message: "- 👍 52 / 👎 11", no label before it.
            Fact(
                word("feedback", lang),
                f"👍 {week.like_count:,} / 👎 {week.dislike_count:,}",
                labelled_in_text=False,
            ),
            Fact(word("like_ratio", lang), _like_ratio(report, lang)),
            Fact(word("accuracy", lang), _score(week.avg_accuracy, lang)),
            Fact(word("consistency", lang), _score(week.avg_consistency, lang)),
            Fact(word("emotion_match", lang), _score(week.avg_emotion_match, lang)),
            Fact(
                word("quarantined", lang),
                _quarantined(week.quarantined_count, report.quarantine, lang),
            ),
        )
        + tuple(fact for fact in (_agreement(report, lang),) if fact is not None)
    )


def _agreement(report: Report, lang: str) -> Fact | None:
    """The judge-vs-human line: the judge's bias with its interval, the weighted kappa, the
    number of matched responses; None in a week without matched pairs."""
    agreement = report.agreement
    if agreement is None or agreement.judge_bias is None:
        return None
    ci = _ci_label(report, lang)

    def signed(value: float | None) -> str:
        return word("no_baseline", lang) if value is None else f"{value:+.2f}"

    kappa = agreement.quadratic_weighted_kappa
    value = word("agreement_value", lang).format(
        bias=signed(agreement.judge_bias),
        ci=ci,
        low=signed(agreement.judge_bias_ci_low),
        high=signed(agreement.judge_bias_ci_high),
        kappa=word("no_baseline", lang) if kappa is None else f"{kappa:.2f}",
        n=f"{agreement.pair_count:,}",
    )
    if agreement.is_low_volume:
        value += f" ({word('low_volume_change', lang)})"
    elif agreement.judge_bias_change_significant:
        value += f" {word('judge_drift', lang)}"
    return Fact(word("agreement", lang), value)


def _version_line(difference: VersionDifference, report: Report, lang: str) -> str:
    """chat-v2.0 vs chat-v1.1: +0.40 (95% CI +0.21 to +0.59)."""
    if difference.metric == "score":
        metric, fmt = "", "{:+.2f}"
    else:
        metric, fmt = f"{word('like_ratio_metric', lang)} ", "{:+.1f}" + word("pp", lang)
    return "• " + word("version_line", lang).format(
        version=escape(difference.model_version),
        baseline=escape(difference.baseline_version),
        metric=metric,
        diff=fmt.format(difference.difference),
        ci=_ci_label(report, lang),
        low=fmt.format(difference.ci_low),
        high=fmt.format(difference.ci_high),
    )


def _versions(report: Report, lang: str) -> Section | None:
    """The model versions that differ significantly from the week's baseline version."""
    if not report.versions:
        return None
    lines = tuple(_version_line(difference, report, lang) for difference in report.versions)
    return Section(lines, title=word("versions_title", lang))


def _low_volume_note(report: Report, lang: str) -> str:
    week = report.week
    counts = (week.eval_count, week.feedback_count, week.prev_eval_count, week.prev_feedback_count)
    if lang == "en":
        nouns = (("evaluation", "evaluations"), ("reaction", "reactions")) * 2
        n, r, prev, prev_r = (count_noun(c, *noun) for c, noun in zip(counts, nouns, strict=True))
    else:
        n, r, prev, prev_r = (f"{c:,}" for c in counts)
    return word("low_volume_note", lang).format(
        n=n, r=r, prev=prev, prev_r=prev_r, min_n=f"{report.min_n:,}"
    )


def _generated_line(report: Report, lang: str) -> str:
    return f"{word('generated_at', lang)}: {report.generated_at.strftime('%Y-%m-%d %H:%M %Z')}"


def dashboard_link(dashboard_url: str, week_label: str) -> str:
    """The dashboard URL with ?week=<label>, which the dashboard reads."""
    separator = "&" if "?" in dashboard_url else "?"
    return f"{dashboard_url}{separator}week={quote(week_label, safe='')}"


# Composition: a Report → the Message, worded in ko or en. The one place that decides
# what the message says and in which order.


def compose_movers(report: Report, lang: str) -> Message | None:
    """The "Biggest movers" message: up to three significant segments, or None."""
    if not report.movers:
        return None
    title = f"{word('movers_title', lang)} · {escape(report.week.week_label)}"
    return Message(
        (
            Section(tuple(_mover_line(mover, lang) for mover in report.movers), title=title),
            Context(word("movers_note", lang)),
        )
    )


def compose(
    report: Report,
    lang: str = "ko",
    dashboard_url: str | None = None,
    *,
    mention: str | None = None,
    threaded: bool = True,
) -> Message:
    """The regression lead (if any), header and week, facts, low-volume note, movers,
    dashboard button, generated-at line.

    With movers, they go to a thread reply (`threaded`: a bot token) or at the end of the
    message (a webhook, which cannot reply in a thread): the same lines either way.
    `mention` (a Slack mention such as <!subteam^S123>) appears once, in the regression
    lead, and only when there is a significant regression.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}")
    parts: list[Part] = []
    lead = _regression_lead(report, lang, mention)
    if lead:
        # The regression comes first, above the header, so a notification shows it.
        parts.append(Section((lead,)))
    parts += [Header(_title(report, lang), _week_line(report, lang)), _facts(report, lang)]
    if report.is_low_volume:
        parts.append(Section((_low_volume_note(report, lang),)))
    versions = _versions(report, lang)
    if versions is not None:
        parts.append(versions)
    movers = compose_movers(report, lang)
    if movers is not None:
        parts += [Context(word("movers_in_thread", lang))] if threaded else movers.parts
    if dashboard_url:
        url = dashboard_link(dashboard_url, report.week.week_label)
        parts.append(Link(word("dashboard", lang), url, action_id="open_dashboard"))
    parts.append(Context(_generated_line(report, lang), bulleted=True))
    return Message(tuple(parts), thread=movers if threaded else None)


def compose_pipeline_failure(reason: str, lang: str = "ko") -> Message:
    """The short notice posted instead of a report when `dbt build` failed."""
    return Message((Section((word("pipeline_failed", lang).format(reason=escape(reason)),)),))


# The renderer: a Message → the blocks and the fallback text. Each part is rendered once,
# to its fallback lines and its blocks together; slack_sdk's block models hold the limits
# every text is clipped to, and their validation runs when each block becomes a dict.


def _mrkdwn(text: str, limit: int) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(text, limit))


def _render_part(part: Part) -> tuple[list[str], list[Block]]:
    """One part: its lines of fallback text and its blocks."""
    match part:
        case Header(title=title, subtitle=subtitle):
            header = PlainTextObject(text=clip(title, HeaderBlock.text_max_length), emoji=True)
            return [f"{title} · {subtitle}"], [
                HeaderBlock(text=header),
                ContextBlock(elements=[_mrkdwn(subtitle, MAX_TEXT_CHARS)]),
            ]
        case Facts(items=items):
            lines = [
                f"- {fact.label}: {fact.value}" if fact.labelled_in_text else f"- {fact.value}"
                for fact in items
            ]
            fields = [_mrkdwn(f"*{fact.label}*\n{fact.value}", MAX_FIELD_CHARS) for fact in items]
            per = SectionBlock.fields_max_length
            sections: list[Block] = [
                SectionBlock(fields=fields[at : at + per]) for at in range(0, len(fields), per)
            ]
            return lines, sections
        case Section(lines=lines, title=title):
            shown = [f"*{title}*", *lines] if title else list(lines)
            text = _mrkdwn("\n".join(shown), SectionBlock.text_max_length)
            return ([title] if title else []) + list(lines), [SectionBlock(text=text)]
        case Context(text=text, bulleted=bulleted):
            line = f"- {text}" if bulleted else text
            return [line], [ContextBlock(elements=[_mrkdwn(text, MAX_TEXT_CHARS)])]
        case Link(label=label, url=url, action_id=action_id):
            if len(url) > ButtonElement.url_max_length:
                return [], []  # Slack would refuse the whole message for one long link
            text = PlainTextObject(text=clip(label, ButtonElement.text_max_length))
            button = ButtonElement(text=text, action_id=action_id, url=url)
            return [], [ActionsBlock(elements=[button])]
    raise TypeError(f"not a message part: {part!r}")


def render_message(message: Message) -> RenderedReport:
    """The blocks and the fallback text of a message (and of its thread reply)."""
    lines: list[str] = []
    blocks: list[Block] = []
    for part in message.parts:
        part_lines, part_blocks = _render_part(part)
        lines += part_lines
        blocks += part_blocks
    return RenderedReport(
        text=clip("\n".join(lines), MAX_FALLBACK_CHARS),
        # to_dict() runs slack_sdk's validation of each block: a bug raises here, unposted.
        blocks=[block.to_dict() for block in blocks[:MAX_BLOCKS]],
        thread=render_message(message.thread) if message.thread is not None else None,
    )


def render(
    report: Report,
    lang: str = "ko",
    dashboard_url: str | None = None,
    *,
    mention: str | None = None,
    threaded: bool = True,
) -> RenderedReport:
    """The weekly message as posted: `compose`, then `render_message`."""
    return render_message(compose(report, lang, dashboard_url, mention=mention, threaded=threaded))


def render_movers(report: Report, lang: str) -> RenderedReport | None:
    """The "Biggest movers" thread reply as posted, or None without movers."""
    movers = compose_movers(report, lang)
    return None if movers is None else render_message(movers)


def render_pipeline_failure(reason: str, lang: str = "ko") -> RenderedReport:
    """The short notice posted instead of a report when `dbt build` failed."""
    return render_message(compose_pipeline_failure(reason, lang))


MENTION = re.compile(r"^(<@[UW][A-Z0-9]+>|<!subteam\^S[A-Z0-9]+>|<!(here|channel)>)$")


def slack_mention(value: str | None) -> str | None:
    """SLACK_ALERT_MENTION as Slack syntax: U123/W123 (a user), S123 (a user group),
    here or channel, or already written as <@U123> / <!subteam^S123>. None when unset."""
    text = (value or "").strip()
    if not text:
        return None
    if re.fullmatch(r"[UW][A-Z0-9]+", text):
        text = f"<@{text}>"
    elif re.fullmatch(r"S[A-Z0-9]+", text):
        text = f"<!subteam^{text}>"
    elif text.lstrip("@!") in ("here", "channel"):
        text = f"<!{text.lstrip('@!')}>"
    if not MENTION.match(text):
        raise ValueError(
            f"SLACK_ALERT_MENTION must be a user id (U123), a user group id (S123), here or "
            f"channel, not {value!r}"
        )
    return text
