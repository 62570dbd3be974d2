"""Options from the environment: every command-line option can also come from a variable."""

from __future__ import annotations

import os


def env(name: str, default: str | None = None) -> str | None:
    """The variable's value; the default when it is unset or empty."""
    return os.environ.get(name) or default
