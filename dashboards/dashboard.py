"""The AI Performance dashboard: the marts as charts, and the weekly Slack report on demand.

    make dashboard            # streamlit run on 127.0.0.1:8501 with the repo's dbt profile

Thin on purpose. Numbers come from the marts through reporter.reads (the same dbt profile
and target as `dbt build`: DBT_PROFILES_DIR, DBT_TARGET); which week is the default and
whether a week is low volume come from reporter.report; the Slack preview and send are
reporter.service's own (same ledger, so a week is never posted twice). The app writes
nothing except through service.send_report. This file is the layout; every chart is a pure
function in dashboards/charts.py.

`?week=2026-W01` opens the app on that week: the Slack report's "Open dashboard" button
(DASHBOARD_URL) links here that way.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import asdict

import altair as alt
import pandas as pd
import streamlit as st

from dashboards.charts import (
    COMPLETE,
    ENOUGH,
    LOW_VOLUME,
    PARTIAL,
    daily_feedback_chart,
    daily_score_chart,
    dimensions_chart,
    judge_bias_chart,
    quality_bars_chart,
    segment_chart,
    segment_table,
    weekly_feedback_chart,
    weekly_score_chart,
)
from reporter import reads, settings
from reporter.errors import DeliveryError, OutcomeUnknown, UserError
from reporter.redact import one_line
from reporter.render import LANGUAGES
from reporter.report import WeekFigures, comparison_is_low_volume, previous_week, select_week
from reporter.service import (
    DEFAULT_TIMEZONE,
    ReportRequest,
    preview_report,
    send_report,
)
from reporter.slack import Destination, destination_from_env
from reporter.warehouse import WarehouseConfig, load_config

# Marts change once per `dbt build`; a short TTL keeps reruns quick and data fresh.
CACHE_TTL_S = int(os.environ.get("DASHBOARD_CACHE_TTL", "60"))
SEGMENT_TYPES = {"model_version": "Model version", "evaluator": "Evaluator"}
TABS = (
    "AI Performance",
    "Feedback",
    "Quality dimensions",
    "By model and evaluator",
    "Data quality",
    "Judge vs human",
)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def load_weeks(config: WarehouseConfig) -> list[WeekFigures]:
    return reads.read_weekly_performance(config)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def load_days(config: WarehouseConfig) -> list[reads.DayScores]:
    return reads.read_daily_scores(config)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def load_feedback(config: WarehouseConfig) -> list[reads.DayFeedback]:
    return reads.read_daily_feedback(config)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def load_segment_weeks(config: WarehouseConfig) -> list[reads.SegmentWeek]:
    return reads.read_segment_weeks(config)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def load_quality(config: WarehouseConfig) -> list[reads.QualityCount]:
    return reads.read_data_quality_daily(config)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def load_versions(config: WarehouseConfig) -> list[reads.VersionWeek]:
    return reads.read_rows(config, "model_version_comparison", reads.VersionWeek, "week_start")


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def load_agreement(config: WarehouseConfig) -> list[reads.AgreementWeek]:
    return reads.read_rows(config, "judge_agreement_weekly", reads.AgreementWeek, "week_start")


def min_n() -> int:
    """dbt var min_n, as the marts were built with it (DBT_VARS, else dbt_project.yml)."""
    return settings.min_n()


def week_table(weeks: list[WeekFigures], low_volume: dict[str, bool]) -> pd.DataFrame:
    frame = pd.DataFrame([asdict(week) for week in weeks])
    frame["week_start"] = pd.to_datetime(frame["week_start"])
    frame["volume"] = [LOW_VOLUME if low_volume[week.week_label] else ENOUGH for week in weeks]
    frame["period"] = [COMPLETE if week.is_complete_week else PARTIAL for week in weeks]
    return frame


def low_volume_weeks(weeks: list[WeekFigures]) -> dict[str, bool]:
    """Each week's change is low volume as the report says it (the marts' flags)."""
    return {
        week.week_label: comparison_is_low_volume(week, previous_week(weeks, week))
        for week in weeks
    }


def week_option(week: WeekFigures, low_volume: dict[str, bool]) -> str:
    notes = [LOW_VOLUME] if low_volume[week.week_label] else []
    if not week.is_complete_week:
        notes.append("partial week")
    return " · ".join([week.week_label, *notes])


def initial_week(weeks: list[WeekFigures]) -> str:
    """`?week=` when it names a week of the mart, else the latest complete week."""
    labels = [week.week_label for week in weeks]
    asked = st.query_params.get("week")
    if asked:
        if asked.strip().upper() in labels:
            return asked.strip().upper()
        st.warning(
            f"Week {plain(repr(asked[:60]))} from the link is not in weekly_performance "
            f"({labels[0]} to {labels[-1]}); showing the latest complete week."
        )
    try:
        return select_week(weeks).week_label
    except UserError:
        return labels[-1]  # no complete week yet: the latest one


def pick_week(weeks: list[WeekFigures], low_volume: dict[str, bool]) -> WeekFigures:
    by_label = {week.week_label: week for week in weeks}
    if st.session_state.get("week") not in by_label:
        st.session_state["week"] = initial_week(weeks)
    label = st.sidebar.selectbox(
        "Week",
        list(reversed(by_label)),
        key="week",
        format_func=lambda label: week_option(by_label[label], low_volume),
        help="Default: the latest complete week. The link ?week=2026-W01 selects a week.",
    )
    st.query_params["week"] = label  # the address bar always names the week shown
    return by_label[label]


def pick_dates(weeks: list[WeekFigures]) -> tuple[dt.date, dt.date]:
    first, last = weeks[0].week_start, weeks[-1].week_end
    picked = st.sidebar.date_input(
        "Date range", value=(first, last), min_value=first, max_value=last, key="dates"
    )
    if isinstance(picked, tuple | list) and len(picked) == 2:
        return picked[0], picked[1]
    return first, last  # while only one end is picked


def chart(layers: alt.Chart | alt.LayerChart, key: str) -> None:
    # The plot, its rotated week labels and the legends below it share this height.
    st.altair_chart(layers.properties(height=440), width="stretch", key=key)


def ai_performance_tab(
    week: WeekFigures, weekly: pd.DataFrame, days: list[reads.DayScores], low: bool
) -> None:
    score, evals, ratio = st.columns(3)
    score.metric(
        f"Average score · {week.week_label}",
        "n/a" if week.avg_score is None else f"{week.avg_score:.2f}",
        delta=None if week.score_change_pct is None else f"{week.score_change_pct:+.1f}%",
        delta_color="off" if low else "normal",
        help=f"Last week: {'n/a' if week.prev_avg_score is None else f'{week.prev_avg_score:.2f}'}"
        f" (n={week.prev_eval_count:,})",
    )
    evals.metric(
        "Evaluations",
        f"{week.eval_count:,}",
        delta=f"{week.eval_count - week.prev_eval_count:+,}" if week.prev_eval_count else None,
        delta_color="off",
    )
    ratio.metric(
        "Like ratio",
        "n/a" if week.like_ratio is None else f"{week.like_ratio * 100:.1f}%",
        delta=None if week.like_ratio_change_pp is None else f"{week.like_ratio_change_pp:+.1f} pp",
    )
    if low:
        st.warning(
            f"Low volume: {week.eval_count:,} evaluations and {week.feedback_count:,} reactions "
            f"this week, {week.prev_eval_count:,} and {week.prev_feedback_count:,} the week "
            f"before (minimum {min_n():,} each). "
            "The change is not an improvement or a regression.",
            icon="⚠️",
        )
    if not week.is_complete_week:
        st.caption(f"{plain(week.week_label)} is not complete yet: its numbers will still change.")

    st.subheader("Weekly average score")
    chart(weekly_score_chart(weekly, week), "weekly_score")
    st.caption(
        f"Band: the {week.confidence_level:.0%} confidence interval of each week's mean. "
        "Diamonds: a change from the week before that is statistically significant "
        "(Welch's t test); a change without one is within what noise explains. "
        "A week still running is hollow, on a dashed line: its numbers will still change."
    )

    st.subheader("Daily average score")
    if not days:
        st.info("No evaluations in the selected date range.")
        return
    chart(daily_score_chart(days, min_n()), "daily_score")


def feedback_tab(weekly: pd.DataFrame, feedback: list[reads.DayFeedback]) -> None:
    st.subheader("Likes and dislikes per week")
    chart(weekly_feedback_chart(weekly), "feedback")
    st.caption(
        "Band: the Wilson interval of each week's like ratio. Diamonds: a significant change "
        "from the week before (two-proportion test). A week still running has faded bars "
        "and a dashed ratio line: it is short because it is not over, not because it fell."
    )

    st.subheader("Daily like ratio")
    if not feedback:
        st.info("No reactions in the selected date range.")
        return
    chart(daily_feedback_chart(feedback, min_n()), "daily_feedback")


def quality_dimensions_tab(weekly: pd.DataFrame) -> None:
    st.subheader("Accuracy, consistency and emotion match per week")
    chart(dimensions_chart(weekly), "dimensions")


def quality_bars(rows: list[reads.QualityCount], key: str) -> None:
    chart(quality_bars_chart(rows), key)


def _shown(value: float | None, pattern: str) -> str:
    return "n/a" if value is None or pd.isna(value) else pattern.format(value)


def segment_week_table(this_week: pd.DataFrame, label: str) -> pd.DataFrame:
    rows = list(this_week.itertuples())
    return pd.DataFrame(
        {
            label: [r.segment_value for r in rows],
            "Evaluations (n)": [r.eval_count for r in rows],
            "Average score (95% CI)": [
                f"{_shown(r.avg_score, '{:.2f}')} ({_shown(r.avg_score_ci_low, '{:.2f}')}"
                f"–{_shown(r.avg_score_ci_high, '{:.2f}')})"
                for r in rows
            ],
            "Change vs last week (CI)": [
                f"{_shown(r.score_change, '{:+.2f}')} ({_shown(r.score_change_ci_low, '{:+.2f}')}"
                f" to {_shown(r.score_change_ci_high, '{:+.2f}')})"
                + (" · significant" if r.score_change_significant else "")
                for r in rows
            ],
            "Like ratio": [_shown(r.like_ratio, "{:.1%}") for r in rows],
            "Volume": [r.volume for r in rows],
            "Same rows as model": [r.same_rows_as_model_version or "" for r in rows],
        }
    )


def segments_tab(week: WeekFigures, segments: list[reads.SegmentWeek]) -> None:
    st.subheader("Average score per model version or evaluator")
    if not segments:
        st.info("No segment in the selected date range.")
        return
    segment_type = st.radio(
        "Compare",
        list(SEGMENT_TYPES),
        format_func=SEGMENT_TYPES.get,
        horizontal=True,
        key="segment_type",
    )
    label = SEGMENT_TYPES[segment_type]
    frame = pd.DataFrame([asdict(row) for row in segments])
    frame["week_start"] = pd.to_datetime(frame["week_start"])
    shown = segment_table(frame, segment_type)
    chart(segment_chart(shown, label), "segments")
    st.caption(
        "Hollow points: low volume (fewer evaluations than the marts' min_n): not a trend. "
        "Hover for n and the interval."
    )
    this_week = shown[shown["week_label"] == week.week_label]
    st.subheader(f"{label}s in {week.week_label}")
    if this_week.empty:
        st.info(f"No {label.lower()} has data in {week.week_label}.")
        return
    st.dataframe(segment_week_table(this_week, label), hide_index=True)


def version_table(rows: list[reads.VersionWeek], week: WeekFigures) -> pd.DataFrame:
    """The week's model versions against its baseline version (model_version_comparison)."""
    ci = f"{week.confidence_level:.0%}"
    return pd.DataFrame(
        {
            "Model": [r.model_version for r in rows],
            "Baseline": [r.baseline_version for r in rows],
            "Evaluations (n)": [r.eval_count for r in rows],
            "Score diff": [_shown(r.score_diff, "{:+.2f}") for r in rows],
            f"Score diff {ci} CI": [
                f"{_shown(r.score_diff_ci_low, '{:+.2f}')} to "
                f"{_shown(r.score_diff_ci_high, '{:+.2f}')}"
                for r in rows
            ],
            "Score significant": [r.score_diff_significant for r in rows],
            "Like ratio diff (pp)": [_shown(r.like_ratio_diff_pp, "{:+.1f}") for r in rows],
            "Like ratio significant": [r.like_ratio_diff_significant for r in rows],
            "Low volume": [r.is_low_volume for r in rows],
        }
    )


