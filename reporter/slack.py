"""Delivery to Slack, and nothing else: a bot token (chat.postMessage) or an incoming webhook.

Secrets come only from the environment, are checked before use (no whitespace or control
characters) and are registered with reporter.redact, so no message, log line, exception or
ledger column shows them. Slack's own error bodies are never echoed: only a well-formed
error code is kept.

Posting is not idempotent, so a post is never retried blindly:
- a 429 or a 500/503 answer means Slack did not take the message: retried (bounded);
- a connection that was refused, or a host name that did not resolve: the request never
  left, so it is retried too;
- anything after the request was sent (a dropped connection, a timeout, an unreadable
  answer, the wall-clock deadline) leaves the outcome *unknown*: `SlackDeliveryError.unknown`
  is set and the caller decides (a bot token reads the channel back; a webhook cannot).

Every call of one send shares one wall-clock deadline (`Budget`), slow bodies included.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.error import URLError
from urllib.parse import urlsplit

from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import WebClient
from slack_sdk.webhook import WebhookClient

from reporter.errors import DeliveryError, UserError
from reporter.redact import one_line, register

DEFAULT_API_URL = "https://slack.com/api/"
# Our message metadata type: each report carries its idempotency key in it.
EVENT_TYPE = "ai_perf_report"
_ERROR_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f]")

# Errors that no retry can fix, with what the user should do about each.
PERMANENT_ERRORS = {
    "invalid_auth": "the bot token is not valid (check SLACK_BOT_TOKEN)",
    "not_authed": "no bot token reached Slack (check SLACK_BOT_TOKEN)",
    "token_revoked": "the bot token was revoked (check SLACK_BOT_TOKEN)",
    "account_inactive": "the bot token belongs to a deactivated app (check SLACK_BOT_TOKEN)",
    "channel_not_found": (
        "channel {channel} does not exist or the bot cannot see it "
        "(check --channel / SLACK_CHANNEL; invite the bot to a private channel)"
    ),
    "not_in_channel": "the bot is not a member of {channel}: invite it with /invite @your-bot",
    "is_archived": "channel {channel} is archived",
    "missing_scope": (
        "the bot token lacks a scope: chat:write to post, channels:history and "
        "channels:read (groups:* for a private channel) to read the channel back"
    ),
    "invalid_blocks": "Slack rejected the message blocks (a bug in the reporter: please report it)",
    "invalid_metadata_format": "Slack rejected the message metadata (a bug in the reporter)",
    "invalid_token": "the webhook URL is not valid any more (check SLACK_WEBHOOK_URL)",
    "no_service": "the webhook URL is not valid any more (check SLACK_WEBHOOK_URL)",
    "no_active_hooks": "the webhook is disabled (check SLACK_WEBHOOK_URL)",
    "action_prohibited": "a workspace admin blocks posting through this webhook",
}


class SlackDeliveryError(DeliveryError):
    """Slack did not take the message, or nobody knows whether it did.

    `permanent`: retrying the same request cannot help. `unknown`: the request was sent and
    no answer says whether Slack posted it; it must not be posted again blindly.
    """

    def __init__(
        self, message: str, code: str, permanent: bool = False, unknown: bool = False
    ) -> None:
        super().__init__(one_line(message))
        self.code = code
        self.permanent = permanent
        self.unknown = unknown


@dataclass(frozen=True)
class RetryPolicy:
    """How long one send may take, retries included."""

    timeout_s: float = 10.0  # per HTTP request
    max_total_s: float = 120.0  # wall clock for the whole send: every call and retry
    max_retries: int = 3
    backoff_s: float = 0.5  # first back-off for 5xx and refused connections; doubles


@dataclass
class Budget:
    """The wall-clock deadline shared by every Slack call of one send."""

    policy: RetryPolicy
    deadline: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        self.deadline = time.monotonic() + self.policy.max_total_s

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


class _BudgetedRetry:
    """Mix-in: retry only while the wait and one more request still end before the deadline."""

    policy: RetryPolicy
    budget: Budget

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not super().can_retry(  # type: ignore[misc]
            state=state, request=request, response=response, error=error
        ):
            return False
        wait = self.longest_wait(state, response)
        return wait + min(self.policy.timeout_s, 1.0) <= self.budget.remaining()

    def longest_wait(self, state: RetryState, response: HttpResponse | None) -> float:
        raise NotImplementedError


class _RateLimitRetry(_BudgetedRetry, RateLimitErrorRetryHandler):
    def __init__(self, policy: RetryPolicy, budget: Budget) -> None:
        super().__init__(max_retry_count=policy.max_retries)
        self.policy = policy
        self.budget = budget

    def longest_wait(self, state: RetryState, response: HttpResponse | None) -> float:
        return retry_after_s(response) + 1.0  # slack_sdk adds up to 1 s of jitter


class _ProportionalJitter(Jitter):
    """Up to twice the back-off (slack_sdk's default adds up to a whole second)."""

    def recalculate(self, duration: float) -> float:
        return duration * (1 + random.random())


class _BackoffRetry(_BudgetedRetry):
    def longest_wait(self, state: RetryState, response: HttpResponse | None) -> float:
        return 2 * self.policy.backoff_s * 2**state.current_attempt


def _backoff(policy: RetryPolicy) -> RetryIntervalCalculator:
    return BackoffRetryIntervalCalculator(
        backoff_factor=policy.backoff_s, jitter=_ProportionalJitter()
    )


class _ServerErrorRetry(_BackoffRetry, ServerErrorRetryHandler):
    def __init__(self, policy: RetryPolicy, budget: Budget) -> None:
        super().__init__(max_retry_count=policy.max_retries, interval_calculator=_backoff(policy))
        self.policy = policy
        self.budget = budget


def never_sent(error: BaseException | None) -> bool:
    """The request never reached a server: refused, or the host name did not resolve."""
    reason = error.reason if isinstance(error, URLError) else error
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)


