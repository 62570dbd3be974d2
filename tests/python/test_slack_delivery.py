"""Delivery with the real slack_sdk clients against the fake Slack on 127.0.0.1."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import fake_slack
import pytest
from fake_slack import (
    TOKEN,
    WEBHOOK_PATH,
    FakeSlack,
    Reply,
    accept_then,
    hang,
    rate_limited,
    server_error,
    slack_error,
)

from reporter.errors import UserError
from reporter.slack import (
    BotDestination,
    RetryPolicy,
    SlackDeliveryError,
    Tag,
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
    assert delivered.ts == message["ts"]


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
    with pytest.raises(SlackDeliveryError, match="did not answer in time") as caught:
        bot(slack, policy).post("fallback", BLOCKS)
    assert caught.value.code == "unknown" and caught.value.unknown
    assert len(slack.requests) == 1 and slack.messages == []


@pytest.mark.parametrize("destination", ["bot", "webhook"])
@pytest.mark.parametrize("drop", ["fin", "rst"])
def test_a_drop_after_slack_accepted_is_unknown_and_never_posted_again(
    slack: FakeSlack, destination: str, drop: str
) -> None:
    slack.push(accept_then(drop), accept_then(drop), accept_then(drop))
    target = bot(slack) if destination == "bot" else webhook(slack)
    with pytest.raises(SlackDeliveryError, match="may or may not have been posted") as caught:
        target.post("fallback", BLOCKS)
    assert caught.value.unknown and not caught.value.permanent
    # slack_sdk's connection-error retry would have posted a second copy here.
    assert len(slack.requests) == 1 and len(slack.messages) == 1


@pytest.mark.timeout(60)
@pytest.mark.parametrize("destination", ["bot", "webhook"])
def test_a_trickled_answer_is_cut_at_the_wall_clock_deadline(
    slack: FakeSlack, destination: str
) -> None:
    # One byte every 0.5 s never trips a socket timeout; the answer takes a minute or more.
    slack.push(accept_then("trickle", trickle_s=0.5))
    policy = RetryPolicy(timeout_s=2.0, max_total_s=2.0, max_retries=3, backoff_s=0.01)
    target = bot(slack, policy) if destination == "bot" else webhook(slack, policy)
    with pytest.raises(SlackDeliveryError, match="max-send-seconds") as caught:
        target.post("fallback", BLOCKS)
    assert caught.value.unknown
    assert len(slack.requests) == 1 and len(slack.messages) == 1


def test_a_tagged_message_is_found_by_reading_the_channel_back(slack: FakeSlack) -> None:
    slack.add_channel("#ai-reports")
    tag = Tag("2026-W01/abc", "report", "2026-W01", "#ai-reports", "0" * 64)
    started = time.time() - 1
    destination = bot(slack)
    posted = destination.post("fallback", BLOCKS, tag=tag)
    assert slack.messages[0]["metadata"]["event_payload"]["key"] == "2026-W01/abc"
    assert destination.find(tag, started) == posted.ts
    other_cycle = Tag("2026-W01/def", "report", "2026-W01", "#ai-reports", "0" * 64)
    assert destination.find(other_cycle, started) is None
    assert destination.find(tag, time.time() + 60) is None  # bounded to the claim's time
    reply_tag = Tag("2026-W01/abc", "thread", "2026-W01", "#ai-reports", "0" * 64)
    assert destination.find(reply_tag, started, thread_ts=posted.ts) is None
    reply = destination.post("movers", BLOCKS, thread_ts=posted.ts, tag=reply_tag)
    assert destination.find(reply_tag, started, thread_ts=posted.ts) == reply.ts
    # A new run knows only the #name: it resolves the channel's ID first.
    assert "conversations.list" not in slack.reads
    assert bot(slack).find(tag, started) == posted.ts
    assert "conversations.list" in slack.reads


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


def test_a_slack_error_body_is_never_echoed(slack: FakeSlack) -> None:
    # A proxy or Slack answering with the request path must not print the webhook's secret.
    slack.push(Reply("error", error=f"no such hook {WEBHOOK_PATH}"))
    with pytest.raises(SlackDeliveryError) as caught:
        webhook(slack).post("fallback", BLOCKS)
    assert "fake-webhook-secret" not in str(caught.value) and "http_403" in str(caught.value)


@pytest.mark.parametrize(
    ("env", "name"),
    [
        (
            {"SLACK_BOT_TOKEN": TOKEN + "\nsecond-line-of-it", "SLACK_CHANNEL": "#x"},
            "SLACK_BOT_TOKEN",
        ),
        ({"SLACK_BOT_TOKEN": "fake-tok en-12345", "SLACK_CHANNEL": "#x"}, "SLACK_BOT_TOKEN"),
        (
            {"SLACK_WEBHOOK_URL": "https://hooks.example/services/T/B/sec ret-path"},
            "SLACK_WEBHOOK_URL",
        ),
        (
            {"SLACK_WEBHOOK_URL": "https://hooks.example/services/T/B/secret\x07"},
            "SLACK_WEBHOOK_URL",
        ),
    ],
)
def test_credentials_with_whitespace_or_control_characters_are_refused(
    env: dict, name: str
) -> None:
    with pytest.raises(UserError, match=name) as caught:
        destination_from_env(None, FAST, env)
    message = str(caught.value)
    assert "\n" not in message
    for fragment in ("second-line-of-it", "tok en", "ret-path", "fake-bot-token", "secret"):
        assert fragment not in message


def test_a_bad_api_url_is_one_line_not_a_traceback() -> None:
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_CHANNEL": "#x", "SLACK_API_URL": "notaurl"}
    with pytest.raises(UserError, match="SLACK_API_URL must be an http"):
        destination_from_env(None, FAST, env)
