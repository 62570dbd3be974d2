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
