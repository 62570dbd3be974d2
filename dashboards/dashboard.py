"""The AI Performance dashboard: the marts as charts, and the weekly Slack report on demand.

    make dashboard            # streamlit run on 127.0.0.1:8501 with the repo's dbt profile

Thin on purpose. Numbers come from the marts through reporter.reads (the same dbt profile
and target as `dbt build`: DBT_PROFILES_DIR, DBT_TARGET); which week is the default and
whether a week is low volume come from reporter.report; the Slack preview and send are
reporter.service's own (same ledger, so a week is never posted twice). The app writes
nothing except through service.send_report.

`?week=2026-W01` opens the app on that week: the Slack report's "Open dashboard" button
(DASHBOARD_URL) links here that way.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from dataclasses import asdict
from pathlib import Path

# Streamlit runs this file as a script: make the repository's `reporter` importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import altair as alt  # noqa: E402
import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from reporter import reads  # noqa: E402
from reporter.errors import DeliveryError, OutcomeUnknown, UserError  # noqa: E402
from reporter.redact import one_line  # noqa: E402
from reporter.render import LANGUAGES  # noqa: E402
from reporter.report import DEFAULT_MIN_N, Report, WeekFigures, select_week  # noqa: E402
from reporter.service import (  # noqa: E402
    DEFAULT_TIMEZONE,
    ReportRequest,
    preview_report,
    send_report,
)
from reporter.slack import Destination, destination_from_env  # noqa: E402
from reporter.warehouse import WarehouseConfig, load_config  # noqa: E402

# Marts change once per `dbt build`; a short TTL keeps reruns quick and data fresh.
CACHE_TTL_S = int(os.environ.get("DASHBOARD_CACHE_TTL", "60"))
LOW_VOLUME = "low volume"
ENOUGH = "enough evaluations"
# Below the chart, with room for the whole label.
LEGEND = alt.Legend(orient="bottom", direction="vertical", labelLimit=320)
VOLUME_SCALE = alt.Scale(domain=[ENOUGH, LOW_VOLUME], range=["#1f77b4", "#8c8c8c"])
VOLUME_SHAPES = alt.Scale(domain=[ENOUGH, LOW_VOLUME], range=["circle", "triangle"])
# A week still running is drawn dashed and hollow: its numbers will still change.
COMPLETE = "complete week"
PARTIAL = "partial week (still changing)"
PERIOD_DASHES = alt.Scale(domain=[COMPLETE, PARTIAL], range=[[1, 0], [6, 4]])
PERIOD_OPACITY = alt.Scale(domain=[COMPLETE, PARTIAL], range=[1.0, 0.35])
# Significant changes: green up, red down, in a legend of their own (the stroke channel,
# so they never share the volume or reaction colours).
DIRECTION_SCALE = alt.Scale(domain=["up", "down"], range=["#2ca02c", "#d62728"])
REACTION_SCALE = alt.Scale(domain=["like", "dislike"], range=["#98df8a", "#ff9896"])
# One colour per data-quality reason (the accepted values of data_quality_daily.issue), so
# a reason keeps its colour whichever others appear; a new reason takes the next spare one.
REASON_COLOURS = {
    "null_evaluation_id": "#1f77b4",
    "null_feedback_id": "#aec7e8",
    "null_created_at": "#ff7f0e",
    "null_score": "#9467bd",
    "score_out_of_range": "#d62728",
    "unknown_feedback_label": "#8c564b",
    "duplicate_evaluation_id": "#17becf",
    "duplicate_feedback_id": "#9edae5",
    "superseded_reaction": "#bcbd22",
    "dimension_out_of_range": "#e377c2",
}
SPARE_COLOURS = ("#7f7f7f", "#c49c94", "#f7b6d2", "#c5b0d5", "#dbdb8d", "#ffbb78")
SEGMENT_TYPES = {"model_version": "Model version", "evaluator": "Evaluator"}
DIMENSIONS = {
    "avg_accuracy": "accuracy",
    "avg_consistency": "consistency",
    "avg_emotion_match": "emotion match",
}
# Weeks by their label (2026-W01), as in the Slack report, in calendar order.
WEEK_AXIS = alt.X("week_label:O", title="ISO week", sort=alt.SortField("week_start"))
TABS = (
    "AI Performance",
    "Feedback",
    "Quality dimensions",
    "By model and evaluator",
    "Data quality",
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


def min_n() -> int:
    """The reporter's low-volume threshold (REPORT_MIN_N, as for `reporter send`)."""
    try:
        return max(1, int(os.environ.get("REPORT_MIN_N") or DEFAULT_MIN_N))
    except ValueError:
        return DEFAULT_MIN_N


