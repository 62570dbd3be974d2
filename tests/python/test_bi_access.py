"""BI tools' read-only role on PostgreSQL (var bi_reader_role, docs/bi_access.md).

Built with the var set, the role reads every mart and is refused on the raw tables and the
staging and intermediate views, which hold the conversation text. It is a login role with
a unique name, connecting as a BI tool does (trust auth on 127.0.0.1 here), and dropped
afterwards with the run's schemas.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator

import psycopg2
import psycopg2.errors
import pytest
from conftest import require_postgres
from warehouses import postgres_settings

from demo_data import DemoSpec

pytestmark = pytest.mark.postgres

SPEC = DemoSpec(weeks=2, rows_per_day=20, seed=5, end_date=dt.date(2026, 1, 7))


def superuser_connection():
    settings = postgres_settings()
    conn = psycopg2.connect(**{k: v for k, v in settings.items() if v != ""})
    conn.autocommit = True
    return conn


@pytest.fixture
def bi_role() -> Iterator[str]:
    """A login role of its own; its privileges and the role itself go afterwards."""
    require_postgres()
    role = f"pytest_bi_{uuid.uuid4().hex[:10]}"
    with superuser_connection() as conn:
        conn.cursor().execute(f"create role {role} login")
    yield role
    with superuser_connection() as conn:
        cursor = conn.cursor()
        cursor.execute(f"drop owned by {role}")  # its grants, in this database
        cursor.execute(f"drop role {role}")


def read_as(role: str, relation: str) -> str | None:
    """None when `role` can read the relation; otherwise PostgreSQL's refusal."""
    settings = {**postgres_settings(), "user": role, "password": ""}
    conn = psycopg2.connect(**{k: v for k, v in settings.items() if v != ""})
    try:
        conn.cursor().execute(f"select * from {relation} limit 1")
    except psycopg2.errors.InsufficientPrivilege as exc:
        return str(exc).strip()
    finally:
        conn.close()
    return None


def test_bi_reader_reads_the_marts_and_nothing_upstream(make_warehouse, bi_role) -> None:
    warehouse = make_warehouse("postgres", bi_reader_role=bi_role, as_of_date="2026-01-07")
    warehouse.generate(SPEC)
    warehouse.build()

    manifest = json.loads((warehouse.root / "target" / "manifest.json").read_text())
    models = [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]
    marts = [node["relation_name"] for node in models if node["path"].startswith("marts/")]
    upstream = [
        node["relation_name"]
        for node in models
        if node["path"].startswith(("staging/", "intermediate/"))
        and node["config"]["materialized"] != "ephemeral"
    ]
    raw = [source["relation_name"] for source in manifest["sources"].values()]
    assert len(marts) >= 9 and len(upstream) >= 3 and len(raw) == 3

    for relation in marts:
        assert read_as(bi_role, relation) is None, f"{bi_role} cannot read the mart {relation}"
    for relation in [*raw, *upstream]:
        refusal = read_as(bi_role, relation)
        assert refusal is not None, f"{bi_role} can read {relation}, which holds raw text"
        assert "permission denied" in refusal


def test_a_missing_role_fails_the_build(make_warehouse) -> None:
    """A var naming no role fails loudly, rather than leaving BI tools silently without access."""
    missing = f"pytest_no_such_role_{uuid.uuid4().hex[:10]}"
    warehouse = make_warehouse("postgres", bi_reader_role=missing, as_of_date="2026-01-07")
    warehouse.generate(SPEC)
    result = warehouse.build("-s", "+daily_feedback", check=False)
    assert result.returncode != 0
    assert f'role "{missing}" does not exist' in result.stdout