def versions_section(week: WeekFigures, versions: list[reads.VersionWeek]) -> None:
    st.subheader(f"Model versions against the baseline in {week.week_label}")
    this_week = [row for row in versions if row.week_label == week.week_label]
    if not this_week:
        st.info(f"No model version has evaluations in {week.week_label}.")
        return
    st.dataframe(version_table(this_week, week), hide_index=True)
    st.caption(
        "The same week's traffic, so no week-over-week confound: Welch (score) and Newcombe "
        "(like ratio) intervals, significance after Benjamini–Hochberg across the week's versions."
    )


def judge_tab(week: WeekFigures, agreement: list[reads.AgreementWeek]) -> None:
    st.subheader("LLM judge vs humans: the judge's bias per week")
    service = [row for row in agreement if row.segment_type == "service"]
    if not service:
        st.info(
            "No response has both a human and an LLM-judge evaluation yet, so there is no "
            "agreement to show (judge_agreement_weekly is empty)."
        )
        return
    frame = pd.DataFrame([asdict(row) for row in service])
    frame["week_start"] = pd.to_datetime(frame["week_start"])
    chart(judge_bias_chart(frame), "judge_bias")
    st.caption(
        "Band: the bias's interval. Dashed: the limits of agreement (Bland–Altman), where 95% "
        "of single differences fall. Hover for the weighted κ, Krippendorff's α and Spearman's ρ."
    )
    rows = [row for row in agreement if row.week_label == week.week_label]
    if rows:
        st.dataframe(pd.DataFrame([asdict(row) for row in rows]), hide_index=True)