def is_low_volume(week: WeekFigures) -> bool:
    # The report's own rule, so the dashboard and the Slack message agree.
    return Report(week, dt.datetime.now(dt.timezone.utc), min_n()).is_low_volume


def week_table(weeks: list[WeekFigures]) -> pd.DataFrame:
    frame = pd.DataFrame([asdict(week) for week in weeks])
    frame["week_start"] = pd.to_datetime(frame["week_start"])
    frame["volume"] = [LOW_VOLUME if is_low_volume(week) else ENOUGH for week in weeks]
    frame["period"] = [COMPLETE if week.is_complete_week else PARTIAL for week in weeks]
    return frame


def week_option(week: WeekFigures) -> str:
    notes = [LOW_VOLUME] if is_low_volume(week) else []
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


def pick_week(weeks: list[WeekFigures]) -> WeekFigures:
    by_label = {week.week_label: week for week in weeks}
    if st.session_state.get("week") not in by_label:
        st.session_state["week"] = initial_week(weeks)
    label = st.sidebar.selectbox(
        "Week",
        list(reversed(by_label)),
        key="week",
        format_func=lambda label: week_option(by_label[label]),
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


def selected_rule(frame: pd.DataFrame, week: WeekFigures) -> alt.Chart:
    marker = frame[frame["week_label"] == week.week_label]
    return alt.Chart(marker).mark_rule(strokeDash=[4, 4], color="gray").encode(x=WEEK_AXIS)


def significant_changes(frame: pd.DataFrame, flag: str, change: str) -> pd.DataFrame:
    """The weeks whose change against the week before is significant (the mart's flag)."""
    marked = frame[frame[flag].fillna(False).astype(bool)].copy()
    marked["direction"] = ["up" if value > 0 else "down" for value in marked[change]]
    return marked


def change_markers(
    frame: pd.DataFrame, y: alt.Y, flag: str, change: str, p_value: str
) -> alt.Chart:
    """A ring around each week whose change is significant: green up, red down."""
    return (
        alt.Chart(significant_changes(frame, flag, change))
        .mark_point(shape="diamond", size=260, filled=False, strokeWidth=2)
        .encode(
            x=WEEK_AXIS,
            y=y,
            stroke=alt.Stroke(
                "direction:N",
                title="Significant change",
                scale=DIRECTION_SCALE,
                legend=alt.Legend(
                    orient="bottom", direction="vertical", labelLimit=320, symbolType="diamond"
                ),
            ),
            tooltip=[
                alt.Tooltip("week_label:N", title="Week"),
                alt.Tooltip(f"{change}:Q", title="Change vs last week", format="+.2f"),
                alt.Tooltip(f"{p_value}:Q", title="p-value", format=".4f"),
            ],
        )
    )


def period_lines(frame: pd.DataFrame, y: alt.Y, color: str | None = None) -> alt.LayerChart:
    """A solid line through complete weeks, and a dashed one on into the partial weeks, with
    a legend saying which is which."""
    frame = frame.sort_values("week_start")
    partial = frame["period"] == PARTIAL
    complete = frame[~partial].assign(line=COMPLETE)
    if partial.any():
        # The dashed line starts at the last complete week, so the two lines join.
        first = int(partial.to_numpy().argmax())
        ongoing = frame.iloc[max(first - 1, 0) :]
    else:
        ongoing = frame.iloc[0:0]
    ongoing = ongoing.assign(line=PARTIAL)
    mark = {"color": color} if color else {}
    dash = alt.StrokeDash(
        "line:N",
        title="Week",
        scale=PERIOD_DASHES,
        legend=alt.Legend(
            orient="bottom",
            direction="vertical",
            labelLimit=320,
            symbolSize=600,
            symbolStrokeWidth=2,
        ),
    )
    return alt.layer(
        alt.Chart(complete).mark_line(**mark).encode(x=WEEK_AXIS, y=y, strokeDash=dash),
        alt.Chart(ongoing).mark_line(**mark).encode(x=WEEK_AXIS, y=y, strokeDash=dash),
    )


def weekly_score_chart(weekly: pd.DataFrame, selected: WeekFigures) -> alt.LayerChart:
    """Band (interval), line (dashed into a partial week), points by volume (hollow for a
    partial week), diamonds on significant changes, and the selected week's rule."""
    tooltip = [
        alt.Tooltip("week_label:N", title="Week"),
        alt.Tooltip("avg_score:Q", title="Average score", format=".2f"),
        alt.Tooltip("eval_count:Q", title="Evaluations (n)", format=","),
        alt.Tooltip("score_change_pct:Q", title="Change vs last week %", format="+.1f"),
        alt.Tooltip("volume:N", title="Volume"),
        alt.Tooltip("period:N", title="Week"),
    ]
    y = alt.Y("avg_score:Q", title="Average score (0–10)", scale=alt.Scale(zero=False))
    points = (
        alt.Chart(weekly)
        .mark_point(size=90, strokeWidth=2)
        .encode(
            x=WEEK_AXIS,
            y=y,
            color=alt.Color(
                "volume:N",
                title="Volume",
                scale=VOLUME_SCALE,
                legend=LEGEND,
            ),
            shape=alt.Shape("volume:N", title="Volume", scale=VOLUME_SHAPES),
            # Filled for a complete week, hollow for one still running.
            fillOpacity=alt.FillOpacity(
                "period:N",
                scale=alt.Scale(domain=[COMPLETE, PARTIAL], range=[1.0, 0.0]),
                legend=None,
            ),
            fill=alt.Fill("volume:N", scale=VOLUME_SCALE, legend=None),
            tooltip=tooltip,
        )
    )
    band = (
        alt.Chart(weekly)
        .mark_area(opacity=0.2, color="#1f77b4")
        .encode(
            x=WEEK_AXIS,
            y=alt.Y("avg_score_ci_low:Q", scale=alt.Scale(zero=False)),
            y2="avg_score_ci_high:Q",
            tooltip=[
                alt.Tooltip("week_label:N", title="Week"),
                alt.Tooltip("avg_score_ci_low:Q", title="CI low", format=".2f"),
                alt.Tooltip("avg_score_ci_high:Q", title="CI high", format=".2f"),
            ],
        )
    )
    markers = change_markers(
        weekly,
        alt.Y("avg_score:Q", scale=alt.Scale(zero=False)),
        "score_change_significant",
        "score_change_pct",
        "score_change_p_value",
    )
    lines = period_lines(weekly, y, color="#1f77b4")
    return alt.layer(band, *lines.layer, points, markers, selected_rule(weekly, selected))


def daily_chart(
    frame: pd.DataFrame, x: str, y: alt.Y, n: str, unit: str, tooltip: list[alt.Tooltip]
) -> alt.LayerChart:
    """A daily line through the days with at least REPORT_MIN_N rows; the other days are
    hollow grey points off the line, so a day with one reaction cannot look like a trend."""
    threshold = min_n()
    enough = f"{threshold:,} {unit} or more"
    few = f"fewer than {threshold:,} {unit} (not a trend)"
    frame = frame.assign(day_volume=[few if value < threshold else enough for value in frame[n]])
    x_axis = alt.X(f"{x}:T", title="Day")
    line = (
        alt.Chart(frame[frame["day_volume"] == enough])
        .mark_line(color="#1f77b4")
        .encode(x=x_axis, y=y, tooltip=tooltip)
    )
    points = (
        alt.Chart(frame)
        .mark_point(size=50, strokeWidth=1.5)
        .encode(
            x=x_axis,
            y=y,
            color=alt.Color(
                "day_volume:N",
                title="Day",
                scale=alt.Scale(domain=[enough, few], range=["#1f77b4", "#8c8c8c"]),
                legend=LEGEND,
            ),
            fillOpacity=alt.FillOpacity(
                "day_volume:N", scale=alt.Scale(domain=[enough, few], range=[1.0, 0.0]), legend=None
            ),
            fill=alt.Fill(
                "day_volume:N",
                scale=alt.Scale(domain=[enough, few], range=["#1f77b4", "#8c8c8c"]),
                legend=None,
            ),
            tooltip=tooltip,
        )
    )
    return alt.layer(line, points)


def ai_performance_tab(
    week: WeekFigures, weekly: pd.DataFrame, days: list[reads.DayScores]
) -> None:
    low = is_low_volume(week)
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
            f"Low volume: {week.eval_count:,} evaluations this week and "
            f"{week.prev_eval_count:,} the week before (minimum {min_n():,}). "
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
    daily = pd.DataFrame([asdict(day) for day in days])
    daily["score_date"] = pd.to_datetime(daily["score_date"])
    chart(
        daily_chart(
            daily,
            "score_date",
            alt.Y("avg_score:Q", title="Average score (0–10)", scale=alt.Scale(zero=False)),
            "eval_count",
            "evaluations",
            [
                alt.Tooltip("score_date:T", title="Day"),
                alt.Tooltip("avg_score:Q", title="Average score", format=".2f"),
                alt.Tooltip("eval_count:Q", title="Evaluations (n)", format=","),
            ],
        ),
        "daily_score",
    )


def weekly_feedback_chart(weekly: pd.DataFrame) -> alt.LayerChart:
    """Stacked likes and dislikes (faded for a partial week), the like ratio with its Wilson
    band (dashed into a partial week), and diamonds on significant changes."""
    counts = weekly.melt(
        id_vars=["week_label", "week_start", "feedback_count", "period"],
        value_vars=["like_count", "dislike_count"],
        var_name="reaction",
        value_name="count",
    )
    counts["reaction"] = counts["reaction"].map({"like_count": "like", "dislike_count": "dislike"})
    bars = (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=WEEK_AXIS,
            y=alt.Y("count:Q", title="Reactions", stack="zero"),
            color=alt.Color(
                "reaction:N",
                title="Reaction",
                scale=REACTION_SCALE,
                legend=LEGEND,
            ),
            # A partial week's bar is short because the week is not over: faded, not a drop.
            opacity=alt.Opacity(
                "period:N",
                title="Bars",
                scale=PERIOD_OPACITY,
                legend=LEGEND,
            ),
            order=alt.Order("reaction:N", sort="descending"),
            tooltip=[
                alt.Tooltip("week_label:N", title="Week"),
                alt.Tooltip("reaction:N", title="Reaction"),
                alt.Tooltip("count:Q", title="Count", format=","),
                alt.Tooltip("feedback_count:Q", title="All reactions (n)", format=","),
                alt.Tooltip("period:N", title="Week"),
            ],
        )
    )
    # The same [0, 1] scale for the ratio, its band and the markers, on the right axis.
    ratio_scale = alt.Scale(domain=[0, 1])
    ratio_y = alt.Y(
        "like_ratio:Q",
        title="Like ratio",
        axis=alt.Axis(format="%", orient="right"),
        scale=ratio_scale,
    )
    ratio_points = (
        alt.Chart(weekly)
        .mark_point(filled=True, color="black", size=40)
        .encode(
            x=WEEK_AXIS,
            y=alt.Y("like_ratio:Q", scale=ratio_scale, axis=None),
            tooltip=[
                alt.Tooltip("week_label:N", title="Week"),
                alt.Tooltip("like_ratio:Q", title="Like ratio", format=".1%"),
                alt.Tooltip("like_ratio_change_pp:Q", title="Change (pp)", format="+.1f"),
                alt.Tooltip("feedback_count:Q", title="Reactions (n)", format=","),
            ],
        )
    )
    ratio_band = (
        alt.Chart(weekly)
        .mark_area(opacity=0.15, color="black")
        .encode(
            x=WEEK_AXIS,
            y=alt.Y("like_ratio_ci_low:Q", scale=ratio_scale, axis=None),
            y2="like_ratio_ci_high:Q",
        )
    )
    ratio_markers = change_markers(
        weekly,
        alt.Y("like_ratio:Q", scale=ratio_scale, axis=None),
        "like_ratio_change_significant",
        "like_ratio_change_pp",
        "like_ratio_change_p_value",
    )
    ratio_lines = period_lines(weekly, ratio_y, color="black")
    return alt.layer(
        bars, ratio_band, *ratio_lines.layer, ratio_points, ratio_markers
    ).resolve_scale(y="independent")


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
    daily = pd.DataFrame([asdict(day) for day in feedback])
    daily["feedback_date"] = pd.to_datetime(daily["feedback_date"])
    chart(
        daily_chart(
            daily,
            "feedback_date",
            alt.Y("like_ratio:Q", title="Like ratio", axis=alt.Axis(format="%")),
            "feedback_count",
            "reactions",
            [
                alt.Tooltip("feedback_date:T", title="Day"),
                alt.Tooltip("like_ratio:Q", title="Like ratio", format=".1%"),
                alt.Tooltip("like_count:Q", title="Likes", format=","),
                alt.Tooltip("dislike_count:Q", title="Dislikes", format=","),
                alt.Tooltip("feedback_count:Q", title="Reactions (n)", format=","),
            ],
        ),
        "daily_feedback",
    )


