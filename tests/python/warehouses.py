"""Test warehouses: a private DuckDB file or PostgreSQL schema per test run, built by dbt.

Every warehouse's dbt commands run in a process of its own, kept for the warehouse's
lifetime (dbt_worker.py: dbt's programmatic runner, the CLI's arguments), with the
warehouse's own target and log paths, so test runs never share state with each other or
with a developer's `make demo`. Python imports dbt once per warehouse, not once per command.
On Spark the process also holds the SparkSession, and every Spark warehouse of a test
process shares it, each in schemas of its own: the JVM starts, and warms up, once (a new
JVM runs its first builds about twice as slowly as a warm one).

DuckDB warehouses share one parse of the project. dbt reuses its last parse only when the
vars and the profile are the same (partial parsing hashes both), and a full parse costs
about 2.5 s more, on the first command of every warehouse. Each DuckDB warehouse is a file
of its own, so all use the same schema names, and dbt reads them through a profile whose
path is relative, run in the warehouse's folder: warehouses with the same vars then have
the same parse, copied into each one's target path before its first command.
"""

from __future__ import annotations

import atexit
import json
import os
import pickle
import select
import shutil
import subprocess
import sys
import tempfile
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from demo_data import DemoSpec, generate
from reporter.pipeline import SCHEDULED_BUILD_ARGS
from reporter.warehouse import PROJECT_DIR, WarehouseConfig, connect, fetch_all, load_config

DBT = str(Path(sys.executable).with_name("dbt"))
DBT_WORKER = Path(__file__).with_name("dbt_worker.py")
# The schema names of every DuckDB test warehouse (each is a file of its own).
DUCKDB_SCHEMA = "pytest"
DUCKDB_FILE = "warehouse.duckdb"
# This process's saved parses, by vars: dbt's partial_parse.msgpack of a DuckDB warehouse.
_SAVED_PARSES: dict[str, Path] = {}
_SAVED_PARSES_DIR = Path(tempfile.gettempdir()) / f"ai_performance_parses_{os.getpid()}"
atexit.register(shutil.rmtree, _SAVED_PARSES_DIR, ignore_errors=True)
# The one Spark process of this test process (see the module's doc): its folder holds the
# session's warehouse, catalog and logs.
_SPARK_ROOT = Path(tempfile.gettempdir()) / f"ai_performance_spark_{os.getpid()}"
_spark_process: list[subprocess.Popen] = []


def postgres_settings() -> dict[str, Any]:
    """libpq's standard variables, as profiles.example.yml reads them."""
    return {
        "host": os.environ.get("PGHOST", "127.0.0.1"),
        "port": int(os.environ.get("PGPORT", "5432")),
        "user": os.environ.get("PGUSER", "postgres"),
        "password": os.environ.get("PGPASSWORD", ""),
        "dbname": os.environ.get("PGDATABASE", "test"),
    }


def postgres_unavailable_reason() -> str | None:
    """None when the server answers; otherwise why not."""
    import psycopg2

    settings = postgres_settings()
    try:
        psycopg2.connect(
            connect_timeout=5, **{k: v for k, v in settings.items() if v != ""}
        ).close()
    except psycopg2.OperationalError as exc:
        return f"PostgreSQL at {settings['host']}:{settings['port']} is not reachable: {exc}"
    return None


def spark_unavailable_reason() -> str | None:
    """None when PySpark and a Java runtime are installed; otherwise what is missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed (pip install -e '.[spark]')"
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        return "no Java runtime for Spark (install openjdk-17-jre-headless or set JAVA_HOME)"
    return None


def spark_settings(root: Path) -> dict[str, str]:
    """profiles.example.yml's Spark session, with the warehouse and catalog inside `root`."""
    return {
        "spark.sql.warehouse.dir": str(root / "spark-warehouse"),
        "spark.sql.catalogImplementation": "hive",
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={root / 'metastore_db'};create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.stream.error.file={root / 'derby.log'}",
        "spark.driver.memory": "2g",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": "4",
    }


