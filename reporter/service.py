"""The report's orchestration, shared by the CLI and the dashboard.

    preview_report(config, ReportRequest(week="2026-W01"))  → the exact text and blocks
    send_report(config, request, channel="#ai-reports")      → posted once, through the ledger

Reads come from the marts (reporter.reads), the week and flags from reporter.report, the
wording from reporter.render, delivery from reporter.slack, exactly-once from reporter.ledger.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reporter import ledger
from reporter.errors import DeliveryError, UserError
from reporter.reads import read_quarantine, read_segments, read_weekly_performance
from reporter.render import (
    LANGUAGES,
    RenderedReport,
    render,
    render_pipeline_failure,
    slack_mention,
)
from reporter.report import DEFAULT_MIN_N, Report, select_movers, select_week
from reporter.slack import Destination, RetryPolicy, destination_from_env
from reporter.warehouse import WarehouseConfig

DEFAULT_TIMEZONE = "Asia/Seoul"  # the team's; only for the "generated at" line


@dataclass(frozen=True)
class ReportRequest:
    """What to report and how: the CLI's options, also usable from the dashboard."""

    week: str | None = None  # "2026-W01"; default: the latest complete week
    as_of: dt.date | None = None  # with no week: the latest week that ended before this date
    lang: str = "ko"
    min_n: int = DEFAULT_MIN_N
    dashboard_url: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    # Who to mention when a regression is significant: U123, S123 (a group), here, channel.
    alert_mention: str | None = None

    def validated(self) -> ReportRequest:
        if self.lang not in LANGUAGES:
            raise UserError(f"--lang must be one of {', '.join(LANGUAGES)}, not {self.lang!r}")
        if self.min_n < 1:
            raise UserError(f"--min-n must be at least 1, not {self.min_n}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise UserError(f"unknown time zone {self.timezone!r} (e.g. Asia/Seoul)") from None
        try:
            slack_mention(self.alert_mention)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        return self


@dataclass(frozen=True)
class Preview:
    report: Report
    rendered: RenderedReport

    @property
    def week_label(self) -> str:
        return self.report.week.week_label


@dataclass(frozen=True)
class SendOutcome:
    status: str  # "sent", "already_sent" or "in_progress"
    week_label: str
    destination: str
    slack_ts: str | None = None
    at: dt.datetime | None = None  # when it was sent, or claimed by the other sender
    attempt: int | None = None
    thread_error: str | None = None  # the message went out, its thread reply did not


def build_report(
    config: WarehouseConfig, request: ReportRequest, now: dt.datetime | None = None
) -> Report:
    request = request.validated()
    week = select_week(read_weekly_performance(config), request.week, request.as_of)
    generated_at = (now or dt.datetime.now(dt.timezone.utc)).astimezone(ZoneInfo(request.timezone))
    movers = select_movers(read_segments(config, week.week_start))
    return Report(
        week=week,
        generated_at=generated_at,
        min_n=request.min_n,
        movers=movers,
        quarantine=read_quarantine(config, week),
    )


def preview_report(
    config: WarehouseConfig,
    request: ReportRequest,
    now: dt.datetime | None = None,
    *,
    threaded: bool = True,
) -> Preview:
    """The exact message `send_report` would post for this request, without posting it.

    `threaded`: the destination can reply in a thread (a bot token; a webhook cannot), so
    the biggest movers go there instead of at the end of the message.
    """
    report = build_report(config, request, now)
    rendered = render(
        report,
        request.lang,
        request.dashboard_url,
        mention=slack_mention(request.alert_mention),
        threaded=threaded,
    )
    return Preview(report, rendered)


def send_report(
    config: WarehouseConfig,
    request: ReportRequest,
    destination: Destination | None = None,
    *,
    channel: str | None = None,
    force: bool = False,
    policy: RetryPolicy | None = None,
    now: dt.datetime | None = None,
) -> SendOutcome:
    """Post the report once per (week, destination). Raises DeliveryError when Slack fails.

    Without `destination`, it is built from the environment (SLACK_BOT_TOKEN + channel,
    or SLACK_WEBHOOK_URL).
    """
    destination = destination or destination_from_env(channel, policy)
    preview = preview_report(config, request, now, threaded=destination.supports_threads)
    week_label = preview.week_label
    claimed = ledger.claim(config, week_label, destination.key, force=force)
    if isinstance(claimed, ledger.Taken):
        status = "already_sent" if claimed.status == "sent" else "in_progress"
        return SendOutcome(status, week_label, destination.key, claimed.slack_ts, claimed.at)
    payload_hash = preview.rendered.payload_hash()
    try:
        delivered = destination.post(preview.rendered.text, preview.rendered.blocks)
    except Exception as exc:
        ledger.record(config, claimed, "failed", payload_sha256=payload_hash, error=str(exc))
        if isinstance(exc, DeliveryError):
            raise DeliveryError(
                f"{week_label} to {destination.key} failed, recorded for the next run: {exc}"
            ) from exc
        raise
    ledger.record(config, claimed, "sent", slack_ts=delivered.ts, payload_sha256=payload_hash)
    thread_error = None
    thread = preview.rendered.thread
    if thread is not None and delivered.ts:
        # The report itself is posted and recorded: a failed reply must not post it again.
        try:
            destination.post(thread.text, thread.blocks, thread_ts=delivered.ts)
        except DeliveryError as exc:
            thread_error = str(exc)
    return SendOutcome(
        "sent",
        week_label,
        destination.key,
        delivered.ts,
        claimed.claimed_at,
        claimed.attempt,
        thread_error,
    )


def notify_pipeline_failure(destination: Destination, reason: str, lang: str = "ko") -> None:
    """The short notice posted instead of a report; not in the ledger (nothing to dedupe)."""
    notice = render_pipeline_failure(reason, lang)
    destination.post(notice.text, notice.blocks)