def data_quality_tab(
    week: WeekFigures, quality: list[reads.QualityCount], undated: list[reads.QualityCount]
) -> None:
    st.metric(f"Quarantined rows · {week.week_label}", f"{week.quarantined_count:,}")
    st.subheader("Quarantined rows per day and reason")
    quarantined = [row for row in quality if row.is_quarantined]
    if quarantined:
        quality_bars(quarantined, "quarantined")
    else:
        st.info("No quarantined rows in the selected date range.")
    st.subheader("Rows set aside or repaired per day")
    st.caption("Duplicates, superseded reactions and out-of-range dimensions: kept out by rule.")
    aside = [row for row in quality if not row.is_quarantined]
    if aside:
        quality_bars(aside, "set_aside")
    else:
        st.info("No rows set aside in the selected date range.")
    if undated:
        st.caption("Rows without a created_at (no day to chart them on):")
        st.dataframe(
            pd.DataFrame([asdict(row) for row in undated])[["source_table", "issue", "row_count"]],
            hide_index=True,
        )


# Markdown's and Streamlit's own syntax inside a line: links and images ([]()!), HTML and
# autolinks (<>, "scheme:", "www.", "@"), emphasis and code (*`~ and _ at a word's edge),
# math ($), tables (|), :color[] and :icon: directives (:). "#" matters only at the start.
_MARKDOWN = re.compile(
    r"[\\`*{}\[\]()<>~:$|!&^=@]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|(?<=www)\.|^#",
    re.IGNORECASE,
)


