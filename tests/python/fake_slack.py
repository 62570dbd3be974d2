"""A small fake Slack on 127.0.0.1 that can fail for real.

It serves the Web API's chat.postMessage, conversations.history, conversations.replies and
conversations.list (with message metadata), and an incoming webhook. The real slack_sdk
clients talk to it (WebClient(base_url=...), WebhookClient(url)).

Answers to posts are scripted per request, in order; when the script runs out, every post
succeeds. Some scripted faults happen after the fake has *accepted* the post (it is in the
channel): the connection is then closed with FIN or RST, left hanging, or the answer is
trickled byte by byte. `on_request` / `on_accept` run test code at those two moments (for
example, to kill the sender). `messages` holds what the channel shows; `requests` holds
every post that arrived, accepted or not.
"""

from __future__ import annotations

import hashlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

API_PATH = "/api/chat.postMessage"
READ_PATHS = tuple(
    f"/api/{method}"
    for method in ("conversations.history", "conversations.replies", "conversations.list")
)
WEBHOOK_PATH = "/services/T000/B000/fake-webhook-secret"
TOKEN = "fake-bot-token-never-print"
# Faults that happen after the message is in the channel.
AFTER_ACCEPT = ("accept_fin", "accept_rst", "accept_hang", "trickle")


@dataclass(frozen=True)
class Reply:
    """One scripted answer to a post.

    `ok`, `ratelimited`, `server_error`, a Slack `error`, `hang` (nothing accepted, no
    answer), or after accepting the post: `accept_fin`, `accept_rst`, `accept_hang`,
    `trickle` (the answer one byte every `trickle_s`).
    """

    kind: str = "ok"
    error: str | None = None
    retry_after: int = 1
    hang_s: float = 5.0
    trickle_s: float = 0.5


OK = Reply()


def rate_limited(retry_after: int = 1) -> Reply:
    return Reply("ratelimited", retry_after=retry_after)


def server_error() -> Reply:
    return Reply("server_error")


def slack_error(error: str) -> Reply:
    return Reply("error", error=error)


def hang(seconds: float = 5.0) -> Reply:
    return Reply("hang", hang_s=seconds)


def accept_then(kind: str, seconds: float = 5.0, trickle_s: float = 0.5) -> Reply:
    """Accept the post, then fail: `fin`, `rst`, `hang` or `trickle`."""
    name = "trickle" if kind == "trickle" else f"accept_{kind}"
    assert name in AFTER_ACCEPT, kind
    return Reply(name, hang_s=seconds, trickle_s=trickle_s)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    reply: str


def channel_id(name: str) -> str:
    if name.startswith(("C", "G")) and name.isupper():
        return name
    return "C" + hashlib.sha1(name.lstrip("#").encode()).hexdigest()[:9].upper()


@dataclass
class FakeSlack:
    script: list[Reply] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    channels: dict[str, str] = field(default_factory=dict)  # id -> name
    reads: list[str] = field(default_factory=list)  # the read methods called
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    on_request: Callable[[Received], None] | None = None
    on_accept: Callable[[Received], None] | None = None
    port: int = 0
    _last_ts: float = 0.0

    @property
    def reports(self) -> list[dict[str, Any]]:
        """Top-level messages, thread replies left out: what the channel's timeline shows."""
        return [message for message in self.messages if not message.get("thread_ts")]

    @property
    def replies(self) -> list[dict[str, Any]]:
        return [message for message in self.messages if message.get("thread_ts")]

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

    def add_channel(self, name: str) -> str:
        with self.lock:
            self.channels[channel_id(name)] = name.lstrip("#")
        return channel_id(name)

    def accept(self, path: str, body: dict[str, Any]) -> str:
        with self.lock:
            # Real timestamps (read-back is bounded by time), unique and increasing.
            now = max(time.time(), self._last_ts + 0.000001)
            self._last_ts = now
            ts = f"{now:.6f}"
            channel = str(body.get("channel") or "#webhook")
            self.channels.setdefault(channel_id(channel), channel.lstrip("#"))
            self.messages.append(
                {"path": path, "ts": ts, "channel_id": channel_id(channel), **body}
            )
            return ts

    def env(self, channel: str = "#ai-reports") -> dict[str, str]:
        """Environment for the bot-token path against this fake."""
        self.add_channel(channel)
        return {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": self.api_url, "SLACK_CHANNEL": channel}

    def webhook_env(self) -> dict[str, str]:
        return {"SLACK_WEBHOOK_URL": self.webhook_url}

    def history(self, query: dict[str, str]) -> dict[str, Any]:
        oldest = float(query.get("oldest") or 0)
        with_metadata = query.get("include_all_metadata") in ("1", "true", "True")
        with self.lock:
            found = [
                m
                for m in self.messages
                if m["channel_id"] == query.get("channel")
                and not m.get("thread_ts")
                and float(m["ts"]) >= oldest
            ]
        return {"ok": True, "messages": [_shown(m, with_metadata) for m in reversed(found)]}

    def thread(self, query: dict[str, str]) -> dict[str, Any]:
        parent = query.get("ts")
        with_metadata = query.get("include_all_metadata") in ("1", "true", "True")
        with self.lock:
            found = [
                m
                for m in self.messages
                if m["channel_id"] == query.get("channel")
                and (m["ts"] == parent or m.get("thread_ts") == parent)
            ]
        if not found:
            return {"ok": False, "error": "thread_not_found"}
        return {"ok": True, "messages": [_shown(m, with_metadata) for m in found]}

    def channel_list(self) -> dict[str, Any]:
        with self.lock:
            channels = [{"id": cid, "name": name} for cid, name in self.channels.items()]
        return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}


