"""The delivery ledger: exactly one report per (week, destination), even under faults.

Two tables in their own schema, `<target schema>_reporter`, apart from the dbt-built marts:

- `report_deliveries`: one row per (week_label, destination), the primary key. A sender
  claims the row (insert, or a compare-and-swap on the previous claim token) BEFORE
  posting, so a second sender finds it taken and posts nothing.
- `report_delivery_attempts`: one row per claim (its final status, Slack ts, payload hash,
  a redacted error, times).

A row's `status`:

| status    | meaning                                                    | next run            |
| --------- | ---------------------------------------------------------- | ------------------- |
| `sending` | claimed; no request in flight                              | waits (lease)       |
| `posting` | a request is in flight (`slack_ts` set: the thread reply)  | waits (lease)       |
| `posted`  | the report is in Slack; its thread reply is not yet        | posts the reply     |
| `unknown` | a request was sent and no answer says whether it landed    | bot: reads back [1] |
| `failed`  | Slack said no, or the request never left                   | posts               |
| `sent`    | done (report and thread reply)                             | nothing (`--force`) |

[1] A webhook cannot be read back: its `unknown` row stops every run until `--force`.

A claim is a lease: its sender refreshes `heartbeat_at` while it works. A `sending` or
`posting` claim whose sender is gone (its pid is dead on this host, or its heartbeat is
older than the lease) is taken over at once; one that was `posting` is treated as
`unknown`. Every `posting` row carries the cycle's idempotency key, which the message
carries in its Slack metadata, so an unknown outcome can be read back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reporter.redact import one_line
from reporter.warehouse import WarehouseConfig, connect, engine_placeholders, identifier

DELIVERIES = "report_deliveries"
ATTEMPTS = "report_delivery_attempts"
DEFAULT_LEASE_S = 60.0
MAX_ERROR_CHARS = 1000
IN_FLIGHT = ("sending", "posting")
# Columns added after the first release: added to an existing ledger on first use.
_NEW_COLUMNS = {
    "cycle_id": "varchar(64)",
    "cycle_started_at": "timestamp",
    "thread_ts": "varchar(64)",
    "owner_host": "varchar(255)",
    "owner_pid": "integer",
    "heartbeat_at": "timestamp",
}


def ledger_schema(config: WarehouseConfig) -> str:
    return identifier(f"{config.schema}_reporter")


def lease_seconds() -> float:
    """How long a silent claim is trusted (env REPORT_LEASE_SECONDS, default 60)."""
    try:
        return max(1.0, float(os.environ.get("REPORT_LEASE_SECONDS") or DEFAULT_LEASE_S))
    except ValueError:
        return DEFAULT_LEASE_S


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)  # stored as UTC


@dataclass(frozen=True)
class Claim:
    """This sender owns the (week, destination) row until it records the outcome.

    `slack_ts`: the report is already in Slack (only its thread reply is left).
    `check`: the last request's outcome is unknown: read the channel back before posting.
    """

    token: str
    week_label: str
    destination: str
    attempt: int
    claimed_at: dt.datetime
    cycle_id: str
    cycle_started_at: dt.datetime
    slack_ts: str | None = None
    check: bool = False

    @property
    def key(self) -> str:
        """The idempotency key of this delivery cycle (a --force starts a new one)."""
        return f"{self.week_label}/{self.cycle_id}"


@dataclass(frozen=True)
class Taken:
    """Someone already delivered, or is delivering, this (week, destination), or its
    outcome is unknown and cannot be read back (a webhook)."""

    status: str  # "sent", "sending" (in progress) or "unknown"
    week_label: str
    destination: str
    slack_ts: str | None
    at: dt.datetime | None


def _conflict_errors() -> tuple[type[Exception], ...]:
    # A duplicate key (PostgreSQL, DuckDB) or a write-write conflict (DuckDB).
    import duckdb
    import psycopg2

    return (psycopg2.IntegrityError, duckdb.ConstraintException, duckdb.TransactionException)


def _run(
    config: WarehouseConfig, statements: Sequence[tuple[str, Sequence[Any]]]
) -> list[tuple[Any, ...]]:
    """Run statements in one short write transaction; returns the last one's rows."""
    rows: list[tuple[Any, ...]] = []
    with connect(config, read_only=False) as conn:
        cursor = conn.cursor()
        for sql, params in statements:
            cursor.execute(engine_placeholders(config, sql), list(params))
            rows = list(cursor.fetchall()) if cursor.description else []
    return rows


def _existing_columns(config: WarehouseConfig, schema: str) -> set[str]:
    rows = _run(
        config,
        [
            (
                "select column_name from information_schema.columns "
                "where table_schema = %s and table_name = %s",
                (schema, DELIVERIES),
            )
        ],
    )
    return {str(row[0]).lower() for row in rows}


