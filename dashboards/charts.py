"""The dashboard's charts: pure functions from a data frame to an Altair chart.

No Streamlit here: each builder takes the marts' rows (as frames) and returns a chart, so
that tests can check a chart's data and encoding without running the app. Layout, widgets
and captions are in dashboards/dashboard.py.
"""

from __future__ import annotations

from dataclasses import asdict

import altair as alt
import pandas as pd

from reporter.reads import DayFeedback, DayScores, QualityCount
from reporter.report import WeekFigures

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


DIMENSIONS = {
    "avg_accuracy": "accuracy",
    "avg_consistency": "consistency",
    "avg_emotion_match": "emotion match",
}


# Weeks by their label (2026-W01), as in the Slack report, in calendar order.
WEEK_TOOLTIP = alt.Tooltip("week_label:N", title="Week")
WEEK_AXIS = alt.X("week_label:O", title="ISO week", sort=alt.SortField("week_start"))


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
                WEEK_TOOLTIP,
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
        WEEK_TOOLTIP,
        alt.Tooltip("avg_score:Q", title="Average score", format=".2f"),
        alt.Tooltip("eval_count:Q", title="Evaluations (n)", format=","),
        alt.Tooltip("score_change_pct:Q", title="Change vs last week %", format="+.1f"),
        alt.Tooltip("score_mde:Q", title="Could detect ± (points)", format=".2f"),
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
                WEEK_TOOLTIP,
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
    frame: pd.DataFrame,
    x: str,
    y: alt.Y,
    n: str,
    unit: str,
    tooltip: list[alt.Tooltip],
    threshold: int,
) -> alt.LayerChart:
    """A daily line through the days with at least `threshold` rows; the other days are
    hollow grey points off the line, so a day with one reaction cannot look like a trend."""
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


def reaction_bars(weekly: pd.DataFrame) -> alt.Chart:
    """Stacked likes and dislikes a week, faded for a partial week."""
    counts = weekly.melt(
        id_vars=["week_label", "week_start", "feedback_count", "period"],
        value_vars=["like_count", "dislike_count"],
        var_name="reaction",
        value_name="count",
    )
    counts["reaction"] = counts["reaction"].map({"like_count": "like", "dislike_count": "dislike"})
    return (
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
                WEEK_TOOLTIP,
                alt.Tooltip("reaction:N", title="Reaction"),
                alt.Tooltip("count:Q", title="Count", format=","),
                alt.Tooltip("feedback_count:Q", title="All reactions (n)", format=","),
                alt.Tooltip("period:N", title="Week"),
            ],
        )
    )


def like_ratio_layers(weekly: pd.DataFrame) -> list[alt.Chart]:
    """The like ratio on a [0, 1] right axis: its Wilson band, its line (dashed into a
    partial week), its points, and diamonds on significant changes."""
    # The same scale for the ratio, its band and the markers.
    ratio_scale = alt.Scale(domain=[0, 1])
    ratio_y = alt.Y(
        "like_ratio:Q",
        title="Like ratio",
        axis=alt.Axis(format="%", orient="right"),
        scale=ratio_scale,
    )
    hidden_y = alt.Y("like_ratio:Q", scale=ratio_scale, axis=None)
    points = (
        alt.Chart(weekly)
        .mark_point(filled=True, color="black", size=40)
        .encode(
            x=WEEK_AXIS,
            y=hidden_y,
            tooltip=[
                WEEK_TOOLTIP,
                alt.Tooltip("like_ratio:Q", title="Like ratio", format=".1%"),
                alt.Tooltip("like_ratio_change_pp:Q", title="Change (pp)", format="+.1f"),
                alt.Tooltip("like_ratio_mde_pp:Q", title="Could detect ± (pp)", format=".1f"),
                alt.Tooltip("feedback_count:Q", title="Reactions (n)", format=","),
            ],
        )
    )
    band = (
        alt.Chart(weekly)
        .mark_area(opacity=0.15, color="black")
        .encode(
            x=WEEK_AXIS,
            y=alt.Y("like_ratio_ci_low:Q", scale=ratio_scale, axis=None),
            y2="like_ratio_ci_high:Q",
        )
    )
    markers = change_markers(
        weekly,
        hidden_y,
        "like_ratio_change_significant",
        "like_ratio_change_pp",
        "like_ratio_change_p_value",
    )
    lines = period_lines(weekly, ratio_y, color="black")
    return [band, *lines.layer, points, markers]