def quality_dimensions_tab(weekly: pd.DataFrame) -> None:
    st.subheader("Accuracy, consistency and emotion match per week")
    long = weekly.melt(
        id_vars=["week_label", "week_start", "eval_count", "volume"],
        value_vars=list(DIMENSIONS),
        var_name="dimension",
        value_name="average",
    )
    long["dimension"] = long["dimension"].map(DIMENSIONS)
    chart(
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=WEEK_AXIS,
            y=alt.Y("average:Q", title="Average (0–10)", scale=alt.Scale(zero=False)),
            color=alt.Color("dimension:N", title=None, legend=LEGEND),
            tooltip=[
                alt.Tooltip("week_label:N", title="Week"),
                alt.Tooltip("dimension:N", title="Dimension"),
                alt.Tooltip("average:Q", title="Average", format=".2f"),
                alt.Tooltip("eval_count:Q", title="Evaluations (n)", format=","),
                alt.Tooltip("volume:N", title="Volume"),
            ],
        ),
        "dimensions",
    )


def reason_scale(reasons: list[str]) -> alt.Scale:
    """Each reason's own colour, whichever reasons are present; unknown ones take spares."""
    known = [reason for reason in REASON_COLOURS if reason in reasons]
    new = sorted(set(reasons) - set(REASON_COLOURS))
    spare = [SPARE_COLOURS[i % len(SPARE_COLOURS)] for i in range(len(new))]
    return alt.Scale(domain=known + new, range=[REASON_COLOURS[r] for r in known] + spare)