class _NotSentRetry(_BackoffRetry, RetryHandler):
    """Replaces slack_sdk's connection-error retry, which also re-sends after a drop."""

    def __init__(self, policy: RetryPolicy, budget: Budget) -> None:
        super().__init__(max_retry_count=policy.max_retries, interval_calculator=_backoff(policy))
        self.policy = policy
        self.budget = budget

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is None and never_sent(error)


def retry_after_s(response: HttpResponse | None) -> float:
    if response is None:
        return 0.0
    for name, values in response.headers.items():
        if name.lower() == "retry-after":
            value = values[0] if isinstance(values, list) else values
            try:
                return float(value)
            except (TypeError, ValueError):
                return 1.0
    return 1.0


def retry_handlers(policy: RetryPolicy, budget: Budget) -> list[RetryHandler]:
    return [
        _RateLimitRetry(policy, budget),
        _ServerErrorRetry(policy, budget),
        _NotSentRetry(policy, budget),
    ]


def _quiet_logger() -> logging.Logger:
    # slack_sdk logs failed requests (with their URL) at ERROR level; we print one line.
    logger = logging.getLogger("reporter.slack_sdk")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
        logger.propagate = False
    return logger


def check_secret(name: str, value: str) -> str:
    """Refuse a credential with whitespace or control characters, naming only the variable."""
    if _UNSAFE.search(value):
        raise UserError(
            f"{name} contains whitespace or a control character (a stray line break or space "
            "from copying it?): set it again without them"
        )
    register(value)
    return value


def check_url(name: str, value: str) -> str:
    """An http(s) URL with a host, or a one-line UserError naming the variable."""
    try:
        split = urlsplit(value)
        valid = split.scheme in ("http", "https") and bool(split.hostname)
        split.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        valid = False
    if not valid:
        raise UserError(f"{name} must be an http(s) URL such as https://slack.com/api/")
    return value


def make_web_client(
    token: str, base_url: str | None, policy: RetryPolicy, budget: Budget | None = None
) -> WebClient:
    register(token)
    base = base_url or DEFAULT_API_URL
    return WebClient(
        token=token,
        base_url=base if base.endswith("/") else base + "/",
        timeout=policy.timeout_s,  # type: ignore[arg-type]
        retry_handlers=retry_handlers(policy, budget or Budget(policy)),
        logger=_quiet_logger(),
    )


def make_webhook_client(
    url: str, policy: RetryPolicy, budget: Budget | None = None
) -> WebhookClient:
    register(url)
    return WebhookClient(
        url=url,
        timeout=policy.timeout_s,  # type: ignore[arg-type]
        retry_handlers=retry_handlers(policy, budget or Budget(policy)),
        logger=_quiet_logger(),
    )


