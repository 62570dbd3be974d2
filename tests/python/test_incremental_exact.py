"""The daily job equals a full refresh, for any arrival order (property-based).

Hypothesis draws a small, messy raw data set (copies of one evaluation or reaction on
different days, users who change their mind weeks later, rows without ids, timestamps or
valid labels, rows dated in 1970 or in the future) and an arrival order: the rows split
into batches in any order, some delivered again later. The daily job (`dbt build`, data
tests included) runs after every batch and must pass; at the end every incremental model
and every mart must equal what `dbt build --full-refresh` makes from the same raw data.

The raw tables are tried with and without the optional loaded_at column. A failing example
prints its batches: the arrival order that broke the promise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from conftest import require
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from incremental_support import (
    INCREMENTAL_MODELS,
    RAW_COLUMNS,
    assert_same_tables,
    create_raw_tables,
    daily_job,
    full_refresh,
    insert_rows,
    reset,
    snapshot,
)
from warehouses import new_warehouse

FIRST_DAY = dt.datetime(2026, 1, 5)  # a Monday; data spans ten days
AS_OF = "2026-02-23"
# Far enough ahead that a row stays in the future for the whole test run.
FUTURE = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0) + dt.timedelta(
    days=40
)
TOO_EARLY = dt.datetime(1970, 1, 1, 12)

EVALUATION_IDS = [f"e{i}" for i in range(8)]
FEEDBACK_IDS = [f"f{i}" for i in range(8)]
MESSAGES = [f"m{i}" for i in range(5)]
USERS = ["u0", "u1", "u2"]

timestamps = st.one_of(
    st.builds(
        lambda day, minute: FIRST_DAY + dt.timedelta(days=day, minutes=minute),
        st.integers(0, 9),
        st.integers(0, 3).map(lambda q: q * 360),
    ),
    st.sampled_from([None, TOO_EARLY, FUTURE]),
)

evaluations = st.fixed_dictionaries(
    {
        "evaluation_id": st.sampled_from([*EVALUATION_IDS, None, "  "]),
        "conversation_id": st.just("c1"),
        "message_id": st.sampled_from(MESSAGES),
        "created_at": timestamps,
        "score": st.one_of(st.integers(0, 10).map(float), st.sampled_from([None, 11.0])),
        "accuracy": st.one_of(st.none(), st.integers(0, 11).map(float)),
        "consistency": st.none(),
        "emotion_match": st.just(7.0),
        "evaluator": st.sampled_from(["human", "llm_judge"]),
        "model_version": st.sampled_from(["v1", "v2"]),
    }
)

reactions = st.fixed_dictionaries(
    {
        "feedback_id": st.sampled_from([*FEEDBACK_IDS, None]),
        "conversation_id": st.just("c1"),
        "message_id": st.sampled_from([*MESSAGES, None]),
        "created_at": timestamps,
        "feedback": st.sampled_from(["like", "dislike", " Thumbs_Up", "👎", "meh", None]),
        "user_id": st.sampled_from(USERS),
    }
)

messages = st.fixed_dictionaries(
    {
        "message_id": st.sampled_from(MESSAGES),
        "conversation_id": st.just("c1"),
        "created_at": timestamps,
        "model_version": st.sampled_from(["v1", "v2"]),
        "user_message": st.just("q"),
        "ai_response": st.just("a"),
    }
)


@dataclass(frozen=True)
class Arrival:
    """Raw rows in the batches they arrive in (a replayed row is in two batches)."""

    batches: tuple[dict[str, tuple[dict, ...]], ...]
    # A batch committed late with the first batch's loaded_at (0: none): what a watermark
    # alone would miss, and the count check must catch.
    stamped_as_first: int = 0

    def loaded_at(self, number: int) -> dt.datetime:
        stamp = 0 if number == self.stamped_as_first else number
        return dt.datetime(2026, 3, 1) + dt.timedelta(hours=stamp)

    def __repr__(self) -> str:
        lines = []
        for number, batch in enumerate(self.batches):
            restamped = number == self.stamped_as_first > 0
            stamp = " (stamped with batch 0's loaded_at)" if restamped else ""
            lines.append(f"batch {number}{stamp}:")
            for table, rows in batch.items():
                lines.extend(f"  {table}: {row}" for row in rows)
        return "\n".join(lines)


@st.composite
def arrivals(draw: st.DrawFn) -> Arrival:
    rows = {
        "conversation_evaluation": draw(st.lists(evaluations, min_size=1, max_size=16)),
        "feedback_log": draw(st.lists(reactions, min_size=1, max_size=16)),
        "conversation_log": draw(st.lists(messages, max_size=6)),
    }
    batch_count = draw(st.integers(2, 4))
    batches: list[dict[str, list[dict]]] = [{t: [] for t in rows} for _ in range(batch_count)]
    for table, table_rows in rows.items():
        for row in table_rows:
            first = draw(st.integers(0, batch_count - 1))
            batches[first][table].append(row)
            # At-least-once delivery: the same row again in a later batch.
            if first < batch_count - 1 and draw(st.integers(0, 5)) == 0:
                batches[draw(st.integers(first + 1, batch_count - 1))][table].append(row)
    stamped_as_first = draw(st.integers(0, batch_count - 1)) if draw(st.booleans()) else 0
    return Arrival(
        tuple({t: tuple(r) for t, r in batch.items()} for batch in batches), stamped_as_first
    )


def check_arrival(warehouse, arrival: Arrival, with_loaded_at: bool) -> None:
    note(f"with loaded_at: {with_loaded_at}\n{arrival!r}")
    reset(warehouse)
    create_raw_tables(warehouse, with_loaded_at=with_loaded_at)
    for number, batch in enumerate(arrival.batches):
        for table, rows in batch.items():
            insert_rows(
                warehouse, table, rows, arrival.loaded_at(number) if with_loaded_at else None
            )
        # Every data test after the last batch; the balance and key tests after each.
        daily_job(warehouse, every_test=number == len(arrival.batches) - 1)
    incremental = snapshot(warehouse)
    full_refresh(warehouse)
    assert_same_tables(incremental, snapshot(warehouse))


def property_test(target: str, examples: int, with_loaded_at: bool):
    """`examples` arrival orders on `target`, with the raw tables' loaded_at or without it
    (two tests rather than one drawn flag: the workers of `make test` run them side by side)."""

    @pytest.mark.slow
    @pytest.mark.timeout(3600)
    @settings(
        max_examples=examples,
        deadline=None,
        # Each example runs dbt several times: no shrinking, print the example as drawn.
        phases=(Phase.explicit, Phase.reuse, Phase.generate),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        derandomize=True,
        print_blob=True,
    )
    @given(arrival=arrivals())
    def test(tmp_path, arrival: Arrival) -> None:
        check_arrival(warehouse_for(target, tmp_path), arrival, with_loaded_at)

    return test


_warehouses: dict[str, object] = {}


def warehouse_for(target: str, tmp_path):
    """One warehouse per engine for all examples (each example resets it)."""
    require(target)
    if target not in _warehouses:
        warehouse = new_warehouse(target, tmp_path / "exact", as_of_date=AS_OF)
        warehouse.dbt("seed")
        _warehouses[target] = warehouse
    return _warehouses[target]


@pytest.fixture(scope="module", autouse=True)
def _drop_warehouses():
    yield
    for warehouse in _warehouses.values():
        warehouse.drop()
    _warehouses.clear()


test_any_arrival_order_equals_a_full_refresh_on_duckdb = property_test(
    "duckdb", examples=5, with_loaded_at=True
)
test_any_arrival_order_without_loaded_at_equals_a_full_refresh_on_duckdb = property_test(
    "duckdb", examples=4, with_loaded_at=False
)
test_any_arrival_order_equals_a_full_refresh_on_postgres = pytest.mark.postgres(
    property_test("postgres", examples=2, with_loaded_at=True)
)
test_any_arrival_order_without_loaded_at_equals_a_full_refresh_on_postgres = pytest.mark.postgres(
    property_test("postgres", examples=1, with_loaded_at=False)
)


def test_the_incremental_models_are_compared():
    """The comparison covers every incremental model: a new one must be added there."""
    from reporter.warehouse import PROJECT_DIR

    incremental = {
        path.stem
        for path in (PROJECT_DIR / "models").rglob("*.sql")
        if "incremental_by_day(" in path.read_text()
    }
    assert incremental == set(INCREMENTAL_MODELS)
    assert set(RAW_COLUMNS) == {"conversation_log", "conversation_evaluation", "feedback_log"}
