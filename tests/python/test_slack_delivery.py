"""Delivery with the real slack_sdk clients against the fake Slack on 127.0.0.1."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import fake_slack
import pytest
from fake_slack import TOKEN, FakeSlack, hang, rate_limited, server_error, slack_error

from reporter.errors import UserError
from reporter.slack import (
    BotDestination,
    RetryPolicy,
    SlackDeliveryError,
    WebhookDestination,
    destination_from_env,
    make_web_client,
    make_webhook_client,
)

# Small waits so the retry tests stay fast; the retry logic is the same as in production.
FAST = RetryPolicy(timeout_s=2.0, max_total_s=10.0, max_retries=3, backoff_s=0.01)
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack.running() as fake:
        yield fake


def bot(fake: FakeSlack, policy: RetryPolicy = FAST, token: str = TOKEN, channel="#ai-reports"):
    return BotDestination(make_web_client(token, fake.api_url, policy), channel)


def webhook(fake: FakeSlack, policy: RetryPolicy = FAST) -> WebhookDestination:
    return WebhookDestination(make_webhook_client(fake.webhook_url, policy))


def test_bot_posts_text_and_blocks_once(slack: FakeSlack) -> None:
    delivered = bot(slack).post("fallback", BLOCKS)
    assert len(slack.messages) == 1 and len(slack.requests) == 1
    message = slack.messages[0]
    assert message["channel"] == "#ai-reports"
    assert message["text"] == "fallback" and message["blocks"] == BLOCKS
    assert delivered.ts == "1767225600.000001"


def test_rate_limit_waits_retry_after_then_delivers(slack: FakeSlack) -> None:
    slack.push(rate_limited(retry_after=1))
    bot(slack).post("fallback", BLOCKS)
    assert [r.reply for r in slack.requests] == ["ratelimited", "ok"]
    assert len(slack.messages) == 1


def test_rate_limit_longer_than_the_budget_gives_up_without_waiting(slack: FakeSlack) -> None:
    slack.push(rate_limited(retry_after=3600))
    started = time.monotonic()
    with pytest.raises(SlackDeliveryError, match="rate-limited") as caught:
        bot(slack).post("fallback", BLOCKS)
    assert time.monotonic() - started < FAST.max_total_s  # did not sleep an hour
    assert caught.value.code == "ratelimited" and not caught.value.permanent
    assert len(slack.requests) == 1 and slack.messages == []


def test_server_error_then_success_delivers_once(slack: FakeSlack) -> None:
    slack.push(server_error())
    bot(slack).post("fallback", BLOCKS)
    assert [r.reply for r in slack.requests] == ["server_error", "ok"]
    assert len(slack.messages) == 1


def test_server_errors_stop_after_max_retries(slack: FakeSlack) -> None:
    slack.push(*[server_error()] * 10)
    with pytest.raises(SlackDeliveryError, match="internal_error"):
        bot(slack).post("fallback", BLOCKS)
    assert len(slack.requests) == 1 + FAST.max_retries
    assert slack.messages == []


@pytest.mark.parametrize(
    ("error", "hint"),
    [
        ("invalid_auth", "SLACK_BOT_TOKEN"),
        ("channel_not_found", "#ai-reports does not exist"),
        ("not_in_channel", "/invite"),
    ],
)
def test_permanent_errors_are_not_retried_and_say_what_to_do(
    slack: FakeSlack, error: str, hint: str
) -> None:
    slack.push(slack_error(error))
    with pytest.raises(SlackDeliveryError) as caught:
        bot(slack).post("fallback", BLOCKS)
    assert caught.value.permanent and caught.value.code == error
    message = str(caught.value)
    assert error in message and hint in message and TOKEN not in message
    assert "\n" not in message
    assert len(slack.requests) == 1 and slack.messages == []


def test_wrong_token_is_invalid_auth_and_never_echoed(slack: FakeSlack) -> None:
    wrong = "fake-wrong-secret-123"
    with pytest.raises(SlackDeliveryError, match="invalid_auth") as caught:
        bot(slack, token=wrong).post("fallback", BLOCKS)
    assert wrong not in str(caught.value)
    assert len(slack.requests) == 1 and slack.messages == []


def test_hanging_server_times_out_and_is_not_retried(slack: FakeSlack) -> None:
    # A read timeout is ambiguous (Slack may have posted): no blind retry.
    slack.push(hang(seconds=5))
    policy = RetryPolicy(timeout_s=0.5, max_total_s=10.0, max_retries=3, backoff_s=0.01)
    started = time.monotonic()
    with pytest.raises(SlackDeliveryError, match="did not answer in time") as caught:
        bot(slack, policy).post("fallback", BLOCKS)
    assert time.monotonic() - started < 4
    assert caught.value.code == "timeout"
    assert len(slack.requests) == 1 and slack.messages == []


def test_connection_refused_is_retried_then_reported_in_one_line() -> None:
    with socket.socket() as probe:  # a port on 127.0.0.1 that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_web_client(TOKEN, f"http://127.0.0.1:{port}/api/", FAST)
    with pytest.raises(SlackDeliveryError, match="cannot reach Slack") as caught:
        BotDestination(client, "#ai-reports").post("fallback", BLOCKS)
    assert "\n" not in str(caught.value) and TOKEN not in str(caught.value)


def test_webhook_posts_once(slack: FakeSlack) -> None:
    destination = webhook(slack)
    assert destination.post("fallback", BLOCKS).ts is None
    assert len(slack.messages) == 1 and slack.messages[0]["blocks"] == BLOCKS
    # The ledger names a webhook by a hash: the URL is a secret.
    assert destination.key.startswith("webhook:") and "fake-webhook-secret" not in destination.key


def test_webhook_retries_server_error_and_rate_limit(slack: FakeSlack) -> None:
    slack.push(server_error(), rate_limited(retry_after=1))
    webhook(slack).post("fallback", BLOCKS)
    assert [r.reply for r in slack.requests] == ["server_error", "ratelimited", "ok"]
    assert len(slack.messages) == 1


def test_webhook_invalid_is_permanent_and_hides_the_url(slack: FakeSlack) -> None:
    slack.push(slack_error("no_service"))
    with pytest.raises(SlackDeliveryError, match="SLACK_WEBHOOK_URL") as caught:
        webhook(slack).post("fallback", BLOCKS)
    assert caught.value.permanent
    assert "fake-webhook-secret" not in str(caught.value)
    assert len(slack.requests) == 1 and slack.messages == []


def test_destination_from_env_prefers_the_bot_token(slack: FakeSlack) -> None:
    env = {**slack.env("#from-env"), **slack.webhook_env()}
    destination = destination_from_env(None, FAST, env)
    assert isinstance(destination, BotDestination) and destination.key == "#from-env"
    assert destination_from_env("#flag", FAST, env).key == "#flag"
    assert isinstance(destination_from_env(None, FAST, slack.webhook_env()), WebhookDestination)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "no Slack credentials"),
        ({"SLACK_BOT_TOKEN": TOKEN}, "no channel"),
        ({"SLACK_WEBHOOK_URL": "hooks.slack.com/x"}, "http"),
    ],
)
def test_missing_configuration_is_a_user_error(env: dict, message: str) -> None:
    with pytest.raises(UserError, match=message) as caught:
        destination_from_env(None, FAST, env)
    assert TOKEN not in str(caught.value)
