"""An independent pandas implementation of the cleaning rules and the marts.

It reads the raw tables and applies the README's rules directly, so a test can compare
every mart with it. It shares no code with the dbt models.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import unicodedata
from pathlib import Path

import pandas as pd

from reporter.warehouse import PROJECT_DIR

LABELS_CSV = PROJECT_DIR / "seeds" / "feedback_label_map.csv"


def label_map(path: Path = LABELS_CSV) -> dict[str, str]:
    with path.open(encoding="utf-8") as handle:
        return {row["raw_label"]: row["label"] for row in csv.DictReader(handle)}


def label_key(value: object) -> str | None:
    """NFKC, no whitespace, no emoji modifiers (skin tones, variation selector), lower case."""
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFKC", value)
    text = re.sub(r"[\s\U0001F3FB-\U0001F3FF\uFE0F]", "", text)
    return text.lower()


def labels_of(feedback: pd.Series) -> pd.Series:
    labels = label_map()
    return feedback.map(lambda value: labels.get(label_key(value)))


def blank_ids_as_null(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    frame = frame.copy()
    for column in columns:
        frame[column] = frame[column].map(
            lambda value: None if isinstance(value, str) and not value.strip() else value
        )
    return frame


def possible(created_at: pd.Series, tolerance_hours: float = 24) -> pd.Series:
    """True where a timestamp is neither before 2000 nor beyond now + the tolerance."""
    stamps = pd.to_datetime(created_at)
    latest = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(
        hours=tolerance_hours
    )
    return stamps.notna() & (stamps >= pd.Timestamp("2000-01-01")) & (stamps <= latest)


def to_local_date(timestamps: pd.Series, timezone: str) -> pd.Series:
    stamps = pd.to_datetime(timestamps)
    if timezone != "UTC":
        stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(timezone).dt.tz_localize(None)
    return stamps.dt.date


def clean_evaluations(raw: pd.DataFrame, timezone: str = "UTC") -> pd.DataFrame:
    frame = blank_ids_as_null(raw, "evaluation_id")
    frame["score"] = pd.to_numeric(frame["score"]).astype(float)
    valid = (
        frame["evaluation_id"].notna()
        & possible(frame["created_at"])
        & frame["score"].notna()
        & frame["score"].between(0, 10)
    )
    frame = frame[valid].sort_values(["created_at", "score"], ascending=False)
    frame = frame.drop_duplicates("evaluation_id", keep="first")
    for column in ("accuracy", "consistency", "emotion_match"):
        values = pd.to_numeric(frame[column]).astype(float)
        frame[column] = values.where(values.between(0, 10))
    frame["day"] = to_local_date(frame["created_at"], timezone)
    return frame


def clean_feedback(raw: pd.DataFrame, timezone: str = "UTC") -> pd.DataFrame:
    frame = blank_ids_as_null(raw, "feedback_id", "message_id", "user_id")
    frame["label"] = labels_of(frame["feedback"])
    valid = frame["feedback_id"].notna() & possible(frame["created_at"]) & frame["label"].notna()
    frame = frame[valid].sort_values(["created_at", "feedback_id"], ascending=False)
    frame = frame.drop_duplicates("feedback_id", keep="first")
    matchable = frame["message_id"].notna() & frame["user_id"].notna()
    latest = frame[matchable].drop_duplicates(["message_id", "user_id"], keep="first")
    frame = pd.concat([latest, frame[~matchable]])
    frame["day"] = to_local_date(frame["created_at"], timezone)
    return frame


def rejected_timestamps(raw_evaluations: pd.DataFrame, raw_feedback: pd.DataFrame) -> pd.Series:
    """The created_at of every rejected raw row (NaT where it is missing)."""
    raw_evaluations = blank_ids_as_null(raw_evaluations, "evaluation_id")
    raw_feedback = blank_ids_as_null(raw_feedback, "feedback_id")
    score = pd.to_numeric(raw_evaluations["score"]).astype(float)
    bad_evaluations = raw_evaluations[
        raw_evaluations["evaluation_id"].isna()
        | ~possible(raw_evaluations["created_at"])
        | score.isna()
        | ~score.between(0, 10)
    ]
    label = labels_of(raw_feedback["feedback"])
    bad_feedback = raw_feedback[
        raw_feedback["feedback_id"].isna() | ~possible(raw_feedback["created_at"]) | label.isna()
    ]
    return pd.concat([bad_evaluations["created_at"], bad_feedback["created_at"]])


def daily_scores(evaluations: pd.DataFrame) -> pd.DataFrame:
    grouped = evaluations.groupby("day")
    return pd.DataFrame(
        {
            "eval_count": grouped.size(),
            "avg_score": grouped["score"].mean(),
            "avg_accuracy": grouped["accuracy"].mean(),
            "avg_consistency": grouped["consistency"].mean(),
            "avg_emotion_match": grouped["emotion_match"].mean(),
            "stddev_score": grouped["score"].std(ddof=1),
        }
    ).sort_index()


def daily_feedback(feedback: pd.DataFrame) -> pd.DataFrame:
    grouped = feedback.groupby("day")
    likes = grouped["label"].apply(lambda labels: int((labels == "like").sum()))
    total = grouped.size()
    return pd.DataFrame(
        {
            "like_count": likes,
            "dislike_count": total - likes,
            "feedback_count": total,
            "like_ratio": likes / total,
        }
    ).sort_index()


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def weekly_performance(
    evaluations: pd.DataFrame, feedback: pd.DataFrame, rejected: pd.Series, as_of: dt.date
) -> pd.DataFrame:
    evaluations = evaluations.assign(week=evaluations["day"].map(monday))
    feedback = feedback.assign(week=feedback["day"].map(monday))
    weeks = sorted(set(evaluations["week"]) | set(feedback["week"]))
    spine = []
    week = weeks[0]
    while week <= weeks[-1]:
        spine.append(week)
        week += dt.timedelta(days=7)
    rows = []
    for week in spine:
        scores = evaluations[evaluations["week"] == week]
        reactions = feedback[feedback["week"] == week]
        likes = int((reactions["label"] == "like").sum())
        iso = week.isocalendar()
        rows.append(
            {
                "week_start": week,
                "week_label": f"{iso.year}-W{iso.week:02d}",
                "iso_year": iso.year,
                "iso_week": iso.week,
                "eval_count": len(scores),
                "avg_score": scores["score"].mean() if len(scores) else None,
                "stddev_score": scores["score"].std(ddof=1) if len(scores) > 1 else None,
                "avg_accuracy": scores["accuracy"].mean() if len(scores) else None,
                "avg_consistency": scores["consistency"].mean() if len(scores) else None,
                "avg_emotion_match": scores["emotion_match"].mean() if len(scores) else None,
                "like_count": likes,
                "dislike_count": len(reactions) - likes,
                "feedback_count": len(reactions),
                "like_ratio": likes / len(reactions) if len(reactions) else None,
                "quarantined_count": int(rejected.map(monday).eq(week).sum()),
                "is_complete_week": week + dt.timedelta(days=7) <= as_of,
            }
        )
    frame = pd.DataFrame(rows).set_index("week_start")
    frame["prev_eval_count"] = frame["eval_count"].shift(1).fillna(0).astype(int)
    frame["prev_avg_score"] = frame["avg_score"].shift(1)
    frame["score_change_pct"] = [
        None
        if prev is None or pd.isna(prev) or prev == 0 or pd.isna(cur)
        else (cur - prev) / prev * 100
        for cur, prev in zip(frame["avg_score"], frame["prev_avg_score"], strict=True)
    ]
    frame["prev_feedback_count"] = frame["feedback_count"].shift(1).fillna(0).astype(int)
    frame["prev_like_ratio"] = frame["like_ratio"].shift(1)
    frame["like_ratio_change_pp"] = (frame["like_ratio"] - frame["prev_like_ratio"]) * 100
    return frame