@dataclass
class TestWarehouse:
    """One isolated warehouse: a dbt profile of its own, a schema of its own."""

    target: str
    root: Path
    schema: str
    raw_schema: str
    dbt_vars: dict[str, Any] = field(default_factory=dict)
    _worker: subprocess.Popen | None = field(default=None, init=False, repr=False)
    # The vars of the parse in this warehouse's target path (DuckDB; see the module's doc).
    _parsed_vars: str | None = field(default=None, init=False, repr=False)

    @property
    def command_timeout_s(self) -> int:
        """A bound on one dbt command or Spark batch: Spark's whole-project build (a JVM, 40
        models, their tests) takes many minutes on a busy 2-core machine."""
        return 2400 if self.target == "spark" else 900

    @property
    def profiles_dir(self) -> Path:
        return self.root

    @property
    def config(self) -> WarehouseConfig:
        return load_config(self.target, self.profiles_dir)

    def write_profile(self) -> None:
        outputs: dict[str, Any] = {}
        if self.target == "duckdb":
            outputs["duckdb"] = {
                "type": "duckdb",
                "path": str(self.root / DUCKDB_FILE),
                "schema": self.schema,
                "threads": 2,
                "settings": {"preserve_insertion_order": False},  # as profiles.example.yml
            }
        elif self.target == "postgres":
            outputs["postgres"] = {
                "type": "postgres",
                **postgres_settings(),
                "schema": self.schema,
                "threads": 4,
            }
        elif self.target == "spark":
            outputs["spark"] = {
                "type": "spark",
                "method": "session",
                "host": "NA",
                "schema": self.schema,
                "threads": 1,
                "server_side_parameters": spark_settings(_SPARK_ROOT),
            }
        else:
            raise ValueError(self.target)
        profile = {"ai_performance": {"target": self.target, "outputs": outputs}}
        (self.root / "profiles.yml").write_text(yaml.safe_dump(profile))

    def _dbt_profiles_dir(self) -> Path:
        """Where dbt reads this warehouse's profile. DuckDB: the same profile with the file's
        path relative (dbt runs in the warehouse's folder), so that every DuckDB warehouse
        has the same profile, as partial parsing sees it. The reporter and the tests read
        profiles.yml, with the path absolute."""
        if self.target != "duckdb":
            return self.profiles_dir
        profile = yaml.safe_load((self.root / "profiles.yml").read_text())
        profile["ai_performance"]["outputs"]["duckdb"]["path"] = DUCKDB_FILE
        folder = self.root / "dbt_profile"
        folder.mkdir(exist_ok=True)
        (folder / "profiles.yml").write_text(yaml.safe_dump(profile))
        return folder

    def _reuse_parse(self, vars_json: str) -> None:
        """Before a DuckDB command: the saved parse of the same vars, if this warehouse's
        own is of other vars (see the module's doc)."""
        saved = _SAVED_PARSES.get(vars_json)
        if self.target == "duckdb" and saved is not None and self._parsed_vars != vars_json:
            (self.root / "target").mkdir(exist_ok=True)
            shutil.copyfile(saved, self.root / "target" / "partial_parse.msgpack")

    def _save_parse(self, vars_json: str) -> None:
        """After a DuckDB command that succeeded: its parse, for the next warehouse."""
        parsed = self.root / "target" / "partial_parse.msgpack"
        self._parsed_vars = vars_json
        if self.target != "duckdb" or vars_json in _SAVED_PARSES or not parsed.exists():
            return
        _SAVED_PARSES_DIR.mkdir(exist_ok=True)
        saved = _SAVED_PARSES_DIR / f"{len(_SAVED_PARSES)}.msgpack"
        shutil.copyfile(parsed, saved)
        _SAVED_PARSES[vars_json] = saved

    def all_vars(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"raw_schema": self.raw_schema, **self.dbt_vars, **(extra or {})}

    def dbt(
        self, *args: str, dbt_vars: dict[str, Any] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a dbt command against this warehouse; fails the test with dbt's output."""
        vars_json = json.dumps(self.all_vars(dbt_vars), sort_keys=True)
        command = [
            DBT,
            *args,
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(self._dbt_profiles_dir()),
            "--target",
            self.target,
            "--vars",
            vars_json,
        ]
        env = {
            "DO_NOT_TRACK": "1",
            "DBT_TARGET_PATH": str(self.root / "target"),
            "DBT_LOG_PATH": str(self.root / "logs"),
        }
        self._reuse_parse(vars_json)
        done = self._work(dbt=command[1:], env=env)
        result = subprocess.CompletedProcess(command, done["returncode"], done["stdout"], "")
        if result.returncode == 0:
            self._save_parse(vars_json)
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout[-6000:]}"
            )
        return result

    def build(
        self, *args: str, dbt_vars: dict[str, Any] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """`dbt build` of the data: models, seeds and data tests, not the unit tests (as the
        scheduled job, reporter/pipeline.py). Those
        read fixed inputs, never the warehouse's rows, and each engine's demo build runs
        every one of them (conftest's `_built_demo`); on any other data they would only
        repeat it (44 of them, 33 outside the tuning marts: 15-30 s a build on DuckDB,
        minutes on Spark)."""
        return self.dbt("build", *SCHEDULED_BUILD_ARGS, *args, dbt_vars=dbt_vars, check=check)

    def generate(self, spec: DemoSpec) -> dict[str, int]:
        return self.generate_raw(spec, self.raw_schema)

    def generate_raw(self, spec: DemoSpec, schema: str) -> dict[str, int]:
        """Demo raw tables in `schema` (the raw schema or a side schema of this run)."""
        if self.target == "spark":
            return self._work(generate=(spec, schema))["counts"]
        return generate(self.config, spec, schema)

    def query(self, sql: str) -> list[dict[str, Any]]:
        return self.query_many([sql])[0]

    def query_many(self, queries: list[str]) -> list[list[dict[str, Any]]]:
        """Several reads at once: on Spark, one process (one JVM start) for all of them."""
        if self.target == "spark":
            return self._work(queries=queries)["rows"]
        return [fetch_all(self.config, sql) for sql in queries]

    def mart_sql(self, name: str, order_by: str | None = None) -> str:
        order = f" order by {order_by}" if order_by else ""
        return f"select * from {self.schema}.{name}{order}"

    def mart(self, name: str, order_by: str | None = None) -> list[dict[str, Any]]:
        return self.query(self.mart_sql(name, order_by))

    def execute(self, *statements: str) -> None:
        if self.target == "spark":
            self._work(statements=list(statements))
            return
        with connect(self.config, read_only=False) as conn:
            cursor = conn.cursor()
            for statement in statements:
                cursor.execute(statement)

    def _work(self, **request: Any) -> dict[str, Any]:
        """dbt commands (and on Spark, all work) in the warehouse's long-lived process
        (dbt_worker.py), run in the warehouse's folder: the DuckDB profile's relative path
        is the warehouse's file. On Spark, the test process's one Spark process."""
        if self.target == "spark":
            root, process = _SPARK_ROOT, _shared_spark_process()
        else:
            root = self.root
            if self._worker is None or self._worker.poll() is not None:
                self._worker = _start_worker(root)
                # A warehouse a test forgot to drop stops its process when it is collected.
                weakref.finalize(self, _stop, self._worker)
            process = self._worker
        assert process.stdin is not None and process.stdout is not None
        request = {"target": self.target, "profiles_dir": str(self.profiles_dir), **request}
        (root / "worker_request.pkl").write_bytes(pickle.dumps(request))
        process.stdin.write("go\n")
        process.stdin.flush()
        ready, _, _ = select.select([process.stdout], [], [], self.command_timeout_s)
        answer = process.stdout.readline() if ready else ""
        if answer.strip() != "done":
            _stop(process)
            log = root / "worker.log"
            tail = log.read_text(errors="replace")[-6000:] if log.exists() else ""
            raise AssertionError(f"the warehouse's dbt process failed or timed out:\n{tail}")
        result = pickle.loads((root / "worker_result.pkl").read_bytes())
        if "error" in result:
            raise AssertionError(f"warehouse work failed:\n{result['error'][-6000:]}")
        return result

    def close(self) -> None:
        """Stop the warehouse's dbt process, if it has one (the shared Spark process stays
        up for the next Spark warehouse, and stops with the test process)."""
        process, self._worker = self._worker, None
        if process is not None:
            _stop(process)

    def drop(self) -> None:
        """Stop the warehouse's process and drop every schema this run created (PostgreSQL);
        DuckDB files go with tmp_path, Spark's with the test process's Spark folder."""
        self.close()
        if self.target != "postgres":
            return
        import psycopg2

        settings = postgres_settings()
        with psycopg2.connect(**{k: v for k, v in settings.items() if v != ""}) as conn:
            conn.autocommit = True
            cursor = conn.cursor()
            cursor.execute(
                "select nspname from pg_namespace where nspname like %s or nspname = %s",
                (self.schema + "%", self.raw_schema),
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f'drop schema if exists "{name}" cascade')


def _start_worker(root: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(DBT_WORKER), str(root)],
        cwd=root,
        env={**os.environ, "TZ": "UTC", "PYTHONPATH": str(PROJECT_DIR)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _shared_spark_process() -> subprocess.Popen:
    """This test process's Spark process, started on first use (again if it stopped)."""
    if not _spark_process or _spark_process[0].poll() is not None:
        if not _spark_process:
            atexit.register(_stop_shared_spark)
        _SPARK_ROOT.mkdir(exist_ok=True)
        _spark_process[:] = [_start_worker(_SPARK_ROOT)]
    return _spark_process[0]


def _stop_shared_spark() -> None:
    for process in _spark_process:
        _stop(process)
    shutil.rmtree(_SPARK_ROOT, ignore_errors=True)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    if process.stdin is not None:
        process.stdin.close()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def new_warehouse(
    target: str, root: Path, *, schema: str | None = None, **dbt_vars: Any
) -> TestWarehouse:
    """A fresh, empty warehouse: a DuckDB file of its own, or schemas with unique names. With
    `schema`, the warehouse of schemas that exist (another process's, as the shared demo)."""
    if schema is None:
        schema = DUCKDB_SCHEMA if target == "duckdb" else f"pytest_{uuid.uuid4().hex[:10]}"
    root.mkdir(parents=True, exist_ok=True)
    warehouse = TestWarehouse(
        target=target,
        root=root,
        schema=schema,
        raw_schema=f"{schema}_raw",
        dbt_vars=dbt_vars,
    )
    warehouse.write_profile()
    return warehouse


RAW_DDL = {
    "conversation_log": (
        "message_id varchar(64), conversation_id varchar(64), created_at timestamp, "
        "model_version varchar(64), user_message text, ai_response text"
    ),
    "conversation_evaluation": (
        "evaluation_id varchar(64), conversation_id varchar(64), message_id varchar(64), "
        "created_at timestamp, score double precision, accuracy double precision, "
        "consistency double precision, emotion_match double precision, "
        "evaluator varchar(64), model_version varchar(64)"
    ),
    "feedback_log": (
        "feedback_id varchar(64), conversation_id varchar(64), message_id varchar(64), "
        "created_at timestamp, feedback varchar(64), user_id varchar(64)"
    ),
}


def create_raw_tables(warehouse: TestWarehouse) -> None:
    """Empty raw tables with the contract's columns, for hand-written rows."""
    statements = [f"create schema if not exists {warehouse.raw_schema}"]
    for table, ddl in RAW_DDL.items():
        statements.append(f"drop table if exists {warehouse.raw_schema}.{table}")
        statements.append(f"create table {warehouse.raw_schema}.{table} ({ddl})")
    warehouse.execute(*statements)