def _budget_of(client: WebClient | WebhookClient, policy: RetryPolicy) -> Budget:
    for handler in client.retry_handlers or []:
        if isinstance(handler, _BudgetedRetry):
            return handler.budget
    return Budget(policy)


@dataclass(frozen=True)
class Delivered:
    ts: str | None  # the message ts (a webhook returns none)


@dataclass(frozen=True)
class Tag:
    """The idempotency key a message carries in its Slack metadata."""

    key: str  # unique per (week, destination, delivery cycle)
    part: str  # "report" or "thread"
    week_label: str
    destination: str
    payload_sha256: str

    def metadata(self) -> dict[str, Any]:
        return {
            "event_type": EVENT_TYPE,
            "event_payload": {
                "key": self.key,
                "part": self.part,
                "week": self.week_label,
                "channel": self.destination,
                "payload_sha256": self.payload_sha256,
            },
        }

    def matches(self, message: Mapping[str, Any]) -> bool:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        return (
            metadata.get("event_type") == EVENT_TYPE
            and payload.get("key") == self.key
            and payload.get("part") == self.part
        )


class Destination(Protocol):
    """Where a message goes. `key` names it in the ledger and in messages: never a secret."""

    key: str
    supports_threads: bool  # can post a reply under a message's ts
    can_read_back: bool  # can find a message by its Tag (resolves an unknown outcome)
    budget: Budget

    def post(
        self,
        text: str,
        blocks: list[dict[str, Any]] | None,
        thread_ts: str | None = None,
        tag: Tag | None = None,
    ) -> Delivered: ...

    def find(self, tag: Tag, oldest: float, thread_ts: str | None = None) -> str | None: ...


T = TypeVar("T")


class _DeadlinePassed(Exception):
    pass


def _within(budget: Budget, call: Callable[[], T]) -> T:
    """Run `call` in a helper thread and stop waiting for it at the deadline.

    A socket timeout bounds each read, not a body trickled byte by byte: only a wall
    clock bounds the whole send. An abandoned call ends with the process.
    """
    remaining = budget.remaining()
    if remaining <= 0:
        raise _DeadlinePassed
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=run, name="slack-call", daemon=True)
    worker.start()
    worker.join(remaining)
    if worker.is_alive():
        raise _DeadlinePassed
    if "error" in box:
        raise box["error"]
    return box["value"]


def _explain(code: str, channel: str) -> tuple[str, bool]:
    if code in PERMANENT_ERRORS:
        return PERMANENT_ERRORS[code].format(channel=channel), True
    return code, False


def safe_code(value: object, fallback: str) -> str:
    """Slack's error code if it looks like one (invalid_auth); never a raw body."""
    text = str(value or "").strip()
    return text if _ERROR_CODE.match(text) else fallback


def _unknown(exc: BaseException | None, what: str, max_total_s: float) -> SlackDeliveryError:
    if exc is None:
        reason = f"no complete answer within --max-send-seconds ({max_total_s:g}s)"
    elif isinstance(exc, TimeoutError) or "timed out" in str(exc):
        reason = "Slack did not answer in time"
    elif isinstance(exc, ConnectionResetError | http.client.RemoteDisconnected):
        reason = "the connection dropped before Slack answered"
    elif isinstance(exc, json.JSONDecodeError | ValueError):
        reason = "Slack's answer could not be read"
    else:
        reason = f"the connection failed after the request was sent ({type(exc).__name__})"
    return SlackDeliveryError(
        f"{reason}; the {what} may or may not have been posted", "unknown", unknown=True
    )


def _not_sent(exc: BaseException) -> SlackDeliveryError:
    reason = exc.reason if isinstance(exc, URLError) else exc
    if isinstance(reason, socket.gaierror):
        detail = "the host name did not resolve"
    elif isinstance(reason, ConnectionRefusedError):
        detail = "the connection was refused"
    else:
        detail = type(reason).__name__
    return SlackDeliveryError(f"cannot reach Slack: {detail}", "connection_error")


def _transport_error(exc: BaseException, what: str, budget: Budget) -> SlackDeliveryError:
    if isinstance(exc, _DeadlinePassed):
        return _unknown(None, what, budget.policy.max_total_s)
    if never_sent(exc):
        return _not_sent(exc)
    return _unknown(exc, what, budget.policy.max_total_s)


