"""The dbt semantic layer (models/semantic/) answers what the marts answer.

`mf query --saved-query weekly_quality`, run by MetricFlow's own CLI against the built demo
warehouse, gives per ISO week the figures of weekly_performance: the metrics sum the daily
marts' counts and totals, so the week's average is the mean over its evaluations (not a
mean of daily means), and weeks start on Monday across a year end (2025-12-29 is 2026-W01).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import unavailable
from warehouses import TestWarehouse

from reporter.warehouse import PROJECT_DIR

MF = Path(sys.executable).with_name("mf")

# weekly_quality's metrics and the weekly_performance columns they stand for.
WEEKLY_QUALITY = {
    "evaluations": "eval_count",
    "average_score": "avg_score",
    "score_stddev": "stddev_score",
    "likes": "like_count",
    "dislikes": "dislike_count",
    "reactions": "feedback_count",
    "like_ratio": "like_ratio",
    "quarantined_rows": "quarantined_count",
}
# weekly_quality_by_model_version's metrics and the weekly_segment_performance columns.
BY_MODEL_VERSION = {
    "model_version_evaluations": "eval_count",
    "model_version_average_score": "avg_score",
    "model_version_likes": "like_count",
    "model_version_reactions": "feedback_count",
    "model_version_like_ratio": "like_ratio",
}


def require_metricflow() -> None:
    """Skip without the semantic extra, except under CI=true, where CI installs it."""
    if MF.exists():
        return
    unavailable(f"MetricFlow's CLI is not installed at {MF} (pip install -e '.[semantic]')")


def mf_query(warehouse: TestWarehouse, saved_query: str) -> list[dict[str, str]]:
    """Run `mf query --saved-query` as a user does, on the test warehouse, and read its CSV.

    mf reads the profile from DBT_PROFILES_DIR, but the semantic manifest always from
    <project dir>/target/semantic_manifest.json (it ignores DBT_TARGET_PATH). The manifest
    names the schemas it was parsed for, so the test points DBT_PROJECT_DIR at a directory
    with the project's dbt_project.yml and this warehouse's own target directory.
    """
    project = warehouse.root / "mf_project"
    if not project.exists():
        project.mkdir()
        shutil.copy(PROJECT_DIR / "dbt_project.yml", project / "dbt_project.yml")
        (project / "target").symlink_to(warehouse.root / "target", target_is_directory=True)
    assert (project / "target" / "semantic_manifest.json").exists(), "dbt wrote no manifest"
    out = warehouse.root / f"{saved_query}.csv"
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "DBT_PROFILES_DIR": str(warehouse.profiles_dir),
        "DBT_PROJECT_DIR": str(project),
        "DBT_LOG_PATH": str(warehouse.root / "logs"),
    }
    command = [str(MF), "query", "--saved-query", saved_query, "--csv", str(out), "--quiet"]
    result = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=300
    )
    # mf exits 0 on a query error too, and then writes no CSV: say what it printed.
    assert result.returncode == 0 and out.exists(), (
        f"mf query failed ({result.returncode}):\n{result.stdout[-4000:]}{result.stderr[-4000:]}"
    )
    with out.open(newline="") as handle:
        return list(csv.DictReader(handle))


def week_of(value: str) -> dt.date:
    return dt.date.fromisoformat(value[:10])


def assert_figure(actual: str, expected: Any, what: str) -> None:
    if expected is None:
        assert actual == "", f"{what}: {actual!r}, expected no value"
        return
    assert actual != "", f"{what}: no value, expected {expected}"
    assert math.isclose(float(actual), float(expected), rel_tol=1e-9, abs_tol=1e-9), (
        f"{what}: {actual} != {expected}"
    )


@pytest.fixture
def metricflow() -> None:
    require_metricflow()


def test_weekly_quality_equals_weekly_performance(metricflow, demo_warehouse) -> None:
    rows = mf_query(demo_warehouse, "weekly_quality")
    by_week = {week_of(row["metric_time__week"]): row for row in rows}
    assert len(by_week) == len(rows), "a week appears twice"
    weeks = demo_warehouse.mart("weekly_performance", "week_start")
    with_data = [week for week in weeks if week["eval_count"] or week["feedback_count"]]
    assert len(with_data) >= 5 and any(week["week_start"].year == 2025 for week in with_data)

    for week in weeks:
        start = week["week_start"]
        if not (week["eval_count"] or week["feedback_count"] or week["quarantined_count"]):
            assert start not in by_week or float(by_week[start]["evaluations"]) == 0
            continue
        assert start in by_week, f"{week['week_label']} is missing from mf's weekly_quality"
        for metric, column in WEEKLY_QUALITY.items():
            assert_figure(by_week[start][metric], week[column], f"{week['week_label']} {metric}")

    # A week mf has that the mart has not can only hold quarantined rows dated outside the
    # weeks with data (weekly_performance spans the first to the last week with data).
    spanned = {week["week_start"] for week in weeks}
    for start, row in by_week.items():
        if start not in spanned:
            assert float(row["evaluations"]) == 0 and float(row["reactions"]) == 0, start


def test_weekly_quality_by_model_version_equals_the_segment_mart(
    metricflow, demo_warehouse
) -> None:
    rows = mf_query(demo_warehouse, "weekly_quality_by_model_version")
    got = {(week_of(row["metric_time__week"]), row["segment__model_version"]): row for row in rows}
    segments = [
        row
        for row in demo_warehouse.mart("weekly_segment_performance", "week_start, segment_value")
        if row["segment_type"] == "model_version"
    ]
    expected = {(row["week_start"], row["segment_value"]): row for row in segments}
    assert set(got) == set(expected)
    assert len({version for _, version in expected}) >= 2, "the demo has one model version"
    for key, segment in expected.items():
        for metric, column in BY_MODEL_VERSION.items():
            value = segment[column]
            if metric == "model_version_average_score" and not segment["eval_count"]:
                value = None  # 0 / 0: no evaluations of the version that week
            if metric == "model_version_like_ratio" and not segment["feedback_count"]:
                value = None
            assert_figure(got[key][metric], value, f"{key} {metric}")
