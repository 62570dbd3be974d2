"""A small fake Slack: the Web API's chat.postMessage and an incoming webhook, on 127.0.0.1.

The real slack_sdk clients talk to it (WebClient(base_url=...), WebhookClient(url)).
Responses are scripted per request, in order; when the script runs out, every request
succeeds. `messages` holds what the fake accepted (what a channel would show);
`requests` holds everything that arrived, accepted or not.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

API_PATH = "/api/chat.postMessage"
WEBHOOK_PATH = "/services/T000/B000/fake-webhook-secret"
TOKEN = "fake-bot-token-never-print"


@dataclass(frozen=True)
class Reply:
    """One scripted answer: `ok`, `ratelimited`, `server_error`, `hang`, or a Slack error."""

    kind: str = "ok"
    error: str | None = None
    retry_after: int = 1
    hang_s: float = 5.0


OK = Reply()


def rate_limited(retry_after: int = 1) -> Reply:
    return Reply("ratelimited", retry_after=retry_after)


def server_error() -> Reply:
    return Reply("server_error")


def slack_error(error: str) -> Reply:
    return Reply("error", error=error)


def hang(seconds: float = 5.0) -> Reply:
    return Reply("hang", hang_s=seconds)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    reply: str


@dataclass
class FakeSlack:
    script: list[Reply] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    port: int = 0
    _ts: int = 0

    @property
    def reports(self) -> list[dict[str, Any]]:
        """Top-level messages, thread replies left out: what the channel's timeline shows."""
        return [message for message in self.messages if not message.get("thread_ts")]

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}"

    def push(self, *replies: Reply) -> None:
        with self.lock:
            self.script.extend(replies)

    def next_reply(self) -> Reply:
        with self.lock:
            return self.script.pop(0) if self.script else OK

    def accept(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> str:
        with self.lock:
            self._ts += 1
            self.messages.append({"path": path, **body})
            return f"1767225600.{self._ts:06d}"

    def env(self, channel: str = "#ai-reports") -> dict[str, str]:
        """Environment for the bot-token path against this fake."""
        return {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": self.api_url, "SLACK_CHANNEL": channel}

    def webhook_env(self) -> dict[str, str]:
        return {"SLACK_WEBHOOK_URL": self.webhook_url}


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _body(self) -> dict[str, Any]:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if "json" in (self.headers.get("Content-Type") or ""):
                return json.loads(raw or "{}")
            parsed = {key: values[0] for key, values in parse_qs(raw).items()}
            if isinstance(parsed.get("blocks"), str):
                parsed["blocks"] = json.loads(parsed["blocks"])
            return parsed

        def _send(self, status: int, body: str, content_type: str, headers=None) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802
            body = self._body()
            headers = dict(self.headers.items())
            reply = fake.next_reply()
            with fake.lock:
                fake.requests.append(Received(self.path, headers, body, reply.kind))
            is_api = self.path == API_PATH
            if self.path not in (API_PATH, WEBHOOK_PATH):
                self._send(404, "no_service", "text/plain")
                return
            if reply.kind == "hang":
                fake.stopping.wait(reply.hang_s)
                return  # close without an answer
            if reply.kind == "ratelimited":
                payload = (
                    json.dumps({"ok": False, "error": "ratelimited"}) if is_api else "ratelimited"
                )
                self._send(
                    429,
                    payload,
                    "application/json" if is_api else "text/plain",
                    {"Retry-After": str(reply.retry_after)},
                )
                return
            if reply.kind == "server_error":
                payload = (
                    json.dumps({"ok": False, "error": "internal_error"}) if is_api else "error"
                )
                self._send(500, payload, "application/json" if is_api else "text/plain")
                return
            if reply.kind == "error":
                if is_api:
                    self._send(
                        200, json.dumps({"ok": False, "error": reply.error}), "application/json"
                    )
                else:
                    self._send(
                        404 if reply.error == "no_service" else 403, reply.error or "", "text/plain"
                    )
                return
            if is_api and headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(
                    200, json.dumps({"ok": False, "error": "invalid_auth"}), "application/json"
                )
                return
            ts = fake.accept(self.path, headers, body)
            if is_api:
                answer = {
                    "ok": True,
                    "channel": "C0FAKE",
                    "ts": ts,
                    "message": {"text": body.get("text")},
                }
                self._send(200, json.dumps(answer), "application/json")
            else:
                self._send(200, "ok", "text/plain")

    return Handler


class running:
    """Context manager: a FakeSlack served on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        self.fake = FakeSlack()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.fake))
        self.server.daemon_threads = True
        self.fake.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeSlack:
        self.thread.start()
        return self.fake

    def __exit__(self, *exc: object) -> None:
        self.fake.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