def weekly_feedback_chart(weekly: pd.DataFrame) -> alt.LayerChart:
    """Stacked likes and dislikes (faded for a partial week), the like ratio with its Wilson
    band (dashed into a partial week), and diamonds on significant changes."""
    return alt.layer(reaction_bars(weekly), *like_ratio_layers(weekly)).resolve_scale(
        y="independent"
    )


def reason_scale(reasons: list[str]) -> alt.Scale:
    """Each reason's own colour, whichever reasons are present; unknown ones take spares."""
    known = [reason for reason in REASON_COLOURS if reason in reasons]
    new = sorted(set(reasons) - set(REASON_COLOURS))
    spare = [SPARE_COLOURS[i % len(SPARE_COLOURS)] for i in range(len(new))]
    return alt.Scale(domain=known + new, range=[REASON_COLOURS[r] for r in known] + spare)


def quality_bars_chart(rows: list[QualityCount]) -> alt.Chart:
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
        WEEK_TOOLTIP,
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


def dimensions_chart(weekly: pd.DataFrame) -> alt.Chart:
    """Each quality dimension's weekly average, one line each."""
    long = weekly.melt(
        id_vars=["week_label", "week_start", "eval_count", "volume"],
        value_vars=list(DIMENSIONS),
        var_name="dimension",
        value_name="average",
    )
    long["dimension"] = long["dimension"].map(DIMENSIONS)
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=WEEK_AXIS,
            y=alt.Y("average:Q", title="Average (0–10)", scale=alt.Scale(zero=False)),
            color=alt.Color("dimension:N", title=None, legend=LEGEND),
            tooltip=[
                WEEK_TOOLTIP,
                alt.Tooltip("dimension:N", title="Dimension"),
                alt.Tooltip("average:Q", title="Average", format=".2f"),
                alt.Tooltip("eval_count:Q", title="Evaluations (n)", format=","),
                alt.Tooltip("volume:N", title="Volume"),
            ],
        )
    )


def daily_score_chart(days: list[DayScores], threshold: int) -> alt.LayerChart:
    """daily_scores' average score per day (see daily_chart for the days below threshold)."""
    daily = pd.DataFrame([asdict(day) for day in days])
    daily["score_date"] = pd.to_datetime(daily["score_date"])
    return daily_chart(
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
        threshold,
    )


def daily_feedback_chart(feedback: list[DayFeedback], threshold: int) -> alt.LayerChart:
    """daily_feedback's like ratio per day (see daily_chart for the days below threshold)."""
    daily = pd.DataFrame([asdict(day) for day in feedback])
    daily["feedback_date"] = pd.to_datetime(daily["feedback_date"])
    return daily_chart(
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
        threshold,
    )


def judge_bias_chart(agreement: pd.DataFrame) -> alt.LayerChart:
    """The LLM judge's bias against humans per week (judge − human, score points): its
    interval as a band, the Bland–Altman limits of agreement as dashed lines, and zero."""
    x = alt.X("yearmonthdate(week_start):T", title="Week (Monday)")
    y = alt.Y("judge_bias:Q", title="Judge − human (points)")
    tooltip = [
        alt.Tooltip("week_label:N", title="Week"),
        alt.Tooltip("pair_count:Q", title="Matched responses (n)", format=","),
        alt.Tooltip("judge_bias:Q", title="Bias", format="+.2f"),
        alt.Tooltip("judge_bias_ci_low:Q", title="CI low", format="+.2f"),
        alt.Tooltip("judge_bias_ci_high:Q", title="CI high", format="+.2f"),
        alt.Tooltip("quadratic_weighted_kappa:Q", title="Weighted κ", format=".2f"),
        alt.Tooltip("krippendorff_alpha:Q", title="Krippendorff's α", format=".2f"),
        alt.Tooltip("spearman_rho:Q", title="Spearman's ρ", format=".2f"),
    ]
    base = alt.Chart(agreement)
    band = base.mark_area(opacity=0.2, color="#9467bd").encode(
        x=x, y="judge_bias_ci_low:Q", y2="judge_bias_ci_high:Q"
    )
    limits = [
        base.mark_line(strokeDash=[4, 4], color="#8c8c8c").encode(x=x, y=f"{column}:Q")
        for column in ("agreement_limit_low", "agreement_limit_high")
    ]
    line = base.mark_line(point=True, color="#9467bd").encode(x=x, y=y, tooltip=tooltip)
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(color="black").encode(y="zero:Q")
    return alt.layer(band, *limits, zero, line)
