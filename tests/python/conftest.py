from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from warehouses import (
    TestWarehouse,
    new_warehouse,
    postgres_unavailable_reason,
    spark_unavailable_reason,
)

from demo_data import DemoSpec

os.environ.setdefault("DO_NOT_TRACK", "1")

# The dashboard app fixture (open_app), shared by the dashboard tests.
pytest_plugins = ["dashboard_app"]

# The demo warehouse used by read-only tests: fixed dates, so results are reproducible.
DEMO_END_DATE = dt.date(2026, 1, 7)  # a Wednesday: 2026-W02 is incomplete
DEMO_AS_OF = "2026-01-07"
DEMO_SPEC = DemoSpec(weeks=6, rows_per_day=60, seed=7, end_date=DEMO_END_DATE)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first (stable otherwise): with several workers (`make test` runs one per
    core), a test of many minutes that starts last would leave one worker running it alone.
    The Spark tests go to one worker (`--dist loadgroup`): a session fixture is built once
    per worker (the Spark demo takes minutes), and a worker's Spark warehouses share one
    Spark process, whose JVM warms up once (warehouses.py)."""
    for item in items:
        if "demo_spark" in getattr(item, "fixturenames", ()) or item.get_closest_marker("spark"):
            item.add_marker(pytest.mark.xdist_group("spark"))
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def unavailable(reason: str) -> None:
    """A part of the machine a test needs is missing: skip and say why on a developer's
    machine, fail under CI=true, where CI installs everything the suite needs."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def require_postgres() -> None:
    """Skip without a server, except under CI=true where a missing server is a failure."""
    reason = postgres_unavailable_reason()
    if reason is not None:
        unavailable(reason)


def require_spark() -> None:
    """Skip without Java or PySpark, except under CI=true, where CI must run the Spark suite."""
    reason = spark_unavailable_reason()
    if reason is not None:
        unavailable(f"Spark suite: {reason}")


def require(target: str) -> None:
    if target == "postgres":
        require_postgres()
    elif target == "spark":
        require_spark()


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> str:
    require(request.param)
    return request.param


@pytest.fixture(
    params=[
        "duckdb",
        pytest.param("postgres", marks=pytest.mark.postgres),
        # A Spark test starts a JVM for every dbt command: give it time on a 2-core machine.
        pytest.param(
            "spark", marks=[pytest.mark.spark, pytest.mark.slow, pytest.mark.timeout(2400)]
        ),
    ]
)
def every_engine(request: pytest.FixtureRequest) -> str:
    """DuckDB, PostgreSQL and Spark: for the dbt project's own behaviour on each engine."""
    require(request.param)
    return request.param


@pytest.fixture
def make_warehouse(tmp_path: Path) -> Iterator[Callable[..., TestWarehouse]]:
    """Factory for empty isolated warehouses; PostgreSQL schemas are dropped afterwards."""
    created: list[TestWarehouse] = []

    def factory(target: str = "duckdb", **dbt_vars) -> TestWarehouse:
        require(target)
        warehouse = new_warehouse(target, tmp_path / f"wh{len(created)}", **dbt_vars)
        created.append(warehouse)
        return warehouse

    yield factory
    for warehouse in created:
        warehouse.drop()


def _built_demo(target: str, root: Path) -> TestWarehouse:
    warehouse = new_warehouse(target, root, as_of_date=DEMO_AS_OF)
    try:
        warehouse.generate(DEMO_SPEC)
        # Every model, data test and unit test, on each engine: the one build of the suite
        # on each engine that runs the unit tests (the others, TestWarehouse.build, leave
        # them out). The statistics models' unit tests take 2 to 9 s each on Spark since
        # their q-values are window expressions (docs/performance.md).
        warehouse.dbt("build")
    except BaseException:
        warehouse.drop()  # a failed build leaves no schema behind on PostgreSQL
        raise
    return warehouse


def _shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder every process of this test run sees: pytest-xdist makes each worker's
    base temp a subfolder of the controller's; without workers, the base temp itself."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _shared_demo(target: str, tmp_path_factory: pytest.TempPathFactory) -> TestWarehouse:
    """The demo built once for the whole test run, not once per pytest worker (about 30 s
    a build): the first worker to need it builds it, under a file lock, and each worker
    gets a copy of the built folder (its dbt target, parse and profile; on DuckDB the
    warehouse file). On PostgreSQL every copy reads the same schemas, which the run drops
    at its end (pytest_sessionfinish)."""
    shared = _shared_root(tmp_path_factory) / f"demo_{target}"
    shared.mkdir(exist_ok=True)
    with (shared / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        built = shared / "built.json"
        if not built.exists():
            folder = shared / f"build_{os.getpid()}"
            warehouse = _built_demo(target, folder)
            warehouse.close()  # DuckDB: the file complete, for the copies
            built.write_text(json.dumps({"folder": str(folder), "schema": warehouse.schema}))
        recorded = json.loads(built.read_text())
    root = tmp_path_factory.mktemp(f"demo_{target}")
    shutil.copytree(recorded["folder"], root, dirs_exist_ok=True)
    return new_warehouse(target, root, schema=recorded["schema"], as_of_date=DEMO_AS_OF)


@pytest.hookimpl(tryfirst=True)  # before pytest's own removes old base temps
def pytest_sessionfinish(session: pytest.Session) -> None:
    """The end of the whole run (under pytest-xdist, the controller's, after every worker):
    the shared PostgreSQL demo's schemas are dropped."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    built = session.config._tmp_path_factory.getbasetemp() / "demo_postgres" / "built.json"
    if built.exists():
        schema = json.loads(built.read_text())["schema"]
        new_warehouse("postgres", built.parent, schema=schema).drop()


@pytest.fixture(scope="session")
def demo_duckdb(tmp_path_factory: pytest.TempPathFactory) -> TestWarehouse:
    """Demo data built on DuckDB once per test run, a copy of it per worker. Read it; do
    not change it."""
    return _shared_demo("duckdb", tmp_path_factory)


@pytest.fixture(scope="session")
def demo_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestWarehouse]:
    """Demo data built on PostgreSQL once per test run, in schemas dropped at its end.
    Read it; do not change it."""
    require_postgres()
    warehouse = _shared_demo("postgres", tmp_path_factory)
    yield warehouse
    warehouse.close()


@pytest.fixture(scope="session")
def demo_spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestWarehouse]:
    """Demo data built on Spark once per session (parquet files under the session's tmp),
    its Spark process (one JVM) kept up for every test that reads it."""
    require_spark()
    warehouse = _built_demo("spark", tmp_path_factory.mktemp("demo_spark"))
    yield warehouse
    warehouse.close()


@pytest.fixture
def demo_warehouse(engine: str, request: pytest.FixtureRequest) -> TestWarehouse:
    """The session's demo warehouse on each engine (parametrised by `engine`)."""
    return request.getfixturevalue(f"demo_{engine}")
