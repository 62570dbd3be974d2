"""The scheduled job: `dbt build` through dbt's Python entry point, then the report.

A failed build, or a failed error-severity test, means the marts may be stale or wrong:
no report is sent, the exit code is non-zero, and (when asked) a short notice tells the
channel that the data pipeline failed instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reporter.errors import PipelineError, UserError
from reporter.redact import one_line
from reporter.warehouse import PROJECT_DIR, duckdb_file, load_config, profiles_dir

FAILED_STATUSES = {"error", "fail", "runtime error"}
# The scheduled job's build: every model and data test, not the unit tests. Those check the
# models' logic on fixed inputs, never the data: they run where the code changes (`make
# test`, `make demo`), as dbt recommends, and on Spark they would cost minutes a run.
SCHEDULED_BUILD_ARGS = ("--exclude-resource-type", "unit_test")
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


BUILD_WAIT_S = 600.0  # how long a build waits for readers of the DuckDB file
LOCK_TEXT = "could not set lock"


def build_wait_seconds() -> float:
    """env REPORT_BUILD_WAIT_SECONDS (default 600): the bound on waiting for readers."""
    try:
        return max(0.0, float(os.environ.get("REPORT_BUILD_WAIT_SECONDS") or BUILD_WAIT_S))
    except ValueError:
        return BUILD_WAIT_S


def _duckdb_path(target: str | None, profiles_dir: Path) -> str | None:
    return duckdb_file(load_config(target, profiles_dir))


def wait_for_readers(path: str, deadline: float, say: Callable[[str], None]) -> None:
    """Until this process can open the DuckDB file for writing (then close it at once).

    A dashboard or a preview holds the file only during a query, so this is normally
    short; it is bounded, and it says so while it waits.
    """
    import duckdb

    told = False
    delay = 0.1
    while True:
        try:
            duckdb.connect(path).close()
            return
        except duckdb.IOException as exc:
            if LOCK_TEXT not in str(exc).lower():
                raise UserError(f"cannot open DuckDB file {path}: {one_line(exc, 200)}") from None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise PipelineError(
                f"data pipeline did not start: {path} stayed open in another process (a "
                "dashboard, a preview, another build) past REPORT_BUILD_WAIT_SECONDS; "
                "no report sent"
            )
        if not told:
            say(
                f"waiting up to {remaining:.0f}s for other processes to close {path} "
                "(a dashboard or a preview is reading it)"
            )
            told = True
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 2.0)


def _lock_failure(result: Any) -> bool:
    texts = [str(result.exception or "")]
    for node_result in getattr(result.result, "results", None) or []:
        texts.append(str(getattr(node_result, "message", "") or ""))
    return any(LOCK_TEXT in text.lower() for text in texts)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def dbt_build(
    target: str | None,
    profiles_dir: Path,
    dbt_vars: dict[str, Any] | None = None,
    extra_args: Sequence[str] = (),
    say: Callable[[str], None] = _say,
) -> BuildResult:
    """`dbt build` in this process; never raises for a failed build.

    On DuckDB it first waits (bounded) for readers of the file to let go, and if a reader
    slips in before dbt opens the file, it waits and starts again.
    """
    from dbt.cli.main import dbtRunner

    path = _duckdb_path(target, profiles_dir)
    deadline = time.monotonic() + build_wait_seconds()
    while True:
        if path is not None:
            wait_for_readers(path, deadline, say)
        try:
            result = dbtRunner().invoke([*build_args(target, profiles_dir, dbt_vars), *extra_args])
        finally:
            _release_duckdb()
        if result.success:
            return BuildResult(True, "dbt build succeeded")
        if path is None or not _lock_failure(result) or time.monotonic() >= deadline:
            return BuildResult(False, _summarise(result))
        say(f"{path} was opened by another process as dbt started; waiting again")


def require_build(
    target: str | None,
    profiles_dir: Path,
    dbt_vars: dict[str, Any] | None = None,
    full_refresh: bool = False,
) -> BuildResult:
    """The scheduled job's dbt build, or PipelineError with one line saying what failed."""
    extra_args = [*SCHEDULED_BUILD_ARGS, *(["--full-refresh"] if full_refresh else [])]
    outcome = dbt_build(target, profiles_dir, dbt_vars, extra_args)
    if not outcome.success:
        raise PipelineError(f"data pipeline failed (dbt build: {outcome.summary}); no report sent")
    return outcome


def main(argv: list[str] | None = None) -> int:
    """`make build`: dbt build that waits (bounded, and says so) for readers of DuckDB.

    python -m reporter.pipeline [--target T] [--profiles-dir D] [other dbt build flags]
    """
    parser = argparse.ArgumentParser(prog="python -m reporter.pipeline")
    parser.add_argument("--target", default=None)
    parser.add_argument("--profiles-dir", default=None)
    args, extra = parser.parse_known_args(argv)
    try:
        outcome = dbt_build(args.target, profiles_dir(args.profiles_dir), None, extra)
    except (UserError, PipelineError) as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    if not outcome.success:
        print(f"error: dbt build failed: {one_line(outcome.summary)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
