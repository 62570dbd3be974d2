"""The scheduled job: `dbt build` through dbt's Python entry point, then the report.

A failed build, or a failed error-severity test, means the marts may be stale or wrong:
no report is sent, the exit code is non-zero, and (when asked) a short notice tells the
channel that the data pipeline failed instead.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reporter.errors import PipelineError
from reporter.warehouse import PROJECT_DIR

FAILED_STATUSES = {"error", "fail", "runtime error"}
MAX_NAMED_NODES = 3


@dataclass(frozen=True)
class BuildResult:
    success: bool
    summary: str  # one line


def build_args(
    target: str | None,
    profiles_dir: Path,
    dbt_vars: dict[str, Any] | None,
    colors: bool | None = None,
) -> list[str]:
    """dbt's arguments; colours only when stdout is a terminal (not in a cron log)."""
    if colors is None:
        colors = sys.stdout.isatty()
    args = ["build", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(profiles_dir)]
    args.append("--use-colors" if colors else "--no-use-colors")
    if target:
        args += ["--target", target]
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    return args


def _summarise(result: Any) -> str:
    if result.exception is not None:
        return str(result.exception).strip().splitlines()[0]
    failed = [
        node_result.node.name
        for node_result in getattr(result.result, "results", None) or []
        if str(getattr(node_result.status, "value", node_result.status)) in FAILED_STATUSES
    ]
    if not failed:
        return "dbt build did not succeed"
    shown = ", ".join(failed[:MAX_NAMED_NODES])
    more = f" and {len(failed) - MAX_NAMED_NODES} more" if len(failed) > MAX_NAMED_NODES else ""
    return f"{len(failed)} failed: {shown}{more}"


def _release_duckdb() -> None:
    # dbt-duckdb keeps its database open in this process after dbt returns; close it so
    # the reporter (and other processes) can open the file.
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:
        return
    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()


def dbt_build(
    target: str | None, profiles_dir: Path, dbt_vars: dict[str, Any] | None = None
) -> BuildResult:
    """`dbt build` in this process; never raises for a failed build."""
    from dbt.cli.main import dbtRunner

    try:
        result = dbtRunner().invoke(build_args(target, profiles_dir, dbt_vars))
    finally:
        _release_duckdb()
    if result.success:
        return BuildResult(True, "dbt build succeeded")
    return BuildResult(False, _summarise(result))


def require_build(
    target: str | None, profiles_dir: Path, dbt_vars: dict[str, Any] | None = None
) -> BuildResult:
    """dbt build, or PipelineError with one line saying what failed."""
    outcome = dbt_build(target, profiles_dir, dbt_vars)
    if not outcome.success:
        raise PipelineError(f"data pipeline failed (dbt build: {outcome.summary}); no report sent")
    return outcome
