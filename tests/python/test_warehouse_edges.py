"""dbt build on edge-case raw data: empty tables, hand-written rows, the CLI table."""

from __future__ import annotations

import pytest
from warehouses import create_raw_tables

from reporter.cli import main


def test_empty_raw_tables_build_empty_marts(make_warehouse, engine):
    warehouse = make_warehouse(engine, as_of_date="2026-01-07")
    create_raw_tables(warehouse)
    warehouse.build()
    for mart in ("daily_scores", "daily_feedback", "weekly_performance", "quarantined_rows"):
        assert warehouse.mart(mart) == [], mart


def test_year_end_week_and_rejected_rows_end_to_end(make_warehouse, engine):
    warehouse = make_warehouse(engine, as_of_date="2026-01-11")
    create_raw_tables(warehouse)
    raw = warehouse.raw_schema
    warehouse.execute(
        f"insert into {raw}.conversation_evaluation values "
        "('e1', 'c1', 'm1', '2025-12-29 10:00:00', 8.0, 9.0, 12.0, null, 'human', 'v1'), "
        "('e1', 'c1', 'm1', '2025-12-29 10:00:00', 8.0, 9.0, 12.0, null, 'human', 'v1'), "
        "('e2', 'c1', 'm2', '2026-01-04 23:59:59', 9.0, null, null, null, 'llm_judge', 'v1'), "
        "('e3', 'c1', 'm3', '2026-01-05 00:00:00', 10.5, null, null, null, 'llm_judge', 'v1'), "
        "('e4', 'c1', 'm3', null, 5.0, null, null, null, 'llm_judge', 'v1'), "
        "('e5', 'c1', 'm4', '2026-01-06 08:00:00', 6.0, null, null, null, 'llm_judge', 'v1')",
        f"insert into {raw}.feedback_log values "
        "('f1', 'c1', 'm1', '2025-12-30 10:00:00', ' Thumbs_Up ', 'u1'), "
        "('f2', 'c1', 'm1', '2025-12-30 10:05:00', '👎', 'u1'), "
        "('f3', 'c1', 'm2', '2025-12-30 11:00:00', '+1', 'u2'), "
        "('f4', 'c1', 'm2', '2026-01-06 11:00:00', 'sure', 'u2')",
    )
    warehouse.build()
    weeks = warehouse.mart("weekly_performance", "week_start")
    assert [
        (w["week_label"], w["eval_count"], w["avg_score"], w["like_count"], w["dislike_count"])
        for w in weeks
    ] == [("2026-W01", 2, 8.5, 1, 1), ("2026-W02", 1, 6.0, 0, 0)]
    assert [w["quarantined_count"] for w in weeks] == [0, 2]
    assert weeks[0]["avg_consistency"] is None  # 12.0 is out of range: NULL, row kept
    assert weeks[0]["is_complete_week"] and not weeks[1]["is_complete_week"]
    reasons = sorted(row["reason"] for row in warehouse.mart("quarantined_rows"))
    assert reasons == ["null_created_at", "score_out_of_range", "unknown_feedback_label"]


def test_weekly_command_prints_the_mart(demo_duckdb, capsys):
    code = main(["weekly", "--profiles-dir", str(demo_duckdb.profiles_dir)])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["week", "evals", "avg"]
    weeks = demo_duckdb.mart("weekly_performance", "week_start")
    assert len(lines) == len(weeks) + 2  # the header, the weeks, what the marks mean
    assert lines[1].split()[0] == weeks[0]["week_label"] and "n/a" in lines[1]
    assert f"{weeks[-1]['avg_score']:.2f}" in lines[-2]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["weekly", "--target", "nope"], "target 'nope' is not in profile"),
        (["weekly", "--profiles-dir", "/nonexistent"], "no profiles.yml in /nonexistent"),
    ],
)
def test_configuration_errors_are_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
