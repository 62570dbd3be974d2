"""The warehouse connection, built from the same dbt profile and target as `dbt build`.

One connection config for everything: dbt, the reporter, the dashboard and the demo
generator all read `profiles.yml` (``DBT_PROFILES_DIR``, default: the project directory)
and its target (``--target`` / ``DBT_TARGET``, default: the profile's own default).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reporter.errors import UserError

PROFILE_NAME = "ai_performance"
PROJECT_DIR = Path(__file__).resolve().parent.parent
SUPPORTED_TYPES = ("duckdb", "postgres", "spark")
# A DuckDB file is locked by the process that writes it (e.g. a running `dbt build`):
# readers retry for this long before giving up (env REPORT_DUCKDB_BUSY_SECONDS).
DUCKDB_BUSY_TIMEOUT_S = 30.0


def duckdb_busy_timeout_s() -> float:
    try:
        return float(os.environ.get("REPORT_DUCKDB_BUSY_SECONDS") or DUCKDB_BUSY_TIMEOUT_S)
    except ValueError:
        return DUCKDB_BUSY_TIMEOUT_S


@dataclass(frozen=True)
class WarehouseConfig:
    """What is needed to open the warehouse: the rendered dbt target."""

    type: str
    schema: str
    target_name: str
    path: str | None = None  # duckdb
    host: str | None = None  # postgres
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    dbname: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def relation(self, name: str, schema: str | None = None) -> str:
        """A schema-qualified table name for a mart (or another schema's table)."""
        return f"{identifier(schema or self.schema, 'schema')}.{identifier(name, 'table')}"


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def identifier(value: str, what: str = "schema") -> str:
    """A plain SQL identifier, checked before it is put into any SQL text."""
    if not _IDENTIFIER.match(value or ""):
        shown = re.sub(r"[\x00-\x1f\x7f]", "?", str(value))[:40]
        raise UserError(
            f"the {what} name {shown!r} is not a plain identifier (letters, digits and _, "
            "starting with a letter; check DBT_SCHEMA or the target's schema)"
        )
    return value


def profiles_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The folder of profiles.yml: argument, DBT_PROFILES_DIR, else the project folder."""
    return Path(explicit or os.environ.get("DBT_PROFILES_DIR") or PROJECT_DIR)


def load_config(
    target: str | None = None, profiles_dir_: str | os.PathLike[str] | None = None
) -> WarehouseConfig:
    """Render the dbt profile's target exactly as dbt does (env_var() included)."""
    # dbt's own reader and renderer, so profiles.yml means the same thing here as in dbt.
    from dbt.config.profile import read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context
    from dbt_common.exceptions import DbtBaseException

    set_invocation_context(os.environ)  # what env_var() reads

    folder = profiles_dir(profiles_dir_)
    if not (folder / "profiles.yml").exists():
        raise UserError(
            f"no profiles.yml in {folder}: copy profiles.example.yml there "
            "(`make profiles.yml`) or set DBT_PROFILES_DIR"
        )
    try:
        raw = read_profile(str(folder))
        profile = raw.get(PROFILE_NAME)
        if not profile:
            raise UserError(f"profiles.yml in {folder} has no profile named {PROFILE_NAME!r}")
        renderer = ProfileRenderer({})
        target_name = (
            target or os.environ.get("DBT_TARGET") or renderer.render_value(profile.get("target"))
        )
        outputs = profile.get("outputs") or {}
        if target_name not in outputs:
            raise UserError(
                f"target {target_name!r} is not in profile {PROFILE_NAME!r} "
                f"(it has: {', '.join(sorted(outputs)) or 'none'})"
            )
        rendered = renderer.render_data(outputs[target_name])
    except DbtBaseException as exc:
        raise UserError(profile_error(str(exc), folder / "profiles.yml")) from None
    kind = rendered.get("type")
    if kind not in SUPPORTED_TYPES:
        raise UserError(f"target {target_name!r} has type {kind!r}; supported: {SUPPORTED_TYPES}")
    path = rendered.get("path")
    if kind == "duckdb" and path and not os.path.isabs(path) and path != ":memory:":
        # dbt resolves a relative path against the working directory it runs in: the project.
        path = str(PROJECT_DIR / path) if not Path(path).exists() else str(Path(path).resolve())
    return WarehouseConfig(
        type=kind,
        schema=identifier(str(rendered.get("schema") or "main")),
        target_name=str(target_name),
        path=path,
        host=rendered.get("host"),
        port=int(rendered["port"]) if rendered.get("port") else None,
        user=rendered.get("user"),
        password=rendered.get("password") or rendered.get("pass"),
        dbname=rendered.get("dbname") or rendered.get("database"),
        extra={k: v for k, v in rendered.items() if k not in {"password", "pass"}},
    )


_GENERIC_LINES = {"compilation error", "runtime error", "raw error:"}


def profile_error(message: str, path: Path) -> str:
    """dbt's multi-line profile error as one line naming the setting and the fix."""
    lines = [line.strip() for line in message.splitlines()]
    details = [
        line
        for line in lines
        if line
        and line.lower() not in _GENERIC_LINES
        and not line.startswith("dbt encountered")
        and not set(line) <= {"-"}
        and not re.match(r"^\d+\s+\|", line)  # dbt's quoted YAML lines
    ]
    env = re.search(r"env_var\(\s*'([^']+)'", message)
    bad_value = re.search(r"Could not convert value '(.*)' into type '(\w+)'", message)
    if env and bad_value:
        name, value, kind = env.group(1), bad_value.group(1), bad_value.group(2)
        example = f" (e.g. {name}=5432)" if "PORT" in name.upper() else ""
        return (
            f"{name}={value!r} is not a {kind}, but {path} reads it as one: "
            f"set {name} to a {kind}{example} or unset it"
        )
    missing = re.search(r"Env var required but not provided: '([^']+)'", message)
    if missing:
        return (
            f"{path} needs the environment variable {missing.group(1)}: set it, "
            "or give env_var() a default in profiles.yml"
        )
    syntax = next((line for line in details if line.startswith("Syntax error")), None)
    if syntax:
        return (
            f"{path} is not valid YAML ({syntax[0].lower()}{syntax[1:]}): fix it, "
            "or start again from profiles.example.yml"
        )
    detail = details[0] if details else "dbt could not read it"
    return f"cannot read {path}: {detail}; compare it with profiles.example.yml"


def _open_duckdb(path: str, read_only: bool, timeout_s: float, options: dict[str, Any]):
    import duckdb

    # The profile's config_options (storage_compatibility_version) decide the format of a
    # file this creates, as dbt's would; a read-only open creates nothing and takes none, so
    # it never conflicts with a connection dbt-duckdb holds in this process.
    config = {} if read_only else {key: str(value) for key, value in options.items()}
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        try:
            return duckdb.connect(path, read_only=read_only, config=config)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                if "lock" in str(exc).lower():
                    raise UserError(
                        f"the DuckDB file {path} stayed busy for {timeout_s:.0f}s "
                        "(another process, such as dbt build, holds it)"
                    ) from None
                raise UserError(f"cannot open DuckDB file {path}: {exc}") from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


class _SparkCursor:
    """dbt-spark's session cursor, fresh for each statement: its own keeps old fetched rows."""

    def __init__(self, server_side_parameters: dict[str, Any]) -> None:
        self._parameters = server_side_parameters
        self._cursor: Any = None

    def execute(self, sql: str, *parameters: Any) -> None:
        from dbt.adapters.spark.session import Cursor

        self._cursor = Cursor(server_side_parameters=self._parameters)
        self._cursor.execute(sql, *parameters)

    @property
    def description(self) -> Any:
        return self._cursor.description

    def fetchall(self) -> list[Any]:
        return list(self._cursor.fetchall() or [])

    def fetchone(self) -> Any:
        return self._cursor.fetchone()


class _SparkSessionConnection:
    """dbt-spark's own session connection (the same SparkSession settings as dbt), closable.

    The SparkSession lives as long as the process: with the embedded Derby catalog only one
    process at a time can hold it, so open Spark from a short-lived process.
    """

    def __init__(self, server_side_parameters: dict[str, Any]) -> None:
        self._parameters = server_side_parameters

    def cursor(self) -> _SparkCursor:
        return _SparkCursor(self._parameters)

    def close(self) -> None:
        pass


def _open_spark(config: WarehouseConfig) -> _SparkSessionConnection:
    if config.extra.get("method") != "session":
        raise UserError(
            f"target {config.target_name!r}: Python opens Spark only with `method: session`"
        )
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise UserError("the spark target needs PySpark: pip install -e '.[spark]'") from None
    parameters = {k: str(v) for k, v in (config.extra.get("server_side_parameters") or {}).items()}
    return _SparkSessionConnection(parameters)


@contextmanager
def connect(
    config: WarehouseConfig, read_only: bool = True, busy_timeout_s: float | None = None
) -> Iterator[Any]:
    """A short-lived DB-API connection; closed (and the DuckDB file lock released) on exit."""
    busy_timeout_s = duckdb_busy_timeout_s() if busy_timeout_s is None else busy_timeout_s
    if config.type == "duckdb":
        if read_only and not Path(config.path or "").exists():
            raise UserError(f"no warehouse at {config.path}: run `make demo` or `dbt build` first")
        options = config.extra.get("config_options") or {}
        conn = _open_duckdb(str(config.path), read_only, busy_timeout_s, options)
    elif config.type == "postgres":
        import psycopg2

        try:
            conn = psycopg2.connect(
                host=config.host,
                port=config.port,
                user=config.user,
                password=config.password or None,
                dbname=config.dbname,
                connect_timeout=10,
            )
        except psycopg2.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
            raise UserError(
                f"cannot connect to PostgreSQL at {config.host}:{config.port}: {first}"
            ) from None
        if read_only:
            conn.set_session(readonly=True, autocommit=True)
    elif config.type == "spark":
        conn = _open_spark(config)
    else:
        raise UserError(f"cannot open a {config.type} warehouse from Python")
    try:
        yield conn
        if not read_only and config.type == "postgres":
            conn.commit()
    finally:
        conn.close()


def execute(
    cursor: Any,
    config: WarehouseConfig,
    sql: str,
    params: Sequence[Any] = (),
    what: str = "marts",
) -> None:
    """Run one statement written with `%s` placeholders, on any engine.

    DuckDB takes `?`; dbt-spark's cursor formats `%s` itself from positional arguments. A
    query on a relation that is not there says which schema to build, in one line.
    """
    sql = engine_placeholders(config, sql)
    try:
        if config.type == "spark":
            cursor.execute(sql, *params)
        else:
            cursor.execute(sql, list(params))
    except Exception as exc:
        error = missing_relation_error(config, exc, what)
        if error is not None:
            raise error from None
        raise


def streaming_cursor(conn: Any, config: WarehouseConfig, name: str, chunk_rows: int) -> Any:
    """A cursor for a result too large to hold: fetch it with fetchmany.

    PostgreSQL: a server-side (named) cursor, WITH HOLD as the read-only connection is in
    autocommit mode, so the server holds and sorts the result. DuckDB streams its result.
    """
    if config.type == "postgres":
        cursor = conn.cursor(name=name, withhold=True)
        cursor.itersize = chunk_rows
        return cursor
    return conn.cursor()


def cap_memory(conn: Any, config: WarehouseConfig, limit: str) -> None:
    """Cap DuckDB's memory (e.g. '2GB') so that large sorts spill to disk; other engines
    manage their own."""
    if config.type != "duckdb":
        return
    cursor = conn.cursor()
    cursor.execute(f"set memory_limit = '{limit}'")
    cursor.execute("set enable_progress_bar = false")
    cursor.close()


def database_location(config: WarehouseConfig) -> str:
    """Where the warehouse is, for a human: the DuckDB file, or host:port/database."""
    if config.type == "duckdb":
        return str(config.path)
    return f"{config.host}:{config.port}/{config.dbname}"


def duckdb_file(config: WarehouseConfig) -> str | None:
    """The DuckDB file of the target, when it is one and exists: what a writer must lock."""
    if config.type != "duckdb" or not config.path or config.path == ":memory:":
        return None
    return config.path if Path(config.path).exists() else None


def engine_placeholders(config: WarehouseConfig, sql: str) -> str:
    """SQL written with `%s` placeholders (psycopg2's and dbt-spark's style) for this engine."""
    return sql.replace("%s", "?") if config.type == "duckdb" else sql


# How each engine says a table or view is not there.
_MISSING_RELATION = ("does not exist", "Catalog Error", "TABLE_OR_VIEW_NOT_FOUND")


def missing_relation_error(
    config: WarehouseConfig, exc: Exception, what: str = "marts"
) -> UserError | None:
    """The user's error for a query on marts that were not built; None for anything else."""
    text = str(exc).strip()
    message = text.splitlines()[0] if text else type(exc).__name__
    if not any(marker in message for marker in _MISSING_RELATION):
        return None
    return UserError(
        f"the {what} are missing in schema {config.schema!r} "
        f"(run `dbt build --target {config.target_name}` first): {message}"
    )


def as_date(value: Any) -> dt.date | None:
    """A date column as a date, whichever type the engine's driver returns for it."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def fetch_all(
    config: WarehouseConfig, sql: str, params: Sequence[Any] | None = None
) -> list[dict[str, Any]]:
    """Run one read query and return its rows as dicts. Placeholders are `%s` on every engine."""
    with connect(config) as conn:
        cursor = conn.cursor()
        execute(cursor, config, sql, params or ())
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
