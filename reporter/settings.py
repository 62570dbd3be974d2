"""Options from the environment: every command-line option can also come from a variable."""

from __future__ import annotations

import json
import os
from typing import Any

from reporter.errors import UserError

DBT_PROJECT = "dbt_project.yml"


def dbt_var(name: str, overrides: dict[str, Any] | None = None) -> Any:
    """A dbt var as `dbt build` sees it: --vars (here `overrides`, else env DBT_VARS, which
    `reporter run` passes to dbt), else dbt_project.yml. Python keeps no default of its own."""
    if overrides is None:
        text = env("DBT_VARS")
        try:
            overrides = json.loads(text) if text else {}
        except json.JSONDecodeError as exc:
            raise UserError(f"DBT_VARS is not JSON: {exc}") from None
    if isinstance(overrides, dict) and name in overrides:
        return overrides[name]
    import yaml

    from reporter.warehouse import PROJECT_DIR

    project = yaml.safe_load((PROJECT_DIR / DBT_PROJECT).read_text(encoding="utf-8"))
    return (project.get("vars") or {}).get(name)


def min_n(overrides: dict[str, Any] | None = None) -> int:
    """var('min_n'): below this many evaluations or reactions a week is low volume. The
    marts decide the flags with it; Python only shows it (and draws the daily charts)."""
    if "REPORT_MIN_N" in os.environ:
        raise UserError(
            "REPORT_MIN_N is gone: the marts decide low volume with dbt var min_n; set it in "
            "dbt_project.yml, or for one run with --vars / DBT_VARS '{\"min_n\": 50}'"
        )
    value = dbt_var("min_n", overrides)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserError(f"dbt var min_n must be a whole number of at least 1, not {value!r}")
    return value


def env(name: str, default: str | None = None) -> str | None:
    """The variable's value; the default when it is unset or empty."""
    return os.environ.get(name) or default


def env_flag(name: str, default: bool = False) -> bool:
    """A yes/no variable: 1, true or yes turn it on, 0, false or no turn it off; unset or
    anything else leaves the default."""
    value = (env(name) or "").strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    return default
