"""`send` through the ledger, on DuckDB and PostgreSQL, with the fake Slack.

Each test uses its own channel, so ledger rows never leak between tests. On DuckDB the
session's demo file is copied first (the ledger writes to the warehouse); on PostgreSQL
the ledger schema `<schema>_reporter` is dropped with the demo schemas at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import fake_slack
import pytest
import warehouses
from conftest import DEMO_AS_OF
from fake_slack import TOKEN, FakeSlack, slack_error

from reporter import ledger
from reporter.cli import main
from reporter.warehouse import PROJECT_DIR


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack.running() as fake:
        yield fake


@pytest.fixture
def warehouse(demo_warehouse: warehouses.TestWarehouse, tmp_path: Path) -> warehouses.TestWarehouse:
    """The demo warehouse, writable: a copy on DuckDB, the shared schema on PostgreSQL."""
    if demo_warehouse.target != "duckdb":
        return demo_warehouse
    copy = warehouses.TestWarehouse(
        "duckdb", tmp_path, demo_warehouse.schema, demo_warehouse.raw_schema
    )
    copy.write_profile()
    shutil.copy(demo_warehouse.root / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    return copy


@pytest.fixture
def channel() -> str:
    return f"#perf-{uuid.uuid4().hex[:8]}"


def cli_args(command: str, warehouse: warehouses.TestWarehouse, *extra: str) -> list[str]:
    return [
        command,
        "--profiles-dir",
        str(warehouse.profiles_dir),
        "--target",
        warehouse.target,
        "--as-of",
        DEMO_AS_OF,
        *extra,
    ]


def clean_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name in ("SLACK_WEBHOOK_URL", "DASHBOARD_URL", "REPORT_LANG", "REPORT_WEEK"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def test_send_posts_the_mart_numbers_once_then_does_nothing(
    warehouse, slack, channel, monkeypatch, capsys
) -> None:
    clean_env(monkeypatch, slack.env(channel))
    assert main(cli_args("send", warehouse)) == 0
    assert "sent 2026-W01 to " + channel in capsys.readouterr().out
    assert len(slack.reports) == 1
    message = slack.reports[0]
    row = warehouse.query(
        f"select * from {warehouse.schema}.weekly_performance where week_label = '2026-W01'"
    )[0]
    assert message["channel"] == channel
    text = message["text"]
    interval = f"95% 신뢰구간 {row['avg_score_ci_low']:.2f}–{row['avg_score_ci_high']:.2f}"
    assert f"이번주 평균 점수: {row['avg_score']:.2f} (n={row['eval_count']:,}, {interval})" in text
    assert f"지난주 평균 점수: {row['prev_avg_score']:.2f} (n={row['prev_eval_count']:,})" in text
    assert f"변화율: {row['score_change_pct']:+.1f}%" in text
    assert f"👍 {row['like_count']:,} / 👎 {row['dislike_count']:,}" in text
    assert f"격리된 행: {row['quarantined_count']:,}" in text

    # Re-run after success: nothing posted, exit 0, and it says so.
    assert main(cli_args("send", warehouse)) == 0
    assert "already sent" in capsys.readouterr().out
    assert len(slack.reports) == 1
    rows = [r for r in ledger.read_deliveries(warehouse.config) if r["destination"] == channel]
    assert [(r["week_label"], r["status"], r["attempt_count"]) for r in rows] == [
        ("2026-W01", "sent", 1)
    ]
    assert rows[0]["slack_ts"] == slack.reports[0]["ts"] and len(rows[0]["payload_sha256"]) == 64

    # --force posts again, on purpose.
    assert main(cli_args("send", warehouse, "--force")) == 0
    assert len(slack.reports) == 2


def test_failed_send_is_recorded_and_the_next_run_delivers(
    warehouse, slack, channel, monkeypatch, capsys
) -> None:
    clean_env(monkeypatch, slack.env(channel))
    slack.push(slack_error("channel_not_found"))
    assert main(cli_args("send", warehouse)) == 1
    captured = capsys.readouterr()
    error_lines = captured.err.strip().splitlines()
    assert len(error_lines) == 1 and error_lines[0].startswith("error: ")
    assert "channel_not_found" in error_lines[0] and "Traceback" not in captured.err
    assert TOKEN not in captured.err + captured.out
    assert slack.messages == []
    state = {r["destination"]: r for r in ledger.read_deliveries(warehouse.config)}[channel]
    assert state["status"] == "failed" and "channel_not_found" in state["last_error"]

    assert main(cli_args("send", warehouse)) == 0
    assert len([r for r in slack.requests if "thread_ts" not in r.body]) == 2
    assert len(slack.reports) == 1
    state = {r["destination"]: r for r in ledger.read_deliveries(warehouse.config)}[channel]
    assert state["status"] == "sent" and state["attempt_count"] == 2
    attempts = [a for a in ledger.read_attempts(warehouse.config) if a["destination"] == channel]
    assert [(a["attempt"], a["status"]) for a in attempts] == [(1, "failed"), (2, "sent")]


def test_two_concurrent_send_processes_post_once(warehouse, slack, channel) -> None:
    env = {
        **os.environ,
        **slack.env(channel),
        "DO_NOT_TRACK": "1",
        "SLACK_TIMEOUT": "20",
    }
    env.pop("SLACK_WEBHOOK_URL", None)
    command = [sys.executable, "-m", "reporter", *cli_args("send", warehouse)]
    processes = [
        subprocess.Popen(
            command, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert len(slack.reports) == 1
    said = sorted(out.decode().strip().split(" ")[0] for out, _ in outputs)
    assert said[0] == "2026-W01" and said[1] == "sent"  # one "sent", one "already/being sent"


def test_concurrent_claims_give_the_week_to_exactly_one_sender(warehouse, channel) -> None:
    config = warehouse.config
    ledger.ensure_tables(config)
    barrier = threading.Barrier(6)
    results: list[object] = []

    def contend() -> None:
        barrier.wait()
        results.append(ledger.claim(config, "2026-W01", channel))

    threads = [threading.Thread(target=contend) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    claims = [r for r in results if isinstance(r, ledger.Claim)]
    assert len(results) == 6 and len(claims) == 1
    assert all(r.status == "sending" for r in results if isinstance(r, ledger.Taken))


def test_preview_json_is_the_payload_send_posts(warehouse, slack, channel, monkeypatch, capsys):
    clean_env(monkeypatch, {**slack.env(channel), "DASHBOARD_URL": "http://127.0.0.1:8501/"})
    assert main(cli_args("preview", warehouse, "--format", "json", "--lang", "en")) == 0
    preview = json.loads(capsys.readouterr().out)
    assert main(cli_args("send", warehouse, "--lang", "en")) == 0
    posted = slack.reports[0]
    assert posted["blocks"][:-1] == preview["blocks"][:-1]  # all but the generated-at line
    button = next(b for b in posted["blocks"] if b["type"] == "actions")["elements"][0]
    assert button["url"] == "http://127.0.0.1:8501/?week=2026-W01"
    assert slack.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("argv", "message", "code"),
    [
        (["--week", "2026-13"], "must look like 2026-W01", 2),
        (["--lang", "fr"], "--lang must be one of", 2),
        # A well-formed week the mart does not have: nothing to report, its own code.
        (["--week", "2019-W01"], "not in weekly_performance", 3),
    ],
)
def test_usage_errors_exit_non_zero_with_one_line(
    warehouse, slack, monkeypatch, capsys, argv, message, code
):
    clean_env(monkeypatch, slack.env("#x"))
    assert main(cli_args("send", warehouse, *argv)) == code
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert slack.requests == []


def test_send_without_credentials_exits_2(warehouse, monkeypatch, capsys) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL", "SLACK_CHANNEL"):
        monkeypatch.delenv(name, raising=False)
    assert main(cli_args("send", warehouse)) == 2
    assert "SLACK_WEBHOOK_URL" in capsys.readouterr().err


def test_a_ledger_from_before_leases_gets_its_new_columns(
    warehouse, slack, channel, monkeypatch, capsys
) -> None:
    """An existing ledger (the first release's columns, a sent week in it) keeps working."""
    schema = ledger.ledger_schema(warehouse.config)
    old_row = ("2025-W52", channel, "sent", 1, "t0", "1.000001", None, None)
    from reporter.warehouse import connect

    with connect(warehouse.config, read_only=False) as conn:
        cursor = conn.cursor()
        cursor.execute(f"drop schema if exists {schema} cascade")
        cursor.execute(f"create schema {schema}")
        cursor.execute(
            f"""create table {schema}.{ledger.DELIVERIES} (
                week_label varchar(32) not null, destination varchar(255) not null,
                status varchar(16) not null, attempt_count integer not null,
                claim_token varchar(64) not null, slack_ts varchar(64),
                payload_sha256 varchar(64), last_error varchar(1000),
                claimed_at timestamp not null, delivered_at timestamp,
                updated_at timestamp not null, primary key (week_label, destination))"""
        )
        placeholders = ", ".join(["%s"] * 8).replace(
            "%s", "?" if warehouse.target == "duckdb" else "%s"
        )
        cursor.execute(
            f"insert into {schema}.{ledger.DELIVERIES} (week_label, destination, status, "
            "attempt_count, claim_token, slack_ts, payload_sha256, last_error, claimed_at, "
            f"delivered_at, updated_at) values ({placeholders}, current_timestamp, "
            "current_timestamp, current_timestamp)",
            list(old_row),
        )
    clean_env(monkeypatch, slack.env(channel))
    assert main(cli_args("send", warehouse)) == 0
    assert len(slack.reports) == 1
    weeks = {r["week_label"]: r["status"] for r in ledger.read_deliveries(warehouse.config)}
    assert weeks == {"2025-W52": "sent", "2026-W01": "sent"}
