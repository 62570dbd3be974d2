"""The benchmark's table (bench/run.py): every row of every engine in one table, each
engine's rows compared with its own smallest case, and the sizes each engine runs."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import run as bench  # noqa: E402


def result(engine: str, evaluations: int, incremental_s: float) -> bench.Result:
    return bench.Result(
        engine=engine, evaluations=evaluations, full_models_daily_job_s=100.0,
        incremental_models_daily_job_s=incremental_s, full_refresh_peak_mb=512.0,
    )  # fmt: skip


def flatness(line: str) -> str:
    return line.split("|")[15].strip()


def test_each_engine_is_flat_against_its_own_smallest_case():
    lines = bench.table([
        result("duckdb", 1_000_000, 10.0), result("duckdb", 10_000_000, 12.0),
        result("postgres", 1_000_000, 40.0), result("postgres", 10_000_000, 100.0),
    ]).splitlines()  # fmt: skip
    assert [flatness(line) for line in lines[2:]] == ["1.00×", "1.20×", "1.00×", "2.50×"]


def test_the_full_refreshs_peak_memory_is_a_column():
    header, _, row = bench.table([result("spark", 1_000_000, 10.0)]).splitlines()
    assert "full refresh peak MB" in header
    assert header.count("|") == row.count("|")
    assert "| 512 |" in row


def test_sizes_are_listed_per_engine_and_zero_or_empty_skips_it():
    assert bench.sizes("postgres", "1000000,10000000") == [
        ("postgres", 1_000_000), ("postgres", 10_000_000),
    ]  # fmt: skip
    assert bench.sizes("spark", "0") == []
    assert bench.sizes("spark", "") == []
