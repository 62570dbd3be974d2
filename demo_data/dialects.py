"""The few SQL expressions in which the engines differ, for the demo generator only.

The product's models get their engine differences from `adapter.dispatch` macros; this
generator writes its SQL from Python, so it keeps its own small table of them.
"""

from __future__ import annotations

import datetime as dt


class Dialect:
    """The few expressions that differ between engines; everything else is shared SQL."""

    name = "default"

    def unit(self, row: str, seed: int, salt: int) -> str:
        """A uniform number in (0, 1) from a hash of (row, seed, salt)."""
        raise NotImplementedError

    def series(self, alias: str, column: str, start: int, stop: int) -> str:
        return f"generate_series({start}, {stop}) as {alias}({column})"

    def add_seconds(self, timestamp: str, seconds: str) -> str:
        raise NotImplementedError

    def timestamp(self, day: dt.date) -> str:
        return f"cast('{day.isoformat()} 00:00:00' as timestamp)"

    def at(self, moment: dt.datetime) -> str:
        return f"cast('{moment.isoformat(sep=' ')}' as timestamp)"

    def int_div(self, a: str, b: str) -> str:
        return f"cast(floor(({a}) / ({b})) as bigint)"

    def to_text(self, expr: str) -> str:
        return f"cast({expr} as varchar)"

    def raw_upkeep(self, schema: str, table: str) -> list[str]:
        """What a production team runs on a raw table once it is loaded, outside a
        transaction (nothing by default: DuckDB and Spark scan columns)."""
        return []

    # An 8-byte float.
    double = "double precision"


class DuckDBDialect(Dialect):
    name = "duckdb"

    def unit(self, row: str, seed: int, salt: int) -> str:
        return f"((hash({row}, {seed}, {salt}) % 1000000) + 0.5) / 1000000.0"

    def add_seconds(self, timestamp: str, seconds: str) -> str:
        return f"({timestamp} + to_seconds(cast({seconds} as bigint)))"


class PostgresDialect(Dialect):
    name = "postgres"

    def unit(self, row: str, seed: int, salt: int) -> str:
        hashed = f"hashint8extended(cast({row} as bigint), {seed * 1000 + salt})"
        return f"(((({hashed} % 1000000) + 1000000) % 1000000) + 0.5) / 1000000.0"

    def add_seconds(self, timestamp: str, seconds: str) -> str:
        return f"({timestamp} + cast({seconds} as bigint) * interval '1 second')"

    def int_div(self, a: str, b: str) -> str:
        return f"cast(floor(cast({a} as numeric) / ({b})) as bigint)"

    def raw_upkeep(self, schema: str, table: str) -> list[str]:
        """An index on loaded_at and on created_at: the daily job reads a table's highest
        loaded_at, counts its rows up to a watermark and finds what arrived by them, which
        PostgreSQL then reads from an index instead of scanning every row (docs/performance.md,
        "PostgreSQL settings"). VACUUM marks the pages all-visible, as autovacuum would, so
        that a count reads the index alone."""
        return [
            *[f"create index if not exists {table}_{column}_idx on {schema}.{table} ({column})"
              for column in ("loaded_at", "created_at")],
            f"vacuum analyze {schema}.{table}",
        ]  # fmt: skip


class SparkDialect(Dialect):
    name = "spark"
    double = "double"

    def unit(self, row: str, seed: int, salt: int) -> str:
        return f"(pmod(xxhash64({row}, {seed}, {salt}), 1000000) + 0.5) / 1000000.0"

    def series(self, alias: str, column: str, start: int, stop: int) -> str:
        return f"(select id as {column} from range({start}, {stop + 1})) as {alias}"

    def add_seconds(self, timestamp: str, seconds: str) -> str:
        return f"timestamp_seconds(unix_seconds({timestamp}) + cast({seconds} as bigint))"

    def to_text(self, expr: str) -> str:
        return f"cast({expr} as string)"


DIALECTS: dict[str, type[Dialect]] = {
    "duckdb": DuckDBDialect,
    "postgres": PostgresDialect,
    "spark": SparkDialect,
}