def ensure_tables(config: WarehouseConfig) -> None:
    schema = ledger_schema(config)
    columns = ",\n".join(f"{name} {kind}" for name, kind in _NEW_COLUMNS.items())
    statements = [
        (f"create schema if not exists {schema}", ()),
        (
            f"""create table if not exists {schema}.{DELIVERIES} (
                week_label varchar(32) not null,
                destination varchar(255) not null,
                status varchar(16) not null,
                attempt_count integer not null,
                claim_token varchar(64) not null,
                slack_ts varchar(64),
                payload_sha256 varchar(64),
                last_error varchar({MAX_ERROR_CHARS}),
                claimed_at timestamp not null,
                delivered_at timestamp,
                updated_at timestamp not null,
                {columns},
                primary key (week_label, destination)
            )""",
            (),
        ),
        (
            f"""create table if not exists {schema}.{ATTEMPTS} (
                attempt_id varchar(64) not null primary key,
                week_label varchar(32) not null,
                destination varchar(255) not null,
                attempt integer not null,
                status varchar(16) not null,
                slack_ts varchar(64),
                payload_sha256 varchar(64),
                error varchar({MAX_ERROR_CHARS}),
                started_at timestamp not null,
                finished_at timestamp not null
            )""",
            (),
        ),
    ]
    for _ in range(3):
        try:
            _run(config, statements)
            present = _existing_columns(config, schema)
            missing = [name for name in _NEW_COLUMNS if name not in present]
            if missing:  # a ledger from before leases and read-back
                _run(
                    config,
                    [
                        (
                            f"alter table {schema}.{DELIVERIES} "
                            f"add column if not exists {name} {_NEW_COLUMNS[name]}",
                            (),
                        )
                        for name in missing
                    ],
                )
            return
        except _conflict_errors():
            continue  # two first-ever senders raced on `create ... if not exists`


_ROW_COLUMNS = (
    "status",
    "claim_token",
    "slack_ts",
    "claimed_at",
    "delivered_at",
    "cycle_id",
    "cycle_started_at",
    "owner_host",
    "owner_pid",
    "heartbeat_at",
)


def _row(config: WarehouseConfig, week_label: str, destination: str) -> dict[str, Any] | None:
    rows = _run(
        config,
        [
            (
                f"select {', '.join(_ROW_COLUMNS)} from {ledger_schema(config)}.{DELIVERIES} "
                "where week_label = %s and destination = %s",
                (week_label, destination),
            )
        ],
    )
    return dict(zip(_ROW_COLUMNS, rows[0], strict=True)) if rows else None


def pid_is_gone(pid: int) -> bool:
    """This host's process `pid` no longer runs (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False


def sender_is_gone(row: dict[str, Any], now: dt.datetime, lease_s: float) -> bool:
    """The claim's sender died (pid gone on this host) or stopped beating (lease expired)."""
    pid = row["owner_pid"]
    here = row["owner_host"] == socket.gethostname() and pid is not None
    if here and int(pid) != os.getpid() and pid_is_gone(int(pid)):
        return True
    beat = row["heartbeat_at"] or row["claimed_at"]
    return beat < now - dt.timedelta(seconds=lease_s)


def claim(
    config: WarehouseConfig,
    week_label: str,
    destination: str,
    force: bool = False,
    *,
    can_read_back: bool = True,
    lease_s: float | None = None,
) -> Claim | Taken:
    """Take the (week, destination) row before posting, or say who has it."""
    lease_s = lease_seconds() if lease_s is None else lease_s
    ensure_tables(config)
    token, now, cycle_id = uuid.uuid4().hex, _now(), uuid.uuid4().hex[:16]
    first = _insert_claim(config, week_label, destination, token, now, cycle_id)
    if first is not None:
        return first
    current = _row(config, week_label, destination)
    if current is None:  # deleted by hand in between: start over
        return claim(
            config, week_label, destination, force, can_read_back=can_read_back, lease_s=lease_s
        )
    in_doubt = current["status"] == "unknown" or (
        current["status"] == "posting" and sender_is_gone(current, now, lease_s)
    )
    takeover = _takeover(current, in_doubt, now, lease_s, force, can_read_back, cycle_id)
    if takeover is None:
        return _leave(config, current, in_doubt, week_label, destination, now)
    return _swap_claim(config, current, takeover, week_label, destination, token, now)


def _owner(now: dt.datetime) -> tuple[str, int, dt.datetime]:
    """owner_host, owner_pid and heartbeat_at of a claim this process takes now."""
    return (socket.gethostname(), os.getpid(), now)


