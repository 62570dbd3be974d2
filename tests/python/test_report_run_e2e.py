"""End to end, as the scheduler runs it: `python -m reporter run` = dbt build, then send."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import fake_slack
import pytest
import warehouses
from conftest import DEMO_AS_OF, DEMO_SPEC
from fake_slack import FakeSlack

from reporter.warehouse import PROJECT_DIR


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack.running() as fake:
        yield fake


def reporter_cli(
    warehouse: warehouses.TestWarehouse, slack: FakeSlack, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process, with this warehouse's profile and its own dbt paths."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REPORT_"))},
        **slack.env("#ai-reports"),
        "DO_NOT_TRACK": "1",
        "DBT_TARGET_PATH": str(warehouse.root / "target"),
        "DBT_LOG_PATH": str(warehouse.root / "logs"),
        **env,
    }
    command = [
        sys.executable,
        "-m",
        "reporter",
        *args,
        "--profiles-dir",
        str(warehouse.profiles_dir),
        "--target",
        warehouse.target,
    ]
    return subprocess.run(
        command, cwd=PROJECT_DIR, env=environment, capture_output=True, text=True, timeout=600
    )


def test_run_builds_and_posts_one_message_matching_the_mart(engine, make_warehouse, slack):
    warehouse = make_warehouse(engine)
    warehouse.generate(DEMO_SPEC)
    dbt_vars = json.dumps(warehouse.all_vars())
    result = reporter_cli(warehouse, slack, "run", "--as-of", DEMO_AS_OF, "--vars", dbt_vars)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # Captured like a cron log: dbt's progress without terminal colour codes.
    assert "OK created" in result.stdout or "PASS" in result.stdout
    assert "\x1b[" not in result.stdout + result.stderr
    assert "sent 2026-W01 to #ai-reports" in result.stdout
    assert len(slack.reports) == 1
    # Every model and data test ran; the unit tests (fixed inputs, not the data) did not.
    ran = json.loads((warehouse.root / "target" / "run_results.json").read_text())["results"]
    kinds = {result["unique_id"].split(".")[0] for result in ran}
    assert {"model", "test"} <= kinds and "unit_test" not in kinds

    # The numbers in Slack are the mart's numbers, for the latest complete week.
    week = warehouse.query(
        f"select * from {warehouse.schema}.weekly_performance "
        "where is_complete_week order by week_start desc"
    )[0]
    assert week["week_label"] == "2026-W01"
    fields = [f["text"] for f in slack.reports[0]["blocks"][2]["fields"]]
    interval = f"95% 신뢰구간 {week['avg_score_ci_low']:.2f}–{week['avg_score_ci_high']:.2f}"
    assert fields[0] == (
        f"*이번주 평균 점수*\n{week['avg_score']:.2f} (n={week['eval_count']:,}, {interval})"
    )
    assert fields[1] == (
        f"*지난주 평균 점수*\n{week['prev_avg_score']:.2f} (n={week['prev_eval_count']:,})"
    )
    assert fields[2].startswith(f"*변화율*\n{week['score_change_pct']:+.1f}%")
    assert fields[3] == f"*피드백*\n👍 {week['like_count']:,} / 👎 {week['dislike_count']:,}"
    assert fields[4].startswith(f"*좋아요 비율*\n{week['like_ratio'] * 100:.1f}%")
    assert fields[5] == f"*정확도*\n{week['avg_accuracy']:.2f}"
    assert fields[8].startswith(f"*격리된 행*\n{week['quarantined_count']:,} (원본 ")

    # The scheduler runs again (a retry, a double cron entry): nothing more is posted.
    again = reporter_cli(warehouse, slack, "send", "--as-of", DEMO_AS_OF)
    assert again.returncode == 0 and "already sent" in again.stdout
    assert len(slack.reports) == 1


def test_failed_build_sends_no_report_only_the_notice(make_warehouse, slack):
    warehouse = make_warehouse("duckdb")  # no raw tables: dbt build fails
    dbt_vars = json.dumps(warehouse.all_vars())

    quiet = reporter_cli(warehouse, slack, "run", "--vars", dbt_vars)
    assert quiet.returncode == 1
    last_line = quiet.stderr.strip().splitlines()[-1]
    assert last_line.startswith("error: data pipeline failed (dbt build:")
    assert "Traceback" not in quiet.stderr
    assert slack.requests == []

    noisy = reporter_cli(warehouse, slack, "run", "--vars", dbt_vars, REPORT_NOTIFY_ON_FAILURE="1")
    assert noisy.returncode == 1
    assert "notice posted to #ai-reports" in noisy.stderr
    assert len(slack.reports) == 1
    notice = slack.reports[0]["text"]
    assert notice.startswith("⚠️ 데이터 파이프라인 실패") and "AI 성능 개선 리포트" not in notice


def test_run_full_refresh_rebuilds_every_model_from_raw(make_warehouse, slack):
    """After a change that moves days (here report_timezone), `run --full-refresh`
    rebuilds from raw: the incremental models are recreated, not appended to."""
    warehouse = make_warehouse("duckdb")
    warehouse.generate(DEMO_SPEC)
    utc = json.dumps(warehouse.all_vars())
    assert (
        reporter_cli(warehouse, slack, "run", "--as-of", DEMO_AS_OF, "--vars", utc).returncode == 0
    )
    seoul = json.dumps(warehouse.all_vars({"report_timezone": "Asia/Seoul"}))
    result = reporter_cli(
        warehouse, slack, "run", "--as-of", DEMO_AS_OF, "--vars", seoul, "--full-refresh"
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [compiled] = (warehouse.root / "target" / "run").rglob("int_evaluations_ranked.sql")
    inserted_into = re.findall(r"insert\s+into\s+(\S+)", compiled.read_text())
    assert not any(t.strip('"').endswith("int_evaluations_ranked") for t in inserted_into)
    # The days are Seoul's everywhere, the incremental models included.
    staged = warehouse.query(
        f"select count(distinct evaluated_date) as days from {warehouse.schema}_intermediate."
        "int_evaluations_ranked where evaluated_date <> cast(evaluated_at as date)"
    )
    assert staged[0]["days"] > 0