def quality_bars_chart(rows: list[reads.QualityCount]) -> alt.Chart:
    frame = pd.DataFrame([asdict(row) for row in rows])
    frame["quality_date"] = pd.to_datetime(frame["quality_date"])
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("quality_date:T", title="Day"),
            y=alt.Y("row_count:Q", title="Raw rows", stack="zero"),
            color=alt.Color(
                "issue:N",
                title="Reason",
                scale=reason_scale(list(frame["issue"].unique())),
                legend=LEGEND,
            ),
            tooltip=[
                alt.Tooltip("quality_date:T", title="Day"),
                alt.Tooltip("source_table:N", title="Raw table"),
                alt.Tooltip("issue:N", title="Reason"),
                alt.Tooltip("row_count:Q", title="Rows", format=","),
            ],
        )
    )


def quality_bars(rows: list[reads.QualityCount], key: str) -> None:
    chart(quality_bars_chart(rows), key)


def segment_table(segments: pd.DataFrame, segment_type: str) -> pd.DataFrame:
    """One segment type's rows, with the volume the legend and the table show."""
    shown = segments[segments["segment_type"] == segment_type].copy()
    shown["volume"] = [LOW_VOLUME if low else ENOUGH for low in shown["is_low_volume"]]
    return shown


def segment_chart(shown: pd.DataFrame, title: str) -> alt.LayerChart:
    """Each segment's weekly average score: one colour per segment, hollow when low volume."""
    y = alt.Y("avg_score:Q", title="Average score (0–10)", scale=alt.Scale(zero=False))
    colour = alt.Color("segment_value:N", title=title, legend=LEGEND)
    tooltip = [
        alt.Tooltip("week_label:N", title="Week"),
        alt.Tooltip("segment_value:N", title=title),
        alt.Tooltip("avg_score:Q", title="Average score", format=".2f"),
        alt.Tooltip("avg_score_ci_low:Q", title="CI low", format=".2f"),
        alt.Tooltip("avg_score_ci_high:Q", title="CI high", format=".2f"),
        alt.Tooltip("eval_count:Q", title="Evaluations (n)", format=","),
        alt.Tooltip("score_change:Q", title="Change vs last week", format="+.2f"),
        alt.Tooltip("volume:N", title="Volume"),
    ]
    lines = alt.Chart(shown).mark_line().encode(x=WEEK_AXIS, y=y, color=colour)
    points = (
        alt.Chart(shown)
        .mark_point(size=70, strokeWidth=2)
        .encode(
            x=WEEK_AXIS,
            y=y,
            color=colour,
            shape=alt.Shape("volume:N", title="Volume", scale=VOLUME_SHAPES, legend=LEGEND),
            fillOpacity=alt.FillOpacity(
                "volume:N",
                scale=alt.Scale(domain=[ENOUGH, LOW_VOLUME], range=[1.0, 0.0]),
                legend=None,
            ),
            fill=alt.Fill("segment_value:N", legend=None),
            tooltip=tooltip,
        )
    )
    return alt.layer(lines, points)


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
            min_n=min_n(),
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
    except UserError as exc:
        st.error(f"Cannot read the warehouse: {plain(exc)}")
        st.stop()
    if not weeks:
        st.info(
            "The warehouse has no data yet: weekly_performance is empty. Load raw evaluations "
            "and reactions, then run `dbt build` (or `make demo` for demo data)."
        )
        st.stop()

    week = pick_week(weeks)
    dates = pick_dates(weeks)
    st.sidebar.caption(
        f"Warehouse: {config.target_name} ({config.type}), schema {config.schema}. "
        f"Low volume: fewer than {min_n():,} evaluations (REPORT_MIN_N)."
    )
    shown = [w for w in weeks if dates[0] <= w.week_end and w.week_start <= dates[1]]
    if not shown:
        st.info("No week overlaps the selected date range.")
        st.stop()
    weekly = week_table(shown)
    days = [day for day in load_days(config) if in_range(day.score_date, dates)]
    quality = load_quality(config)

    tabs = st.tabs(TABS)
    with tabs[0]:
        ai_performance_tab(week, weekly, days)
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
    with tabs[4]:
        data_quality_tab(
            week,
            [row for row in quality if in_range(row.quality_date, dates)],
            [row for row in quality if row.quality_date is None],
        )
    slack_section(config, week)


if __name__ == "__main__":
    main()  # Streamlit runs the script as __main__, top to bottom, on every interaction.
