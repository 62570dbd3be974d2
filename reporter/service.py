"""The report's orchestration, shared by the CLI and the dashboard.

    preview_report(config, ReportRequest(week="2026-W01"))  → the exact text and blocks
    send_report(config, request, channel="#ai-reports")      → posted once, through the ledger

Reads come from the marts (reporter.reads), the week and flags from reporter.report, the
wording from reporter.render, delivery from reporter.slack, exactly-once from reporter.ledger.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reporter import ledger
from reporter.errors import DeliveryError, OutcomeUnknown, UserError
from reporter.reads import (
    read_agreement,
    read_quarantine,
    read_segments,
    read_versions,
    read_weekly_performance,
)
from reporter.redact import one_line
from reporter.render import (
    LANGUAGES,
    RenderedReport,
    render,
    render_pipeline_failure,
    slack_mention,
)
from reporter.report import (
    Report,
    previous_week,
    select_movers,
    select_week,
    version_differences,
)
from reporter.settings import min_n
from reporter.slack import (
    Destination,
    RetryPolicy,
    SlackDeliveryError,
    Tag,
    destination_from_env,
)
from reporter.warehouse import WarehouseConfig

DEFAULT_TIMEZONE = "Asia/Seoul"  # the team's; only for the "generated at" line


@dataclass(frozen=True)
class ReportRequest:
    """What to report and how: the CLI's options, also usable from the dashboard."""

    week: str | None = None  # "2026-W01"; default: the latest complete week
    as_of: dt.date | None = None  # with no week: the latest week that ended before this date
    lang: str = "ko"
    dashboard_url: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    # Who to mention when a regression is significant: U123, S123 (a group), here, channel.
    alert_mention: str | None = None
    # The --vars of the build this report follows (`reporter run`): var min_n is shown.
    dbt_vars: dict[str, Any] | None = None

    def validated(self) -> ReportRequest:
        if self.lang not in LANGUAGES:
            raise UserError(f"--lang must be one of {', '.join(LANGUAGES)}, not {self.lang!r}")
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

    @property
    def summary(self) -> str:
        """What happened, in one line: the words of `reporter send` and the dashboard."""
        where = f"{self.week_label} to {self.destination}"
        if self.status == "sent":
            return f"sent {where}"
        if self.status == "already_sent":
            when = f" at {self.at:%Y-%m-%d %H:%M} UTC" if self.at else ""
            return f"{where} was already sent{when}; nothing was posted again"
        return f"{where} is being sent by another run right now; nothing was posted"

    @property
    def warning(self) -> str | None:
        """What went wrong although the report was sent."""
        if self.thread_error:
            return f"the biggest-movers thread reply failed: {self.thread_error}"
        return None