def plain(value: object) -> str:
    """`value` as plain text inside st.warning/st.info/…: redacted, on one line, and every
    character that markdown or Streamlit would act on escaped, so it shows as typed."""
    return _MARKDOWN.sub(lambda match: "\\" + match.group(0), one_line(value, 300))


def slack_destination() -> tuple[Destination | None, str | None]:
    try:
        return destination_from_env(None), None
    except UserError as exc:
        return None, str(exc)


def slack_section(config: WarehouseConfig, week: WeekFigures) -> None:
    with st.expander(f"Send report to Slack · {week.week_label}"):
        default_lang = os.environ.get("REPORT_LANG", "ko")
        lang = st.radio(
            "Language",
            LANGUAGES,
            index=LANGUAGES.index(default_lang) if default_lang in LANGUAGES else 0,
            horizontal=True,
            key="lang",
        )
        request = ReportRequest(
            week=week.week_label,
            lang=lang,
            dashboard_url=os.environ.get("DASHBOARD_URL") or None,
            timezone=os.environ.get("REPORT_DISPLAY_TZ") or DEFAULT_TIMEZONE,
        )
        preview = preview_report(config, request)
        st.caption("Exactly what the reporter posts (the fallback text; the blocks say the same):")
        st.code(preview.rendered.text, language=None, wrap_lines=True)
        destination, problem = slack_destination()
        if problem:
            st.warning(f"Sending is off: {plain(problem)}.")
        else:
            st.caption(f"Sends to {plain(destination.key)}, once per week (the reporter's ledger).")
        if st.button("Send report to Slack", disabled=destination is None, key="send"):
            send_outcome(config, request, destination)


