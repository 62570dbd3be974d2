"""The delivery ledger: exactly one report per (week, channel), even with concurrent senders.

Two tables in their own schema, `<target schema>_reporter`, apart from the dbt-built marts:

- `report_deliveries`: one row per (week_label, destination), the primary key. A sender
  claims the row (insert, or a compare-and-swap update of a failed row) BEFORE posting,
  so a second sender finds it taken and posts nothing. The row ends `sent` or `failed`.
- `report_delivery_attempts`: one row per attempt (status, Slack ts, payload hash, times).

A claim that stays `sending` longer than `stale_after` (a sender that died mid-post) may be
taken over; that is the one case where Slack could get the message twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reporter.warehouse import WarehouseConfig, connect

DELIVERIES = "report_deliveries"
ATTEMPTS = "report_delivery_attempts"
STALE_AFTER = dt.timedelta(minutes=15)
MAX_ERROR_CHARS = 1000


def ledger_schema(config: WarehouseConfig) -> str:
    return f"{config.schema}_reporter"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)  # stored as UTC


@dataclass(frozen=True)
class Claim:
    """This sender owns the (week, destination) row until it records the outcome."""

    token: str
    week_label: str
    destination: str
    attempt: int
    claimed_at: dt.datetime


@dataclass(frozen=True)
class Taken:
    """Someone already delivered, or is delivering, this (week, destination)."""

    status: str  # "sent" or "sending"
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
            if config.type == "duckdb":
                sql = sql.replace("%s", "?")
            cursor.execute(sql, list(params))
            rows = list(cursor.fetchall()) if cursor.description else []
    return rows


def ensure_tables(config: WarehouseConfig) -> None:
    schema = ledger_schema(config)
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
    try:
        _run(config, statements)
    except _conflict_errors():
        # Two first-ever senders raced on `create ... if not exists`: the other one won.
        _run(config, statements)


def _row(config: WarehouseConfig, week_label: str, destination: str) -> dict[str, Any] | None:
    rows = _run(
        config,
        [
            (
                f"select status, claim_token, slack_ts, claimed_at, delivered_at "
                f"from {ledger_schema(config)}.{DELIVERIES} "
                "where week_label = %s and destination = %s",
                (week_label, destination),
            )
        ],
    )
    if not rows:
        return None
    keys = ("status", "claim_token", "slack_ts", "claimed_at", "delivered_at")
    return dict(zip(keys, rows[0], strict=True))


def claim(
    config: WarehouseConfig,
    week_label: str,
    destination: str,
    force: bool = False,
    stale_after: dt.timedelta = STALE_AFTER,
) -> Claim | Taken:
    """Take the (week, destination) row before posting, or say who has it."""
    ensure_tables(config)
    table = f"{ledger_schema(config)}.{DELIVERIES}"
    token = uuid.uuid4().hex
    now = _now()
    try:
        _run(
            config,
            [
                (
                    f"insert into {table} (week_label, destination, status, attempt_count, "
                    "claim_token, claimed_at, updated_at) "
                    "values (%s, %s, 'sending', 1, %s, %s, %s)",
                    (week_label, destination, token, now, now),
                )
            ],
        )
        return Claim(token, week_label, destination, 1, now)
    except _conflict_errors():
        pass
    current = _row(config, week_label, destination)
    if current is None:  # deleted by hand in between: start over
        return claim(config, week_label, destination, force, stale_after)
    status = current["status"]
    stale = status == "sending" and current["claimed_at"] < now - stale_after
    if not (status == "failed" or (status == "sent" and force) or stale):
        at = current["delivered_at"] if status == "sent" else current["claimed_at"]
        return Taken(status, week_label, destination, current["slack_ts"], at)
    # Compare-and-swap on the previous claim token: of two senders, one wins.
    try:
        won = _run(
            config,
            [
                (
                    f"update {table} set status = 'sending', claim_token = %s, claimed_at = %s, "
                    "updated_at = %s, attempt_count = attempt_count + 1 "
                    "where week_label = %s and destination = %s and claim_token = %s "
                    "returning attempt_count",
                    (token, now, now, week_label, destination, current["claim_token"]),
                )
            ],
        )
    except _conflict_errors():
        won = []
    if won:
        return Claim(token, week_label, destination, int(won[0][0]), now)
    latest = _row(config, week_label, destination) or current
    return Taken(
        latest["status"] if latest["status"] != "failed" else "sending",
        week_label,
        destination,
        latest["slack_ts"],
        latest["claimed_at"],
    )


def record(
    config: WarehouseConfig,
    claim_: Claim,
    status: str,
    slack_ts: str | None = None,
    payload_sha256: str | None = None,
    error: str | None = None,
) -> None:
    """The outcome of a claimed attempt: `sent` or `failed` (retried on the next run)."""
    if status not in ("sent", "failed"):
        raise ValueError(status)
    schema = ledger_schema(config)
    now = _now()
    error = error[:MAX_ERROR_CHARS] if error else None
    _run(
        config,
        [
            (
                f"update {schema}.{DELIVERIES} set status = %s, slack_ts = %s, "
                "payload_sha256 = %s, last_error = %s, updated_at = %s"
                + (", delivered_at = %s" if status == "sent" else "")
                + " where week_label = %s and destination = %s and claim_token = %s",
                (
                    status,
                    slack_ts,
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
                f"insert into {schema}.{ATTEMPTS} (attempt_id, week_label, destination, attempt, "
                "status, slack_ts, payload_sha256, error, started_at, finished_at) "
                "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
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


def read_deliveries(config: WarehouseConfig) -> list[dict[str, Any]]:
    """The ledger's current state, one row per (week, destination); empty before any send."""
    ensure_tables(config)
    columns = (
        "week_label",
        "destination",
        "status",
        "attempt_count",
        "slack_ts",
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