class BotDestination:
    """chat.postMessage to one channel with a bot token (the WebClient is passed in)."""

    supports_threads = True
    can_read_back = True

    def __init__(self, client: WebClient, channel: str, policy: RetryPolicy | None = None) -> None:
        self.client = client
        self.channel = channel
        self.key = channel
        # The client's own retry handlers carry the policy and the send's deadline.
        self.budget = _budget_of(client, policy or RetryPolicy())
        self.policy = self.budget.policy
        self._channel_id: str | None = channel if _CHANNEL_ID.match(channel) else None

    def _api(self, what: str, call: Callable[[], T]) -> T:
        from slack_sdk.errors import SlackApiError, SlackClientError

        self.client.timeout = max(0.1, min(self.policy.timeout_s, self.budget.remaining()))
        try:
            return _within(self.budget, call)
        except SlackApiError as exc:
            response = exc.response
            status = response.status_code if response is not None else 0
            if status == 429:
                raise SlackDeliveryError(
                    f"Slack rate-limited the {what} (Retry-After {retry_after_s(response)}s) "  # type: ignore[arg-type]
                    "beyond the --max-send-seconds budget",
                    "ratelimited",
                ) from None
            raw = response.get("error") if response is not None else None
            if not _ERROR_CODE.match(str(raw or "")) and status not in (500, 503):
                # Not Slack's JSON (a proxy page, a cut body): nobody knows what happened.
                raise SlackDeliveryError(
                    f"Slack's answer (HTTP {status}) could not be read; the {what} may or "
                    "may not have been posted",
                    "unknown",
                    unknown=what != "channel read-back",
                ) from None
            code = safe_code(raw, f"http_{status}")
            explanation, permanent = _explain(code, self.channel)
            raise SlackDeliveryError(
                f"Slack rejected the {what}: {code}"
                + (f": {explanation}" if explanation != code else ""),
                code,
                permanent,
            ) from None
        except SlackClientError as exc:
            # e.g. a body that is not JSON: the request was sent, the answer is unreadable.
            raise SlackDeliveryError(
                f"Slack's answer could not be read ({type(exc).__name__}); the {what} may or "
                "may not have been posted",
                "unknown",
                unknown=what != "channel read-back",
            ) from None
        except (_DeadlinePassed, OSError, http.client.HTTPException, ValueError) as exc:
            raise _transport_error(exc, what, self.budget) from None

    def post(
        self,
        text: str,
        blocks: list[dict[str, Any]] | None,
        thread_ts: str | None = None,
        tag: Tag | None = None,
    ) -> Delivered:
        what = "thread reply" if thread_ts else "message"
        response = self._api(
            what,
            lambda: self.client.chat_postMessage(
                channel=self.channel,
                text=text,
                blocks=blocks,
                thread_ts=thread_ts,
                metadata=tag.metadata() if tag else None,
            ),
        )
        if response.get("channel") and not self._channel_id:
            self._channel_id = str(response["channel"])
        return Delivered(ts=response.get("ts"))

    def channel_id(self) -> str:
        """The channel's ID: conversations.history takes IDs, not #names."""
        if self._channel_id:
            return self._channel_id
        name = self.channel.lstrip("#")
        cursor = None
        while True:
            page = self._api(
                "channel read-back",
                lambda cursor=cursor: self.client.conversations_list(
                    types="public_channel,private_channel",
                    exclude_archived=True,
                    limit=1000,
                    cursor=cursor,
                ),
            )
            for channel in page.get("channels") or []:
                if channel.get("name") == name:
                    self._channel_id = str(channel["id"])
                    return self._channel_id
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                raise SlackDeliveryError(
                    f"cannot read the channel back: the bot cannot see {self.channel} "
                    "(set SLACK_CHANNEL to the channel ID, or invite the bot)",
                    "channel_not_found",
                    permanent=True,
                )

    def find(self, tag: Tag, oldest: float, thread_ts: str | None = None) -> str | None:
        """The ts of the message carrying `tag` posted since `oldest`, or None."""
        channel = self.channel_id()
        cursor = None
        while True:
            if thread_ts:
                call = lambda cursor=cursor: self.client.conversations_replies(  # noqa: E731
                    channel=channel,
                    ts=thread_ts,
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            else:
                call = lambda cursor=cursor: self.client.conversations_history(  # noqa: E731
                    channel=channel,
                    oldest=f"{oldest:.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            page = self._api("channel read-back", call)
            for message in page.get("messages") or []:
                if tag.matches(message):
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None


class WebhookDestination:
    """An incoming webhook: its channel is fixed by Slack, it returns no ts (no threads),
    and nothing can be read back through it."""

    supports_threads = False
    can_read_back = False

    def __init__(self, client: WebhookClient, policy: RetryPolicy | None = None) -> None:
        self.client = client
        self.budget = _budget_of(client, policy or RetryPolicy())
        self.policy = self.budget.policy
        # The URL is a secret: the ledger and messages name it by a short hash.
        self.key = "webhook:" + hashlib.sha256(client.url.encode()).hexdigest()[:12]

    def post(
        self,
        text: str,
        blocks: list[dict[str, Any]] | None,
        thread_ts: str | None = None,
        tag: Tag | None = None,
    ) -> Delivered:
        if thread_ts is not None:
            raise ValueError("an incoming webhook cannot reply in a thread")
        self.client.timeout = max(0.1, min(self.policy.timeout_s, self.budget.remaining()))  # type: ignore[assignment]
        try:
            response = _within(self.budget, lambda: self.client.send(text=text, blocks=blocks))
        except (_DeadlinePassed, OSError, http.client.HTTPException, ValueError) as exc:
            raise _transport_error(exc, "message", self.budget) from None
        if response.status_code == 200 and response.body == "ok":
            return Delivered(ts=None)
        if response.status_code == 429:
            raise SlackDeliveryError(
                "Slack rate-limited the message beyond the --max-send-seconds budget",
                "ratelimited",
            )
        code = safe_code(response.body, f"http_{response.status_code}")
        if response.status_code < 400 or (
            response.status_code >= 500 and response.status_code not in (500, 503)
        ):
            # Neither "ok" nor an error Slack sends: nobody knows what happened.
            raise SlackDeliveryError(
                f"the webhook's answer (HTTP {response.status_code}) could not be read; the "
                "message may or may not have been posted",
                "unknown",
                unknown=True,
            )
        explanation, permanent = _explain(code, self.key)
        raise SlackDeliveryError(
            f"Slack rejected the webhook message (HTTP {response.status_code}): {code}"
            + (f": {explanation}" if explanation != code else ""),
            code,
            permanent or response.status_code in (400, 403, 404, 410),
        )

    def find(self, tag: Tag, oldest: float, thread_ts: str | None = None) -> str | None:
        raise NotImplementedError("an incoming webhook cannot be read back")


def _setting(env: Mapping[str, str], name: str) -> str:
    """A variable's value; only whitespace counts as unset, anything else is checked as is."""
    value = env.get(name, "")
    return value if value.strip() else ""


def destination_from_env(
    channel: str | None,
    policy: RetryPolicy | None = None,
    env: Mapping[str, str] | None = None,
) -> Destination:
    """SLACK_BOT_TOKEN (+ channel, SLACK_API_URL) or else SLACK_WEBHOOK_URL."""
    env = os.environ if env is None else env
    policy = policy or RetryPolicy()
    token = _setting(env, "SLACK_BOT_TOKEN")
    webhook = _setting(env, "SLACK_WEBHOOK_URL")
    if token:
        check_secret("SLACK_BOT_TOKEN", token)
        channel = channel or env.get("SLACK_CHANNEL", "").strip() or None
        if not channel:
            raise UserError(
                "SLACK_BOT_TOKEN is set but no channel: pass --channel or set SLACK_CHANNEL"
            )
        if _UNSAFE.search(channel) or len(channel) > 200:
            raise UserError("--channel / SLACK_CHANNEL must be one channel name or ID, no spaces")
        api_url = env.get("SLACK_API_URL", "").strip() or None
        if api_url:
            check_url("SLACK_API_URL", api_url)
        budget = Budget(policy)
        client = make_web_client(token, api_url, policy, budget)
        return BotDestination(client, channel, policy)
    if webhook:
        check_secret("SLACK_WEBHOOK_URL", webhook)
        try:
            check_url("SLACK_WEBHOOK_URL", webhook)
        except UserError:
            raise UserError(
                "SLACK_WEBHOOK_URL must be an http(s) URL (https://hooks.slack.com/services/…)"
            ) from None
        return WebhookDestination(make_webhook_client(webhook, policy, Budget(policy)), policy)
    raise UserError(
        "no Slack credentials: set SLACK_WEBHOOK_URL (an incoming webhook), "
        "or SLACK_BOT_TOKEN and SLACK_CHANNEL"
    )
