"""A demo week with an injected regression, sent through the real slack_sdk to the fake
Slack: the message leads with the regression and one mention, and the biggest movers go
to a thread reply under it (a webhook, which has no threads, gets them inline)."""

from __future__ import annotations

import datetime as dt
import json

import fake_slack
import pytest

from demo_data import DemoSpec
from reporter.cli import main

MENTION = "S0PERF"


@pytest.fixture(scope="module")
def regressed(tmp_path_factory: pytest.TempPathFactory):
    from warehouses import new_warehouse

    warehouse = new_warehouse(
        "duckdb", tmp_path_factory.mktemp("regressed"), as_of_date="2026-01-07"
    )
    spec = DemoSpec(
        weeks=6, rows_per_day=60, seed=7, end_date=dt.date(2026, 1, 4), regression="chat-v2.0:-1.5"
    )
    warehouse.generate(spec)
    warehouse.build()
    return warehouse


def send(warehouse, monkeypatch, env: dict[str, str], *extra: str) -> int:
    for name in ("SLACK_WEBHOOK_URL", "SLACK_BOT_TOKEN", "DASHBOARD_URL", "REPORT_LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SLACK_ALERT_MENTION", MENTION)
    args = ["send", "--profiles-dir", str(warehouse.profiles_dir), "--target", "duckdb"]
    return main([*args, "--as-of", "2026-01-07", "--lang", "en", *extra])


def test_regression_leads_and_movers_reply_in_a_thread(regressed, monkeypatch) -> None:
    with fake_slack.running() as slack:
        assert send(regressed, monkeypatch, slack.env("#alerts-bot")) == 0
        main_message, reply = slack.messages
    assert main_message["text"].startswith("⚠️ Significant regression: average score")
    everything = json.dumps([main_message, reply], ensure_ascii=False)
    assert everything.count(f"<!subteam^{MENTION}>") == 2  # once in the blocks, once in text
    assert f"<!subteam^{MENTION}>" not in json.dumps(reply, ensure_ascii=False)
    change_line = next(line for line in main_message["text"].splitlines() if "Change:" in line)
    assert change_line.endswith("(📉 regression)")
    assert reply["thread_ts"] == main_message["ts"]  # under the main message
    movers = [line for line in reply["text"].splitlines() if line.startswith("•")]
    assert 1 <= len(movers) <= 3
    assert "chat-v2.0" in movers[0] and "score -1." in movers[0]


def test_a_webhook_gets_the_movers_inline(regressed, monkeypatch) -> None:
    with fake_slack.running() as slack:
        assert send(regressed, monkeypatch, slack.webhook_env(), "--force") == 0
        (only,) = slack.messages
    assert only["text"].startswith("⚠️") and "Biggest movers · 2026-W01" in only["text"]
    # Slack shows the blocks when there are blocks: the movers must be in them too.
    assert "Biggest movers · 2026-W01" in json.dumps(only["blocks"], ensure_ascii=False)
