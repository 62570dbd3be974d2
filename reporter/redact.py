"""The one redaction path: every text the reporter shows or stores passes through `redact`.

Secrets (the bot token, the webhook URL) are registered when they are read from the
environment. `redact` removes each of them, and any long enough part of them (a webhook's
path, its last segment, a token cut by a line break), plus anything shaped like a Slack
token or webhook path, whether it was registered or not. It is used for stdout and stderr
(the CLI), the ledger's error columns, and the dashboard's messages.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit

MASK = "***"
MIN_PART_CHARS = 6  # shorter fragments (e.g. "T000") would mask ordinary words
# Shapes of Slack secrets, registered or not: tokens and webhook paths.
_PATTERNS = (
    re.compile(r"xox[a-z]-[A-Za-z0-9-]+"),
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    re.compile(r"/services/[A-Za-z0-9_/+=-]+"),
    re.compile(r"(?i)bearer\s+\S+"),
)

_lock = threading.Lock()
_secrets: set[str] = set()


def _parts(secret: str) -> set[str]:
    """The secret, its lines and words, and for a URL its path and each path segment."""
    parts = {secret}
    parts.update(piece for piece in re.split(r"\s+", secret) if piece)
    try:
        split = urlsplit(secret.strip())
    except ValueError:
        split = None
    if split is not None and split.scheme and split.netloc:
        parts.add(split.path)
        parts.add(split.path + ("?" + split.query if split.query else ""))
        parts.update(segment for segment in split.path.split("/") if segment)
        if split.query:
            parts.add(split.query)
    return {part for part in parts if len(part) >= MIN_PART_CHARS}


def register(*secrets: str | None) -> None:
    """Remember secrets so that `redact` removes them from every later output."""
    with _lock:
        for secret in secrets:
            if secret:
                _secrets.update(_parts(secret))


def redact(text: object) -> str:
    """`text` with every registered secret, and anything shaped like one, masked."""
    result = str(text)
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)  # longest first: no half-masked parts
    for secret in known:
        if secret in result:
            result = result.replace(secret, MASK)
    for pattern in _PATTERNS:
        result = pattern.sub(MASK, result)
    return result


def one_line(text: object, limit: int = 500) -> str:
    """Redacted, control characters turned into spaces, and at most `limit` characters."""
    cleaned = re.sub(r"[\x00-\x1f\x7f]+", " ", redact(text)).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
