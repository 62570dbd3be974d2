"""Demo data: the three raw tables, generated inside the warehouse with SQL.

Developer tooling beside the product package (`reporter`), which never imports it; the
one CLI runs it as `python -m reporter demo` (`make demo`).

Realistic enough to exercise every rule: several model versions, a slow improvement
trend with weekday seasonality, and a few percent of each messy case (duplicate
deliveries, NULLs, out-of-range scores, label spellings, unknown labels, users who
change their reaction); every row carries loaded_at, the demo's clock. Pseudo-random
numbers come from the engine's hash of (row, seed, purpose), so the same seed gives the
same data on every run.

- spec.py: what to generate (DemoSpec);
- content.py: what the rows say (questions, answers, label spellings);
- tables.py: the SQL of each raw table;
- dialects.py: the few expressions in which the engines differ.
"""

from __future__ import annotations

from demo_data.content import CONVERSATIONS
from demo_data.dialects import DIALECTS
from demo_data.spec import DemoSpec
from demo_data.tables import RAW_TABLES, build_statements
from reporter.errors import UserError
from reporter.warehouse import WarehouseConfig, connect

__all__ = ["CONVERSATIONS", "RAW_TABLES", "DemoSpec", "generate", "upkeep"]


def generate(config: WarehouseConfig, spec: DemoSpec, raw_schema: str = "raw") -> dict[str, int]:
    """Write the raw tables into the warehouse; returns the row count of each."""
    if spec.weeks < 1 or spec.rows_per_day < 1:
        raise UserError("--weeks and --rows-per-day must be at least 1")
    if not 0 <= spec.feedback_share <= 1:
        raise UserError("--feedback-share must be between 0 and 1")
    dialect_cls = DIALECTS.get(config.type)
    if dialect_cls is None:
        raise UserError(f"the demo generator does not support {config.type!r} targets")
    statements = build_statements(dialect_cls(), spec, raw_schema)
    counts: dict[str, int] = {}
    with connect(config, read_only=False) as conn:
        cursor = conn.cursor()
        for statement in statements:
            cursor.execute(statement)
        for table in RAW_TABLES:
            cursor.execute(f"select count(*) from {raw_schema}.{table}")
            counts[table] = int(cursor.fetchone()[0])
    upkeep(config, raw_schema)
    return counts


def upkeep(config: WarehouseConfig, raw_schema: str = "raw") -> None:
    """The engine's upkeep of loaded raw tables (PostgreSQL: their indexes and VACUUM), each
    statement on its own, outside a transaction."""
    statements = [
        statement
        for table in RAW_TABLES
        for statement in DIALECTS[config.type]().raw_upkeep(raw_schema, table)
    ]
    if not statements:
        return
    with connect(config, read_only=False) as conn:
        conn.autocommit = True
        cursor = conn.cursor()
        for statement in statements:
            cursor.execute(statement)