def _insert_claim(
    config: WarehouseConfig,
    week_label: str,
    destination: str,
    token: str,
    now: dt.datetime,
    cycle_id: str,
) -> Claim | None:
    """The first claim of a (week, destination): None when its row already exists."""
    try:
        _run(
            config,
            [
                (
                    f"insert into {ledger_schema(config)}.{DELIVERIES} (week_label, "
                    "destination, status, attempt_count, claim_token, claimed_at, updated_at, "
                    "cycle_id, cycle_started_at, owner_host, owner_pid, heartbeat_at) "
                    "values (%s, %s, 'sending', 1, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (week_label, destination, token, now, now, cycle_id, now, *_owner(now)),
                )
            ],
        )
    except _conflict_errors():
        return None
    return Claim(token, week_label, destination, 1, now, cycle_id, now)


@dataclass(frozen=True)
class _Takeover:
    """What a claim of an existing row carries on: its cycle, Slack ts, and whether to
    read the channel back first."""

    cycle_id: str
    cycle_started_at: dt.datetime
    slack_ts: str | None
    check: bool


def _takeover(
    current: dict[str, Any],
    in_doubt: bool,
    now: dt.datetime,
    lease_s: float,
    force: bool,
    can_read_back: bool,
    new_cycle_id: str,
) -> _Takeover | None:
    """How this sender may take the existing row over; None when it must leave it."""
    status = current["status"]
    abandoned = status == "sending" and sender_is_gone(current, now, lease_s)
    if status == "sent" and force:
        return _Takeover(new_cycle_id, now, None, False)
    if status in ("failed", "posted") or abandoned or (in_doubt and (can_read_back or force)):
        return _Takeover(
            current["cycle_id"] or new_cycle_id,
            current["cycle_started_at"] or current["claimed_at"],
            current["slack_ts"],
            in_doubt and can_read_back,
        )
    return None


def _leave(
    config: WarehouseConfig,
    current: dict[str, Any],
    in_doubt: bool,
    week_label: str,
    destination: str,
    now: dt.datetime,
) -> Taken:
    """The row stays with its owner (or its outcome stays unknown): say who has it."""
    status = current["status"]
    if in_doubt and status == "posting":  # a webhook's sender died mid-post: say so
        with contextlib.suppress(*_conflict_errors()):
            _run(
                config,
                [
                    (
                        f"update {ledger_schema(config)}.{DELIVERIES} set status = 'unknown', "
                        "updated_at = %s, "
                        "last_error = 'the sender stopped while its post was in flight' "
                        "where week_label = %s and destination = %s and claim_token = %s",
                        (now, week_label, destination, current["claim_token"]),
                    )
                ],
            )
    at = current["delivered_at"] if status == "sent" else current["claimed_at"]
    shown = status if status in ("sent", "unknown") else "unknown" if in_doubt else "sending"
    return Taken(shown, week_label, destination, current["slack_ts"], at)


def _swap_claim(
    config: WarehouseConfig,
    current: dict[str, Any],
    takeover: _Takeover,
    week_label: str,
    destination: str,
    token: str,
    now: dt.datetime,
) -> Claim | Taken:
    """Compare-and-swap on the previous claim token: of two senders, one wins."""
    try:
        won = _run(
            config,
            [
                (
                    f"update {ledger_schema(config)}.{DELIVERIES} set status = 'sending', "
                    "claim_token = %s, claimed_at = %s, "
                    "updated_at = %s, attempt_count = attempt_count + 1, slack_ts = %s, "
                    "cycle_id = %s, cycle_started_at = %s, owner_host = %s, owner_pid = %s, "
                    "heartbeat_at = %s "
                    "where week_label = %s and destination = %s and claim_token = %s "
                    "returning attempt_count",
                    (
                        token,
                        now,
                        now,
                        takeover.slack_ts,
                        takeover.cycle_id,
                        takeover.cycle_started_at,
                        *_owner(now),
                        week_label,
                        destination,
                        current["claim_token"],
                    ),
                )
            ],
        )
    except _conflict_errors():
        won = []
    if won:
        return Claim(
            token,
            week_label,
            destination,
            int(won[0][0]),
            now,
            takeover.cycle_id,
            takeover.cycle_started_at,
            takeover.slack_ts,
            takeover.check,
        )
    latest = _row(config, week_label, destination) or current
    return Taken(
        latest["status"] if latest["status"] in ("sent", "unknown") else "sending",
        week_label,
        destination,
        latest["slack_ts"],
        latest["claimed_at"],
    )


WRITE_TRIES = 2