def send_outcome(config: WarehouseConfig, request: ReportRequest, destination: Destination) -> None:
    """Send, and say what happened in one message, as `reporter send` would."""
    try:
        outcome = send_report(config, request, destination)
    except OutcomeUnknown as exc:
        st.warning(f"Outcome unknown, not posted again: {plain(exc)}")
        return
    except (UserError, DeliveryError) as exc:
        st.error(f"Not sent: {plain(exc)}")
        return
    sentence = plain(outcome.summary[:1].upper() + outcome.summary[1:]) + "."
    if outcome.status == "sent":
        st.success(sentence)
    else:
        st.info(sentence)
    if outcome.warning:
        st.warning(plain(outcome.warning[:1].upper() + outcome.warning[1:]))


def in_range(value: dt.date | None, dates: tuple[dt.date, dt.date]) -> bool:
    return value is not None and dates[0] <= value <= dates[1]


def main() -> None:
    st.set_page_config(page_title="AI Performance", page_icon="📈", layout="wide")
    st.title("AI Performance")
    try:
        config = load_config()
        weeks = load_weeks(config)
        min_n()  # a bad DBT_VARS is said here, once
    except UserError as exc:
        st.error(f"Cannot read the warehouse: {plain(exc)}")
        st.stop()
    if not weeks:
        st.info(
            "The warehouse has no data yet: weekly_performance is empty. Load raw evaluations "
            "and reactions, then run `dbt build` (or `make demo` for demo data)."
        )
        st.stop()

    low_volume = low_volume_weeks(weeks)
    week = pick_week(weeks, low_volume)
    dates = pick_dates(weeks)
    st.sidebar.caption(
        f"Warehouse: {config.target_name} ({config.type}), schema {config.schema}. "
        f"Low volume: fewer than {min_n():,} evaluations or reactions (dbt var min_n)."
    )
    shown = [w for w in weeks if dates[0] <= w.week_end and w.week_start <= dates[1]]
    if not shown:
        st.info("No week overlaps the selected date range.")
        st.stop()
    weekly = week_table(shown, low_volume)
    days = [day for day in load_days(config) if in_range(day.score_date, dates)]
    quality = load_quality(config)

    tabs = st.tabs(TABS)
    with tabs[0]:
        ai_performance_tab(week, weekly, days, low_volume[week.week_label])
    with tabs[1]:
        feedback_tab(
            weekly, [day for day in load_feedback(config) if in_range(day.feedback_date, dates)]
        )
    with tabs[2]:
        quality_dimensions_tab(weekly)
    with tabs[3]:
        segments_tab(
            week,
            [row for row in load_segment_weeks(config) if dates[0] <= row.week_start <= dates[1]],
        )
        versions_section(week, load_versions(config))
    with tabs[4]:
        data_quality_tab(
            week,
            [row for row in quality if in_range(row.quality_date, dates)],
            [row for row in quality if row.quality_date is None],
        )
    with tabs[5]:
        judge_tab(week, load_agreement(config))
    slack_section(config, week)


if __name__ == "__main__":
    main()  # Streamlit runs the script as __main__, top to bottom, on every interaction.
