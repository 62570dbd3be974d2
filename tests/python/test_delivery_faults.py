"""The fault matrix: `send` under real faults, then `send` again, for a bot token and a webhook.

Real parts: the CLI, the real slack_sdk client against the fake Slack on 127.0.0.1, and a
real DuckDB ledger (a copy of the session's demo warehouse). Faults are real too: the fake
accepts a post and then drops the connection (FIN or RST), hangs, or trickles its answer;
sender processes are killed with SIGKILL at each step of a send; the DuckDB file is held
by another process while the sender wants to record a post.

After the fault and one more `send`, every case asserts: exactly one report and one thread
reply with a bot token; at most one post with a webhook; the exit codes; and no secret in
any output (stdout, stderr, the ledger's columns). docs/reporter.md has this table.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import fake_slack
import pytest
import warehouses
from conftest import DEMO_AS_OF
from fake_slack import TOKEN, FakeSlack, Received, Reply, accept_then, rate_limited, server_error

from reporter import ledger
from reporter.cli import main
from reporter.warehouse import PROJECT_DIR, connect

SECRET_PARTS = (TOKEN, "fake-webhook-secret", "fake-bot-token")
# Short bounds so the matrix stays quick; the logic is the production logic.
FAST_ENV = {
    "SLACK_TIMEOUT": "1",
    "SLACK_MAX_SEND_SECONDS": "4",
    "REPORT_DUCKDB_BUSY_SECONDS": "20",
    "DO_NOT_TRACK": "1",
}

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack.running() as fake:
        yield fake


@pytest.fixture
def warehouse(demo_duckdb: warehouses.TestWarehouse, tmp_path: Path) -> warehouses.TestWarehouse:
    copy = warehouses.TestWarehouse("duckdb", tmp_path, demo_duckdb.schema, demo_duckdb.raw_schema)
    copy.write_profile()
    shutil.copy(demo_duckdb.root / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    return copy


def destination_env(slack: FakeSlack, kind: str) -> dict[str, str]:
    if kind == "bot":
        return slack.env(f"#perf-{uuid.uuid4().hex[:8]}")
    return slack.webhook_env()


def send_args(warehouse: warehouses.TestWarehouse) -> list[str]:
    return [
        "send",
        "--profiles-dir",
        str(warehouse.profiles_dir),
        "--target",
        "duckdb",
        "--as-of",
        DEMO_AS_OF,
    ]


def assert_no_secret(*texts: object) -> None:
    for text in texts:
        for part in SECRET_PARTS:
            assert part not in str(text), f"a secret leaked into: {str(text)[:300]}"


def ledger_text(warehouse: warehouses.TestWarehouse) -> str:
    return repr(ledger.read_deliveries(warehouse.config)) + repr(
        ledger.read_attempts(warehouse.config)
    )


def assert_delivered(slack: FakeSlack, kind: str, webhook_posts: int | None = 1) -> None:
    if kind == "bot":
        assert len(slack.reports) == 1, slack.reports
        assert len(slack.replies) == 1, slack.replies
        assert slack.replies[0]["thread_ts"] == slack.reports[0]["ts"]
    else:
        assert len(slack.reports) <= 1
        if webhook_posts is not None:
            assert len(slack.reports) == webhook_posts


# ---------------------------------------------------------------------------------------
# Slack's faults, in process: (fault, exit code of the first send, of the re-run) per
# destination. 0 sent, 1 failed (the next run retries or reads back), 4 unknown (webhook).


@dataclass(frozen=True)
class Fault:
    name: str
    replies: tuple[Reply, ...]
    bot_exits: tuple[int, int]
    webhook_exits: tuple[int, int]
    webhook_posts: int  # a webhook's posts after both runs


FAULTS = [
    Fault("accept then FIN", (accept_then("fin"),), (0, 0), (4, 4), 1),
    Fault("accept then RST", (accept_then("rst"),), (0, 0), (4, 4), 1),
    Fault("accept then hang", (accept_then("hang", seconds=3),), (0, 0), (4, 4), 1),
    Fault("slow trickle", (accept_then("trickle", trickle_s=0.5),), (1, 0), (4, 4), 1),
    Fault("429", (rate_limited(1),), (0, 0), (0, 0), 1),
    Fault("5xx", (server_error(),), (0, 0), (0, 0), 1),
    Fault("invalid_auth", (fake_slack.slack_error("invalid_auth"),), (1, 0), (1, 0), 1),
    Fault("channel_not_found", (fake_slack.slack_error("channel_not_found"),), (1, 0), (1, 0), 1),
    Fault("not_in_channel", (fake_slack.slack_error("not_in_channel"),), (1, 0), (1, 0), 1),
]


@pytest.mark.parametrize("kind", ["bot", "webhook"])
@pytest.mark.parametrize("fault", FAULTS, ids=[fault.name for fault in FAULTS])
def test_fault_then_rerun(
    fault: Fault, kind: str, warehouse, slack, monkeypatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL", "SLACK_CHANNEL", "SLACK_API_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**FAST_ENV, **destination_env(slack, kind)}.items():
        monkeypatch.setenv(name, value)
    slack.push(*fault.replies)
    expected = fault.bot_exits if kind == "bot" else fault.webhook_exits

    first = main(send_args(warehouse))
    out1 = capsys.readouterr()
    second = main(send_args(warehouse))
    out2 = capsys.readouterr()

    assert (first, second) == expected, (out1, out2)
    assert_delivered(slack, kind, fault.webhook_posts)
    for out in (out1, out2):
        assert "Traceback" not in out.err
        assert len(out.err.strip().splitlines()) <= 1
    assert_no_secret(out1, out2, ledger_text(warehouse))
    if expected[0] == 4:
        assert "send --force" in out1.err and "send --force" in out2.err


FAULT_CHOICES = [
    accept_then("fin"),
    accept_then("rst"),
    accept_then("hang", seconds=2),
    rate_limited(1),
    server_error(),
    fake_slack.slack_error("channel_not_found"),
    fake_slack.OK,
]


@pytest.mark.parametrize("seed", range(6))
def test_any_sequence_of_faults_ends_in_exactly_one_report_and_reply(
    seed: int, warehouse, slack, monkeypatch, capsys
) -> None:
    """A property over random fault sequences (on the report and on its thread reply):
    re-running `send` until it exits 0 always ends with one report and one reply."""
    import random

    rng = random.Random(seed)
    faults = [rng.choice(FAULT_CHOICES) for _ in range(rng.randint(1, 4))]
    for name in ("SLACK_WEBHOOK_URL",):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**FAST_ENV, **destination_env(slack, "bot")}.items():
        monkeypatch.setenv(name, value)
    slack.push(*faults)
    codes = []
    for _ in range(len(faults) + 2):  # the scheduler's retry lines
        codes.append(main(send_args(warehouse)))
        rows = ledger.read_deliveries(warehouse.config)
        if codes[-1] == 0 and rows and rows[0]["status"] == "sent":
            break
    capsys.readouterr()
    example = f"faults {[f.kind for f in faults]}, exit codes {codes}"
    assert codes[-1] == 0, example
    assert len(slack.reports) == 1 and len(slack.replies) == 1, example
    (row,) = ledger.read_deliveries(warehouse.config)
    assert row["status"] == "sent", example


def test_webhook_force_is_the_humans_decision_to_post_again(warehouse, slack, monkeypatch):
    for name in ("SLACK_BOT_TOKEN", "SLACK_CHANNEL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**FAST_ENV, **slack.webhook_env()}.items():
        monkeypatch.setenv(name, value)
    slack.push(accept_then("fin"))
    assert main(send_args(warehouse)) == 4
    assert main([*send_args(warehouse), "--force"]) == 0
    assert len(slack.reports) == 2  # the human looked, and asked for it
    assert main(send_args(warehouse)) == 0  # and now it is sent
    assert len(slack.reports) == 2


# ---------------------------------------------------------------------------------------
# Sender processes killed at each step of a send.


class Sender:
    """`python -m reporter send` in its own process."""

    def __init__(self, warehouse: warehouses.TestWarehouse, env: dict[str, str]) -> None:
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REPORT_"))},
            **FAST_ENV,
            **env,
        }
        self.command = [sys.executable, "-m", "reporter", *send_args(warehouse)]
        self.outputs: list[str] = []

    def start(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command,
            cwd=PROJECT_DIR,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finish(self, process: subprocess.Popen[str]) -> int:
        out, err = process.communicate(timeout=120)
        self.outputs.append(out + err)
        assert "Traceback" not in err, err
        return process.returncode

    def run(self) -> int:
        return self.finish(self.start())


def kill(process_box: list[subprocess.Popen[str]], sig: int = signal.SIGKILL):
    def hook(received: Received) -> None:
        process = process_box[0]
        process.send_signal(sig)
        process.wait(timeout=60)

    return hook


def is_report(received: Received) -> bool:
    return "thread_ts" not in received.body


def is_reply(received: Received) -> bool:
    return "thread_ts" in received.body


@dataclass(frozen=True)
class Step:
    name: str
    arm: Callable[[FakeSlack, list[subprocess.Popen[str]]], None]
    bot_exit: int  # the re-run's exit code
    webhook_exit: int | None  # None: no such step for a webhook (no thread)
    webhook_posts: int


def _before_post(slack: FakeSlack, box: list) -> None:
    # The request arrived and Slack has not taken it: the sender dies.
    slack.push(Reply("hang", hang_s=0))
    killer = kill(box)
    slack.on_request = lambda r: killer(r) if is_report(r) else None


def _after_accept(slack: FakeSlack, box: list) -> None:
    killer = kill(box)
    slack.on_accept = lambda r: killer(r) if is_report(r) else None


def _before_ledger_write(slack: FakeSlack, box: list) -> None:
    # Slack answers, but the DuckDB file is busy: the sender waits to record it, and dies.
    def hook(received: Received) -> None:
        if not is_report(received):
            return

        def later() -> None:
            time.sleep(1.0)  # the answer reaches the sender, which now waits for the file
            kill(box)(received)

        threading.Thread(target=later, daemon=True).start()

    slack.on_accept = hook


def _before_reply(slack: FakeSlack, box: list) -> None:
    slack.push(fake_slack.OK, Reply("hang", hang_s=0))
    killer = kill(box)
    slack.on_request = lambda r: killer(r) if is_reply(r) else None


def _after_reply_accepted(slack: FakeSlack, box: list) -> None:
    killer = kill(box)
    slack.on_accept = lambda r: killer(r) if is_reply(r) else None


STEPS = [
    Step("before Slack took the post", _before_post, 0, 4, 0),
    Step("after Slack accepted", _after_accept, 0, 4, 1),
    Step("before the ledger write", _before_ledger_write, 0, 4, 1),
    Step("before the thread reply", _before_reply, 0, None, 0),
    Step("after the thread reply was accepted", _after_reply_accepted, 0, None, 0),
]


KILLS = [
    pytest.param(step, kind, id=f"{step.name}-{kind}")
    for step in STEPS
    for kind in ("bot", "webhook")
    if kind == "bot" or step.webhook_exit is not None  # a webhook has no thread reply
]


@pytest.mark.parametrize(("step", "kind"), KILLS)
def test_sender_killed_then_rerun(step: Step, kind: str, warehouse, slack) -> None:
    sender = Sender(warehouse, destination_env(slack, kind))
    box: list[subprocess.Popen[str]] = []
    step.arm(slack, box)
    holder = None
    if step.arm is _before_ledger_write:
        holder = DuckDBHolder(warehouse.root / "warehouse.duckdb")
        original = slack.on_accept

        def hold_then_kill(received: Received) -> None:
            if is_report(received):
                holder.hold()
            original(received)

        slack.on_accept = hold_then_kill
    box.append(sender.start())
    first = sender.finish(box[0])
    assert first == -signal.SIGKILL
    if holder is not None:
        holder.release()
    slack.on_request = slack.on_accept = None

    again = sender.run()  # at once: no 15-minute wait for a dead sender's claim

    assert again == (step.bot_exit if kind == "bot" else step.webhook_exit), sender.outputs
    assert_delivered(slack, kind, step.webhook_posts)
    assert_no_secret(*sender.outputs, ledger_text(warehouse))


class DuckDBHolder:
    """Another process holding the DuckDB file open, as a dashboard mid-query would."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.process: subprocess.Popen[str] | None = None

    def hold(self) -> None:
        code = (
            "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
            "print('held', flush=True); sys.stdin.read()"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, str(self.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "held"

    def release(self) -> None:
        if self.process is not None:
            self.process.communicate(timeout=30)
            self.process = None


def test_ledger_write_blocked_after_the_post_then_rerun(warehouse, slack) -> None:
    """Slack took the report; the ledger cannot record it. The next run reads it back."""
    env = {**destination_env(slack, "bot"), "REPORT_DUCKDB_BUSY_SECONDS": "1"}
    sender = Sender(warehouse, env)
    holder = DuckDBHolder(warehouse.root / "warehouse.duckdb")
    slack.on_accept = lambda r: holder.hold() if is_report(r) else None

    first = sender.run()
    holder.release()
    assert first == 1
    assert "the next run reads the channel back" in sender.outputs[0]
    assert len(slack.reports) == 1 and slack.replies == []
    slack.on_accept = None

    assert sender.run() == 0
    assert_delivered(slack, "bot")
    assert_no_secret(*sender.outputs, ledger_text(warehouse))


@pytest.mark.parametrize("kind", ["bot", "webhook"])
def test_five_concurrent_senders_post_once(kind: str, warehouse, slack) -> None:
    # Five processes queue for one DuckDB file: the send bounds of a loaded machine, not the
    # matrix's short ones (which make a slow fifth sender give up as an "unknown" outcome).
    bounds = {"SLACK_TIMEOUT": "10", "SLACK_MAX_SEND_SECONDS": "60"}
    sender = Sender(warehouse, {**destination_env(slack, kind), **bounds})
    processes = [sender.start() for _ in range(5)]
    codes = [sender.finish(process) for process in processes]
    assert codes == [0] * 5, sender.outputs
    assert sum(output.startswith("sent ") for output in sender.outputs) == 1
    assert_delivered(slack, kind)
    assert_no_secret(*sender.outputs, ledger_text(warehouse))


def test_interrupted_sender_records_unknown_and_the_rerun_resolves(warehouse, slack) -> None:
    """Ctrl-C (SIGINT) after Slack took the post: one line, exit 130, then exactly once."""
    sender = Sender(warehouse, destination_env(slack, "bot"))
    box: list[subprocess.Popen[str]] = []
    slack.push(accept_then("hang", seconds=3))
    slack.on_accept = lambda r: box[0].send_signal(signal.SIGINT) if is_report(r) else None
    box.append(sender.start())
    assert sender.finish(box[0]) == 130
    assert sender.outputs[0].strip().splitlines()[-1].startswith("error: interrupted")
    slack.on_accept = None
    assert sender.run() == 0
    assert_delivered(slack, "bot")
    row = next(r for r in ledger.read_deliveries(warehouse.config))
    assert row["status"] == "sent" and row["attempt_count"] == 2


def test_a_live_senders_claim_is_respected(warehouse, slack) -> None:
    """A claim whose sender still runs is not taken over (the lease is fresh, the pid lives)."""
    config = warehouse.config
    claimed = ledger.claim(config, "2026-W01", "#live", lease_s=60)
    assert isinstance(claimed, ledger.Claim)
    again = ledger.claim(config, "2026-W01", "#live", lease_s=60)
    assert isinstance(again, ledger.Taken) and again.status == "sending"
    # Its lease lapses (a sender on another host stopped beating): taken over.
    with connect(config, read_only=False) as conn:
        conn.execute(
            f"update {ledger.ledger_schema(config)}.{ledger.DELIVERIES} "
            "set owner_host = 'elsewhere', heartbeat_at = heartbeat_at - interval 2 minute"
        )
    assert isinstance(ledger.claim(config, "2026-W01", "#live", lease_s=60), ledger.Claim)