def _retrying(config: WarehouseConfig, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
    """A write that matters (after a post): tried again once (each try already waits for a
    busy DuckDB file); the last failure is raised."""
    for attempt in range(1, WRITE_TRIES + 1):
        try:
            _run(config, statements)
            return
        except Exception:
            if attempt == WRITE_TRIES:
                raise
            time.sleep(0.2)


def _update(
    config: WarehouseConfig, claim_: Claim, assignments: str, params: Sequence[Any]
) -> None:
    _retrying(
        config,
        [
            (
                f"update {ledger_schema(config)}.{DELIVERIES} set {assignments} "
                "where week_label = %s and destination = %s and claim_token = %s",
                (*params, claim_.week_label, claim_.destination, claim_.token),
            )
        ],
    )


def mark_posting(config: WarehouseConfig, claim_: Claim, slack_ts: str | None = None) -> None:
    """Just before a request leaves: from here on, a dead sender means an unknown outcome.

    `slack_ts` set: the report is in Slack and the request is its thread reply.
    """
    now = _now()
    _update(
        config,
        claim_,
        "status = 'posting', slack_ts = %s, updated_at = %s, heartbeat_at = %s",
        (slack_ts, now, now),
    )


def record(
    config: WarehouseConfig,
    claim_: Claim,
    status: str,
    slack_ts: str | None = None,
    payload_sha256: str | None = None,
    error: str | None = None,
    thread_ts: str | None = None,
) -> None:
    """A claim's outcome: `sent`, `posted`, `failed` or `unknown` (see the module docstring).

    The write is retried; if it still fails, the row stays `posting` with this sender's
    pid, and the next run resolves it by reading Slack back.
    """
    if status not in ("sent", "posted", "failed", "unknown"):
        raise ValueError(status)
    schema = ledger_schema(config)
    error = one_line(error, MAX_ERROR_CHARS) if error else None
    now = _now()
    _retrying(
        config,
        [
            (
                f"update {schema}.{DELIVERIES} set status = %s, slack_ts = %s, "
                "thread_ts = %s, payload_sha256 = %s, last_error = %s, updated_at = %s"
                + (", delivered_at = %s" if status == "sent" else "")
                + " where week_label = %s and destination = %s and claim_token = %s",
                (
                    status,
                    slack_ts,
                    thread_ts,
                    payload_sha256,
                    error,
                    now,
                    *((now,) if status == "sent" else ()),
                    claim_.week_label,
                    claim_.destination,
                    claim_.token,
                ),
            ),
            (
                f"insert into {schema}.{ATTEMPTS} (attempt_id, week_label, destination, "
                "attempt, status, slack_ts, payload_sha256, error, started_at, "
                "finished_at) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    claim_.token,
                    claim_.week_label,
                    claim_.destination,
                    claim_.attempt,
                    status,
                    slack_ts,
                    payload_sha256,
                    error,
                    claim_.claimed_at,
                    now,
                ),
            ),
        ],
    )


class Heartbeat:
    """Keeps a claim's lease fresh from a background thread while its sender works."""

    def __init__(self, config: WarehouseConfig, claim_: Claim, lease_s: float | None = None):
        self.config = config
        self.claim = claim_
        self.interval = (lease_seconds() if lease_s is None else lease_s) / 3
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="ledger-heartbeat", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                _update(self.config, self.claim, "heartbeat_at = %s", (_now(),))
            except Exception:  # noqa: S112 - a busy file: the next beat tries again
                continue

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)


def read_deliveries(config: WarehouseConfig) -> list[dict[str, Any]]:
    """The ledger's current state, one row per (week, destination); empty before any send."""
    ensure_tables(config)
    columns = (
        "week_label",
        "destination",
        "status",
        "attempt_count",
        "slack_ts",
        "thread_ts",
        "payload_sha256",
        "last_error",
        "claimed_at",
        "delivered_at",
    )
    rows = _run(
        config,
        [
            (
                f"select {', '.join(columns)} from {ledger_schema(config)}.{DELIVERIES} "
                "order by week_label, destination",
                (),
            )
        ],
    )
    return [dict(zip(columns, row, strict=True)) for row in rows]


def read_attempts(config: WarehouseConfig) -> list[dict[str, Any]]:
    """Every recorded attempt, oldest first."""
    ensure_tables(config)
    columns = ("week_label", "destination", "attempt", "status", "slack_ts", "error")
    rows = _run(
        config,
        [
            (
                f"select {', '.join(columns)} from {ledger_schema(config)}.{ATTEMPTS} "
                "order by started_at, attempt",
                (),
            )
        ],
    )
    return [dict(zip(columns, row, strict=True)) for row in rows]
