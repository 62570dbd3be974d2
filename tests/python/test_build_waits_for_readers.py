"""`make build` / `reporter run` and readers of the DuckDB file take turns instead of failing.

A reader process holding the file (a dashboard mid-query) makes the build wait, say so,
and then succeed; and the real dashboard, re-rendering in its own process the whole time,
keeps working while the daily build runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import warehouses

from reporter.warehouse import PROJECT_DIR

pytestmark = pytest.mark.timeout(600)
APP = PROJECT_DIR / "dashboards" / "dashboard.py"


@pytest.fixture
def warehouse(demo_duckdb: warehouses.TestWarehouse, tmp_path: Path) -> warehouses.TestWarehouse:
    copy = warehouses.TestWarehouse(
        "duckdb", tmp_path, demo_duckdb.schema, demo_duckdb.raw_schema, demo_duckdb.dbt_vars
    )
    copy.write_profile()
    shutil.copy(demo_duckdb.root / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    return copy


def environment(warehouse: warehouses.TestWarehouse, **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REPORT_"))},
        "DO_NOT_TRACK": "1",
        "DBT_TARGET_PATH": str(warehouse.root / "target"),
        "DBT_LOG_PATH": str(warehouse.root / "logs"),
        "DBT_PROFILES_DIR": str(warehouse.profiles_dir),
        "DBT_TARGET": "duckdb",
        **extra,
    }


def start_build(warehouse: warehouses.TestWarehouse, **env: str) -> subprocess.Popen[str]:
    """`make build`'s command: python -m reporter.pipeline with dbt build flags."""
    command = [
        sys.executable,
        "-m",
        "reporter.pipeline",
        "--profiles-dir",
        str(warehouse.profiles_dir),
        "--target",
        "duckdb",
        "--vars",
        json.dumps(warehouse.all_vars()),
        "--exclude",
        "tag:tuning",
    ]
    return subprocess.Popen(
        command,
        cwd=PROJECT_DIR,
        env=environment(warehouse, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_build_waits_for_a_reader_says_so_and_succeeds(warehouse) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
            "print('held', flush=True); sys.stdin.read()",
            str(warehouse.root / "warehouse.duckdb"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    build = start_build(warehouse)
    assert build.stderr is not None
    said = build.stderr.readline()  # blocks until the build says it is waiting
    assert "waiting up to" in said and "warehouse.duckdb" in said
    holder.communicate(timeout=30)  # the reader lets go
    out, err = build.communicate(timeout=600)
    assert build.returncode == 0, (out[-3000:], err[-3000:])
    assert "Could not set lock" not in out + err


def test_build_gives_up_after_its_bound_with_one_line(warehouse) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
            "print('held', flush=True); sys.stdin.read()",
            str(warehouse.root / "warehouse.duckdb"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    try:
        build = start_build(warehouse, REPORT_BUILD_WAIT_SECONDS="1")
        out, err = build.communicate(timeout=300)
    finally:
        holder.communicate(timeout=30)
    assert build.returncode == 1
    assert err.strip().splitlines()[-1].startswith("error: data pipeline did not start")
    assert "Traceback" not in err


DASHBOARD_LOOP = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from streamlit.testing.v1 import AppTest

    stop = Path(sys.argv[2])
    renders = 0
    while True:
        app = AppTest.from_file(sys.argv[1], default_timeout=300)
        app.run()
        if app.exception or app.error:
            print("failed", [e.value for e in app.exception], [e.value for e in app.error])
            sys.exit(1)
        renders += 1
        print("rendered", renders, flush=True)
        if stop.exists():
            break
    """
)


def test_the_dashboard_stays_open_while_the_daily_build_runs(warehouse, tmp_path) -> None:
    stop = tmp_path / "stop"
    dashboard = subprocess.Popen(
        [sys.executable, "-c", DASHBOARD_LOOP, str(APP), str(stop)],
        cwd=PROJECT_DIR,
        # No cache: every render reads the marts, as many users clicking around would.
        env=environment(warehouse, DASHBOARD_CACHE_TTL="0", REPORT_DUCKDB_BUSY_SECONDS="300"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert dashboard.stdout is not None
    assert dashboard.stdout.readline().startswith("rendered")  # the dashboard is up
    build = start_build(warehouse)
    out, err = build.communicate(timeout=600)
    stop.touch()
    dash_out, dash_err = dashboard.communicate(timeout=600)
    assert build.returncode == 0, (out[-3000:], err[-3000:])
    assert dashboard.returncode == 0, (dash_out[-3000:], dash_err[-3000:])