def _shown(message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
    shown = {"type": "message", "ts": message["ts"], "text": message.get("text")}
    if message.get("thread_ts"):
        shown["thread_ts"] = message["thread_ts"]
    if with_metadata and message.get("metadata"):
        shown["metadata"] = message["metadata"]
    return shown


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _body(self) -> dict[str, Any]:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if "json" in (self.headers.get("Content-Type") or ""):
                return json.loads(raw or "{}")
            parsed = {key: values[0] for key, values in parse_qs(raw).items()}
            for name in ("blocks", "metadata"):
                if isinstance(parsed.get(name), str):
                    parsed[name] = json.loads(parsed[name])
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

        def _json(self, answer: dict[str, Any]) -> None:
            self._send(200, json.dumps(answer), "application/json")

        def _authorised(self) -> bool:
            return self.headers.get("Authorization") == f"Bearer {TOKEN}"

        def do_GET(self) -> None:  # noqa: N802
            split = urlsplit(self.path)
            self._read(split.path, {k: v[0] for k, v in parse_qs(split.query).items()})

        def _read(self, path: str, query: dict[str, Any]) -> None:
            query = {key: str(value) for key, value in query.items()}
            method = path.removeprefix("/api/")
            with fake.lock:
                fake.reads.append(method)
            if not self._authorised():
                self._json({"ok": False, "error": "invalid_auth"})
            elif method == "conversations.history":
                self._json(fake.history(query))
            elif method == "conversations.replies":
                self._json(fake.thread(query))
            elif method == "conversations.list":
                self._json(fake.channel_list())
            else:
                self._json({"ok": False, "error": "unknown_method"})

        def _drop(self, rst: bool) -> None:
            if rst:  # SO_LINGER 0: close() sends RST instead of FIN
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True

        def _trickle(self, status: int, body: str, content_type: str, every_s: float) -> None:
            """The whole answer, status line and headers included, one byte at a time."""
            data = body.encode()
            head = (
                f"HTTP/1.1 {status} OK\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
            ).encode()
            answer = head + data
            self.close_connection = True
            for index in range(len(answer)):
                if fake.stopping.wait(every_s):
                    return
                try:
                    self.wfile.write(answer[index : index + 1])
                    self.wfile.flush()
                except OSError:
                    return

        def do_POST(self) -> None:  # noqa: N802
            split = urlsplit(self.path)
            if split.path in READ_PATHS:  # slack_sdk sends the read methods as POST forms
                query = {k: v[0] for k, v in parse_qs(split.query).items()}
                self._read(split.path, {**query, **self._body()})
                return
            body = self._body()
            headers = dict(self.headers.items())
            reply = fake.next_reply()
            received = Received(self.path, headers, body, reply.kind)
            with fake.lock:
                fake.requests.append(received)
            is_api = self.path == API_PATH
            if self.path not in (API_PATH, WEBHOOK_PATH):
                self._send(404, "no_service", "text/plain")
                return
            if fake.on_request is not None:
                fake.on_request(received)
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
                    self._json({"ok": False, "error": reply.error})
                else:
                    self._send(
                        404 if reply.error == "no_service" else 403, reply.error or "", "text/plain"
                    )
                return
            if is_api and not self._authorised():
                self._json({"ok": False, "error": "invalid_auth"})
                return
            ts = fake.accept(self.path, body)
            if fake.on_accept is not None:
                fake.on_accept(received)
            if is_api:
                answer = json.dumps(
                    {
                        "ok": True,
                        "channel": channel_id(str(body.get("channel"))),
                        "ts": ts,
                        "message": {"text": body.get("text")},
                    }
                )
                content_type = "application/json"
            else:
                answer, content_type = "ok", "text/plain"
            if reply.kind in ("accept_fin", "accept_rst"):
                self._drop(rst=reply.kind == "accept_rst")
            elif reply.kind == "accept_hang":
                fake.stopping.wait(reply.hang_s)
                self._drop(rst=False)
            elif reply.kind == "trickle":
                self._trickle(200, answer, content_type, reply.trickle_s)
            else:
                self._send(200, answer, content_type)

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away (a killed sender) is part of the test


class running:
    """Context manager: a FakeSlack served on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        self.fake = FakeSlack()
        self.server = _QuietServer(("127.0.0.1", 0), _handler(self.fake))
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
