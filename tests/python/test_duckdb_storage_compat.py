"""Which DuckDB versions can open the warehouse file (docs/bi_access.md).

DuckDB 2.x writes a storage format that 1.x clients cannot open, and many BI tools bundle a
1.x client. With the profile's `config_options: {storage_compatibility_version: v1.0.0}`
(profiles.example.yml, env DUCKDB_STORAGE_VERSION), the demo, dbt and the reporter create
the file in the 1.0 format, and a DuckDB 1.x client, installed from the package index into
a throwaway venv, reads every mart as DuckDB 2.x does.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from conftest import unavailable

from demo_data import DemoSpec

# The oldest 1.x release that reads the v1.0.0 format, and the 1.x long-term release.
OLD_CLIENTS = ["1.1.3", "1.4.4"]
SPEC = DemoSpec(weeks=2, rows_per_day=20, seed=11, end_date=dt.date(2026, 1, 7))

READ_MARTS = textwrap.dedent(
    """
    import json, sys
    import duckdb
    path, schema, marts = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    try:
        conn = duckdb.connect(path, read_only=True)
    except duckdb.Error as exc:
        print(json.dumps({"version": duckdb.__version__, "error": str(exc)}))
        sys.exit(0)
    figures = {}
    for mart in marts:
        rows = conn.execute(f"select * from {schema}.{mart}").fetchall()
        figures[mart] = sorted(repr(row) for row in rows)
    print(json.dumps({"version": duckdb.__version__, "marts": figures}))
    """
)


@pytest.fixture(scope="session")
def old_duckdb(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A throwaway venv per old DuckDB client, from the package index."""
    pythons = {}
    for version in OLD_CLIENTS:
        venv = tmp_path_factory.mktemp(f"duckdb-{version}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        python = venv / "bin" / "python"
        result = subprocess.run(
            [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
            + [f"duckdb=={version}"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            unavailable(f"cannot install duckdb=={version}: {result.stderr.strip()[-500:]}")
        pythons[version] = python
    return pythons


def read_with(python: Path, path: Path, schema: str, marts: list[str]) -> dict:
    result = subprocess.run(
        [str(python), "-c", READ_MARTS, str(path), schema, json.dumps(marts)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(result.stdout)


def mart_names() -> list[str]:
    from reporter.warehouse import PROJECT_DIR

    return sorted(path.stem for path in (PROJECT_DIR / "models" / "marts").glob("*.sql"))


def test_a_v1_format_warehouse_is_read_by_duckdb_1x(make_warehouse, old_duckdb) -> None:
    warehouse = make_warehouse("duckdb", as_of_date="2026-01-07")
    profile_path = warehouse.profiles_dir / "profiles.yml"
    profile = yaml.safe_load(profile_path.read_text())
    profile["ai_performance"]["outputs"]["duckdb"]["config_options"] = {
        "storage_compatibility_version": "v1.0.0"
    }
    profile_path.write_text(yaml.safe_dump(profile))
    warehouse.generate(SPEC)  # creates the file, as the demo does
    warehouse.build()
    path = warehouse.root / "warehouse.duckdb"
    marts = mart_names()

    tags = warehouse.query(
        "select tags from duckdb_databases() where database_name = current_database()"
    )
    assert tags[0]["tags"]["storage_version"] == "v1.0.0+"
    current = read_with(Path(sys.executable), path, warehouse.schema, marts)
    assert current["version"].startswith("2.")
    assert sum(len(rows) for rows in current["marts"].values()) > 0
    for version, python in old_duckdb.items():
        old = read_with(python, path, warehouse.schema, marts)
        assert old["version"] == version
        assert "error" not in old, f"DuckDB {version}: {old.get('error')}"
        for mart in marts:
            assert old["marts"][mart] == current["marts"][mart], f"{mart} differs in {version}"


def test_the_default_format_is_refused_by_duckdb_1x(demo_duckdb, old_duckdb) -> None:
    """Why the setting exists: DuckDB 2.x's own format is closed to 1.x clients."""
    path = demo_duckdb.root / "warehouse.duckdb"
    for version, python in old_duckdb.items():
        old = read_with(python, path, demo_duckdb.schema, ["weekly_performance"])
        assert "error" in old, f"DuckDB {version} opened a 2.x-format file"
        assert "version" in old["error"].lower()
