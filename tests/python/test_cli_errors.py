"""Errors a user can cause: one line on stderr, a non-zero exit code, never a traceback,
and never a secret. Each in its own process, as a user or a scheduler runs the CLI.
(Ctrl-C during a send is in test_delivery_faults.py.)"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import warehouses
from conftest import DEMO_AS_OF
from fake_slack import TOKEN

from reporter.warehouse import PROJECT_DIR

pytestmark = pytest.mark.timeout(300)
WEBHOOK = "https://hooks.example/services/T000/B000/very-secret-path"


@pytest.fixture
def warehouse(demo_duckdb: warehouses.TestWarehouse, tmp_path: Path) -> warehouses.TestWarehouse:
    copy = warehouses.TestWarehouse("duckdb", tmp_path, demo_duckdb.schema, demo_duckdb.raw_schema)
    copy.write_profile()
    shutil.copy(demo_duckdb.root / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    return copy


def cli(warehouse, *args: str, **env: str) -> subprocess.Popen[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REPORT_"))},
        "DO_NOT_TRACK": "1",
        "DBT_PROFILES_DIR": str(warehouse.profiles_dir),
        "DBT_TARGET": "duckdb",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "reporter", *args],
        cwd=PROJECT_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(warehouse, *args: str, **env: str) -> tuple[int, str, str]:
    process = cli(warehouse, *args, **env)
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def assert_one_line(err: str, *secrets: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for secret in secrets:
        assert secret not in err
    return lines[0]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SLACK_BOT_TOKEN": f"{TOKEN}\nxoxb-rest", "SLACK_CHANNEL": "#c"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_WEBHOOK_URL": WEBHOOK + " \n"}, "SLACK_WEBHOOK_URL"),
        ({"SLACK_WEBHOOK_URL": "hooks.example/x"}, "SLACK_WEBHOOK_URL"),
        ({"SLACK_BOT_TOKEN": TOKEN, "SLACK_CHANNEL": "#c", "SLACK_API_URL": "notaurl"}, "API_URL"),
    ],
)
def test_bad_slack_settings(warehouse, env: dict[str, str], named: str) -> None:
    code, out, err = run(warehouse, "send", "--as-of", DEMO_AS_OF, **env)
    assert code == 2
    line = assert_one_line(err, TOKEN, "very-secret-path", "xoxb-rest")
    assert named in line
    assert TOKEN not in out and "very-secret-path" not in out


def test_an_invalid_schema_is_refused_before_any_sql(warehouse) -> None:
    db = warehouse.root / "warehouse.duckdb"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    injected = "x; create table pwned as select 1; --"
    profile = (warehouse.root / "profiles.yml").read_text()
    (warehouse.root / "profiles.yml").write_text(
        profile.replace(f"schema: {warehouse.schema}", "schema: \"{{ env_var('DBT_SCHEMA') }}\"")
    )
    for command in (["send"], ["preview"], ["weekly"]):
        code, _, err = run(warehouse, *command, DBT_SCHEMA=injected, SLACK_WEBHOOK_URL=WEBHOOK)
        assert code == 2
        assert "not a plain identifier" in assert_one_line(err, "very-secret-path")
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before  # nothing ran


def test_a_broken_pipe_is_one_line(warehouse) -> None:
    process = cli(warehouse, "preview", "--as-of", DEMO_AS_OF)
    assert process.stdout is not None
    process.stdout.close()  # `| head -0`: the reader is gone before anything is written
    err = process.stderr.read() if process.stderr else ""
    process.wait(timeout=120)
    assert process.returncode == 141
    assert "broken pipe" in assert_one_line(err)


def test_an_existing_file_where_the_output_folder_goes_is_one_line(warehouse, tmp_path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    code, _, err = run(warehouse, "export-dataset", "--kind", "sft", "--out", str(taken))
    assert code == 2
    assert str(taken) in assert_one_line(err)
    assert taken.read_text() == "not a folder"
