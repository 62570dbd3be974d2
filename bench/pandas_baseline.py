"""The week-13 approach, as the baseline: raw rows into pandas, grouped by day, merged,
then a weekly figure (here for every week, like the mart, not only the last two).

    python bench/pandas_baseline.py DUCKDB_FILE RAW_SCHEMA

It reads rows the way the original did (pd.read_sql over a DB-API connection), does not
deduplicate, and averages daily averages: the rules the marts fixed. Prints one JSON line.

It holds every raw row in memory, so it does not start when they would not fit: at 100M
evaluations it would need about 30 GB. It then prints why, with no time.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings

import duckdb
import pandas as pd

# Peak resident memory per raw row read (evaluations and reactions): 2,902 MB for 22.4
# million rows at 10M (docs/performance.md).
BYTES_PER_ROW = 136


def available_bytes() -> int:
    """The memory the kernel can give without swapping (MemAvailable)."""
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def weekly_report(conn, raw: str) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas prefers SQLAlchemy; the original used it
        df_eval = pd.read_sql(f"select created_at, score from {raw}.conversation_evaluation", conn)
        df_feed = pd.read_sql(f"select created_at, feedback from {raw}.feedback_log", conn)

    df_eval["date"] = pd.to_datetime(df_eval["created_at"]).dt.date
    df_feed["date"] = pd.to_datetime(df_feed["created_at"]).dt.date
    df_feed["like"] = df_feed["feedback"].eq("like").astype(int)
    df_feed["dislike"] = df_feed["feedback"].eq("dislike").astype(int)

    df_eval_daily = df_eval.groupby("date")["score"].mean().reset_index(name="avg_score")
    df_feed_daily = df_feed.groupby("date")[["like", "dislike"]].sum().reset_index()
    df = pd.merge(df_eval_daily, df_feed_daily, on="date", how="outer").fillna(0)

    df["week"] = pd.to_datetime(df["date"]).dt.to_period("W-SUN")
    weekly = df.groupby("week").agg(
        avg_score=("avg_score", "mean"), like=("like", "sum"), dislike=("dislike", "sum")
    )
    weekly["change_pct"] = weekly["avg_score"].pct_change() * 100
    return weekly


def main(path: str, raw: str) -> int:
    started = time.perf_counter()
    conn = duckdb.connect(path, read_only=True)
    [(rows,)] = conn.execute(
        f"select (select count(*) from {raw}.conversation_evaluation)"
        f" + (select count(*) from {raw}.feedback_log)"
    ).fetchall()
    needed, available = rows * BYTES_PER_ROW, available_bytes()
    if needed > available:
        conn.close()
        reason = f"needs about {needed >> 20:,} MB for {rows:,} rows; {available >> 20:,} MB free"
        print(json.dumps({"seconds": None, "weeks": None, "skipped": reason}))
        return 0
    weekly = weekly_report(conn, raw)
    conn.close()
    print(json.dumps({"seconds": time.perf_counter() - started, "weeks": len(weekly)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:3]))