def build_report(
    config: WarehouseConfig, request: ReportRequest, now: dt.datetime | None = None
) -> Report:
    request = request.validated()
    weeks = read_weekly_performance(config)
    week = select_week(weeks, request.week, request.as_of)
    generated_at = (now or dt.datetime.now(dt.timezone.utc)).astimezone(ZoneInfo(request.timezone))
    movers = select_movers(read_segments(config, week.week_start))
    return Report(
        week=week,
        generated_at=generated_at,
        previous=previous_week(weeks, week),
        min_n=min_n(request.dbt_vars),
        movers=movers,
        quarantine=read_quarantine(config, week),
        versions=version_differences(read_versions(config, week.week_start)),
        agreement=read_agreement(config, week.week_start),
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
    """Post the report once per (week, destination), its thread reply once too.

    Raises DeliveryError when Slack fails (the next run retries), OutcomeUnknown when a
    webhook's post may or may not have landed (no run posts it again without --force).
    Without `destination`, it is built from the environment (SLACK_BOT_TOKEN + channel,
    or SLACK_WEBHOOK_URL). `--max-send-seconds` starts here and bounds every Slack call.
    """
    destination = destination or destination_from_env(channel, policy)
    destination.budget.restart()
    preview = preview_report(config, request, now, threaded=destination.supports_threads)
    week_label = preview.week_label
    claimed = ledger.claim(
        config, week_label, destination.key, force=force, can_read_back=destination.can_read_back
    )
    if isinstance(claimed, ledger.Taken):
        if claimed.status == "unknown":
            raise OutcomeUnknown(
                f"{week_label} to {destination.key}: an earlier post may or may not have "
                "reached Slack, and a webhook cannot be read back, so it is not posted again. "
                "Look in the channel; if the report is missing, run `send --force`"
            )
        status = "already_sent" if claimed.status == "sent" else "in_progress"
        return SendOutcome(status, week_label, destination.key, claimed.slack_ts, claimed.at)
    with ledger.Heartbeat(config, claimed):
        return _Delivery(config, destination, preview, claimed).run()


class _Delivery:
    """One claimed send: the report, then its thread reply, each exactly once."""

    READ_BACK_MARGIN_S = 120.0  # clock skew between this host and Slack

    def __init__(
        self,
        config: WarehouseConfig,
        destination: Destination,
        preview: Preview,
        claimed: ledger.Claim,
    ) -> None:
        self.config = config
        self.destination = destination
        self.rendered = preview.rendered
        self.claim = claimed
        self.where = f"{claimed.week_label} to {destination.key}"
        self.payload_hash = preview.rendered.payload_hash()
        started = claimed.cycle_started_at.replace(tzinfo=dt.timezone.utc).timestamp()
        self.oldest = started - self.READ_BACK_MARGIN_S

    def tag(self, part: str) -> Tag:
        return Tag(
            self.claim.key, part, self.claim.week_label, self.destination.key, self.payload_hash
        )

    def record(self, status: str, **fields: object) -> None:
        ledger.record(self.config, self.claim, status, payload_sha256=self.payload_hash, **fields)  # type: ignore[arg-type]

    def outcome(self, ts: str | None, thread_error: str | None = None) -> SendOutcome:
        return SendOutcome(
            "sent",
            self.claim.week_label,
            self.destination.key,
            ts,
            self.claim.claimed_at,
            self.claim.attempt,
            thread_error,
        )

    def find(self, part: str, thread_ts: str | None = None) -> str | None:
        """Read the channel back for this cycle's message; unresolved → `unknown`, raised."""
        try:
            return self.destination.find(self.tag(part), self.oldest, thread_ts=thread_ts)
        except DeliveryError as exc:
            self.record("unknown", slack_ts=thread_ts, error=str(exc))
            raise DeliveryError(
                f"{self.where}: cannot read the channel back to see whether an earlier "
                f"{'thread reply' if thread_ts else 'post'} landed ({exc}); nothing was "
                "posted, the next run tries again"
            ) from None

    def post(self, part: str, rendered: RenderedReport, thread_ts: str | None = None):
        """Post one part; an unknown outcome is read back once, never re-posted."""
        if thread_ts is None:
            try:
                ledger.mark_posting(self.config, self.claim)
            except Exception as exc:
                raise DeliveryError(
                    f"{self.where}: the ledger could not be written ({one_line(exc, 200)}); "
                    "nothing was posted"
                ) from None
        else:  # the report is in Slack: this write is what records it
            self.after_post(
                lambda: ledger.mark_posting(self.config, self.claim, slack_ts=thread_ts),
                thread_ts,
            )
        try:
            delivered = self.destination.post(
                rendered.text, rendered.blocks, thread_ts=thread_ts, tag=self.tag(part)
            )
            return delivered.ts, None
        except SlackDeliveryError as exc:
            if not exc.unknown:
                return None, exc
            if self.destination.can_read_back and self.destination.budget.remaining() > 0:
                try:
                    found = self.destination.find(self.tag(part), self.oldest, thread_ts=thread_ts)
                except DeliveryError:
                    found = None
                if found:
                    return found, None
            return None, exc
        except BaseException:
            # Ctrl-C or a kill signal mid-request: nobody knows whether Slack took it.
            self.record("unknown", slack_ts=thread_ts, error="interrupted during the post")
            raise

    def run(self) -> SendOutcome:
        ts = self.claim.slack_ts
        if ts is None:
            found = self.find("report") if self.claim.check else None
            if found:
                ts = found
            else:
                ts, error = self.post("report", self.rendered)
                if error is not None:
                    self.fail(error, thread_ts=None)
        elif self.claim.check:
            # The report is in Slack; the thread reply's outcome was unknown.
            found = self.find("thread", thread_ts=ts)
            if found:
                self.record("sent", slack_ts=ts, thread_ts=found)
                return self.outcome(ts)
        thread = self.rendered.thread
        if thread is None or not self.destination.supports_threads or not ts:
            self.after_post(lambda: self.record("sent", slack_ts=ts), ts)
            return self.outcome(ts)
        reply_ts, error = self.post("thread", thread, thread_ts=ts)
        if error is None:
            self.after_post(lambda: self.record("sent", slack_ts=ts, thread_ts=reply_ts), ts)
            return self.outcome(ts)
        status = "unknown" if getattr(error, "unknown", False) else "posted"
        self.after_post(lambda: self.record(status, slack_ts=ts, error=str(error)), ts)
        return self.outcome(ts, f"{error} (the next `send` posts the reply once)")

    def after_post(self, write, ts: str | None) -> None:
        """A ledger write after Slack took a message: on failure, the next run reads back."""
        try:
            write()
        except Exception as exc:
            raise DeliveryError(
                f"{self.where} was posted"
                + (f" (ts {ts})" if ts else "")
                + f" but the ledger could not record it ({one_line(exc, 200)}); "
                + (
                    "the next run reads the channel back and records it"
                    if self.destination.can_read_back
                    else "the next run will not post it again"
                )
            ) from None

    def fail(self, error: SlackDeliveryError, thread_ts: str | None) -> None:
        if error.unknown:
            self.record("unknown", slack_ts=thread_ts, error=str(error))
            if self.destination.can_read_back:
                raise DeliveryError(
                    f"{self.where}: {error}; recorded as unknown: the next run reads the "
                    "channel back and posts only if it is missing"
                ) from None
            raise OutcomeUnknown(
                f"{self.where}: {error}. A webhook cannot be read back, so no run posts it "
                "again: look in the channel, and if the report is missing run `send --force`"
            ) from None
        self.record("failed", error=str(error))
        raise DeliveryError(f"{self.where} failed, recorded for the next run: {error}") from None


def notify_pipeline_failure(destination: Destination, reason: str, lang: str = "ko") -> None:
    """The short notice posted instead of a report; not in the ledger (nothing to dedupe)."""
    notice = render_pipeline_failure(reason, lang)
    destination.budget.restart()
    destination.post(notice.text, notice.blocks)
