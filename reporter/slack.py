"""Delivery to Slack, and nothing else: a bot token (chat.postMessage) or an incoming webhook.

Secrets come only from the environment and never appear in a message, a log line or an
exception. Retries use slack_sdk's own handlers (rate limits with Retry-After, 5xx,
connection errors), each bounded by one total time budget per message. A read timeout is
not retried: Slack may have posted the message, and posting twice is worse than once late.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import WebClient
from slack_sdk.webhook import WebhookClient

from reporter.errors import DeliveryError, UserError

DEFAULT_API_URL = "https://slack.com/api/"

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
    "missing_scope": "the bot token lacks the chat:write scope",
    "invalid_blocks": "Slack rejected the message blocks (a bug in the reporter: please report it)",
    "invalid_token": "the webhook URL is not valid any more (check SLACK_WEBHOOK_URL)",
    "no_service": "the webhook URL is not valid any more (check SLACK_WEBHOOK_URL)",
    "no_active_hooks": "the webhook is disabled (check SLACK_WEBHOOK_URL)",
    "action_prohibited": "a workspace admin blocks posting through this webhook",
}


class SlackDeliveryError(DeliveryError):
    """Slack did not take the message. `permanent`: retrying the same request cannot help."""

    def __init__(self, message: str, code: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent


@dataclass(frozen=True)
class RetryPolicy:
    """How long one message may take, retries included."""

    timeout_s: float = 10.0  # per HTTP request
    max_total_s: float = 120.0  # for the whole message, every retry included
    max_retries: int = 3
    backoff_s: float = 0.5  # first back-off for 5xx and connection errors; doubles each time


class _BudgetedRetry:
    """Mix-in: retry only while the next wait and attempt still end within the time budget.

    slack_sdk makes one RetryState per API call, so the deadline lives in it.
    """

    policy: RetryPolicy

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
        if state.custom_values is None:
            state.custom_values = {}
        # The first attempt (at most one timeout) has already happened when we get here.
        deadline = state.custom_values.setdefault(
            "deadline", time.monotonic() + self.policy.max_total_s - self.policy.timeout_s
        )
        wait = self.longest_wait(state, response)
        return time.monotonic() + wait + self.policy.timeout_s <= deadline

    def longest_wait(self, state: RetryState, response: HttpResponse | None) -> float:
        raise NotImplementedError


class _RateLimitRetry(_BudgetedRetry, RateLimitErrorRetryHandler):
    def __init__(self, policy: RetryPolicy) -> None:
        super().__init__(max_retry_count=policy.max_retries)
        self.policy = policy

    def longest_wait(self, state: RetryState, response: HttpResponse | None) -> float:
        return retry_after_s(response) + 1.0  # slack_sdk adds up to 1 s of jitter


class _ProportionalJitter(Jitter):
    """Up to twice the back-off (slack_sdk's default adds up to a whole second)."""

    def recalculate(self, duration: float) -> float:
        return duration * (1 + random.random())


class _BackoffRetry(_BudgetedRetry):
    def longest_wait(self, state: RetryState, response: HttpResponse | None) -> float:
        return 2 * self.policy.backoff_s * 2**state.current_attempt


def _backoff(policy: RetryPolicy) -> BackoffRetryIntervalCalculator:
    return BackoffRetryIntervalCalculator(
        backoff_factor=policy.backoff_s, jitter=_ProportionalJitter()
    )


class _ServerErrorRetry(_BackoffRetry, ServerErrorRetryHandler):
    def __init__(self, policy: RetryPolicy) -> None:
        super().__init__(
            max_retry_count=policy.max_retries,
            interval_calculator=_backoff(policy),
        )
        self.policy = policy


class _ConnectionErrorRetry(_BackoffRetry, ConnectionErrorRetryHandler):
    def __init__(self, policy: RetryPolicy) -> None:
        super().__init__(
            max_retry_count=policy.max_retries,
            interval_calculator=_backoff(policy),
        )
        self.policy = policy


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


def retry_handlers(policy: RetryPolicy) -> list[RetryHandler]:
    return [_RateLimitRetry(policy), _ServerErrorRetry(policy), _ConnectionErrorRetry(policy)]


def _quiet_logger() -> logging.Logger:
    # slack_sdk logs failed requests at ERROR level; the reporter prints one line instead.
    logger = logging.getLogger("reporter.slack_sdk")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
        logger.propagate = False
    return logger


def make_web_client(token: str, base_url: str | None, policy: RetryPolicy) -> WebClient:
    base = base_url or DEFAULT_API_URL
    return WebClient(
        token=token,
        base_url=base if base.endswith("/") else base + "/",
        timeout=policy.timeout_s,  # type: ignore[arg-type]
        retry_handlers=retry_handlers(policy),
        logger=_quiet_logger(),
    )


def make_webhook_client(url: str, policy: RetryPolicy) -> WebhookClient:
    return WebhookClient(
        url=url,
        timeout=policy.timeout_s,  # type: ignore[arg-type]
        retry_handlers=retry_handlers(policy),
        logger=_quiet_logger(),
    )


@dataclass(frozen=True)
class Delivered:
    ts: str | None  # the message ts (a webhook returns none)


class Destination(Protocol):
    """Where a message goes. `key` names it in the ledger and in messages: never a secret."""

    key: str
    supports_threads: bool  # can post a reply under a message's ts

    def post(
        self, text: str, blocks: list[dict[str, Any]] | None, thread_ts: str | None = None
    ) -> Delivered: ...


def _explain(code: str, channel: str) -> tuple[str, bool]:
    if code in PERMANENT_ERRORS:
        return PERMANENT_ERRORS[code].format(channel=channel), True
    return code, False


def _transport_error(exc: Exception, secrets: tuple[str, ...]) -> SlackDeliveryError:
    """A timeout or connection error, as one line with no secret in it."""
    if isinstance(exc, TimeoutError) or "timed out" in str(exc):
        return SlackDeliveryError(
            "Slack did not answer in time; the message may or may not have been posted "
            "(it is recorded as failed and the next run sends it)",
            "timeout",
        )
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return SlackDeliveryError(f"cannot reach Slack: {message}", "connection_error")


class BotDestination:
    """chat.postMessage to one channel with a bot token (the WebClient is passed in)."""

    supports_threads = True

    def __init__(self, client: WebClient, channel: str) -> None:
        self.client = client
        self.channel = channel
        self.key = channel

    def post(
        self, text: str, blocks: list[dict[str, Any]] | None, thread_ts: str | None = None
    ) -> Delivered:
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            response = self.client.chat_postMessage(
                channel=self.channel, text=text, blocks=blocks, thread_ts=thread_ts
            )
        except SlackApiError as exc:
            status = exc.response.status_code
            code = str(exc.response.get("error") or f"http_{status}") if exc.response else "unknown"
            if status == 429:
                retry_after = exc.response.headers.get("Retry-After") or exc.response.headers.get(
                    "retry-after"
                )
                raise SlackDeliveryError(
                    f"Slack rate-limited the message (Retry-After {retry_after}s) "
                    "beyond the retry budget",
                    "ratelimited",
                ) from None
            explanation, permanent = _explain(code, self.channel)
            raise SlackDeliveryError(
                f"Slack rejected the message: {code}"
                + (f": {explanation}" if explanation != code else ""),
                code,
                permanent,
            ) from None
        except SlackClientError as exc:
            raise SlackDeliveryError(f"Slack client error: {exc}", "client_error") from None
        except (OSError, http.client.HTTPException) as exc:
            raise _transport_error(exc, (self.client.token or "",)) from None
        return Delivered(ts=response.get("ts"))


class WebhookDestination:
    """An incoming webhook: its channel is fixed by Slack, and it returns no ts (no threads)."""

    supports_threads = False

    def __init__(self, client: WebhookClient) -> None:
        self.client = client
        # The URL is a secret: the ledger and messages name it by a short hash.
        self.key = "webhook:" + hashlib.sha256(client.url.encode()).hexdigest()[:12]

    def post(
        self, text: str, blocks: list[dict[str, Any]] | None, thread_ts: str | None = None
    ) -> Delivered:
        if thread_ts is not None:
            raise ValueError("an incoming webhook cannot reply in a thread")
        try:
            response = self.client.send(text=text, blocks=blocks)
        except (OSError, http.client.HTTPException) as exc:
            raise _transport_error(exc, (self.client.url,)) from None
        if response.status_code == 200 and response.body == "ok":
            return Delivered(ts=None)
        body = (response.body or "").strip()
        code = (
            body if body and len(body) < 64 and " " not in body else f"http_{response.status_code}"
        )
        if response.status_code == 429:
            raise SlackDeliveryError(
                "Slack rate-limited the message beyond the retry budget", "ratelimited"
            )
        explanation, permanent = _explain(code, self.key)
        raise SlackDeliveryError(
            f"Slack rejected the webhook message (HTTP {response.status_code}): {code}"
            + (f": {explanation}" if explanation != code else ""),
            code,
            permanent or response.status_code in (400, 403, 404, 410),
        )


def destination_from_env(
    channel: str | None,
    policy: RetryPolicy | None = None,
    env: Mapping[str, str] | None = None,
) -> Destination:
    """SLACK_BOT_TOKEN (+ channel, SLACK_API_URL) or else SLACK_WEBHOOK_URL."""
    env = os.environ if env is None else env
    policy = policy or RetryPolicy()
    token = env.get("SLACK_BOT_TOKEN", "").strip()
    webhook = env.get("SLACK_WEBHOOK_URL", "").strip()
    if token:
        channel = channel or env.get("SLACK_CHANNEL", "").strip() or None
        if not channel:
            raise UserError(
                "SLACK_BOT_TOKEN is set but no channel: pass --channel or set SLACK_CHANNEL"
            )
        client = make_web_client(token, env.get("SLACK_API_URL", "").strip() or None, policy)
        return BotDestination(client, channel)
    if webhook:
        if not webhook.startswith(("https://", "http://")):
            raise UserError("SLACK_WEBHOOK_URL must be an http(s) URL")
        return WebhookDestination(make_webhook_client(webhook, policy))
    raise UserError(
        "no Slack credentials: set SLACK_WEBHOOK_URL (an incoming webhook), "
        "or SLACK_BOT_TOKEN and SLACK_CHANNEL"
    )
