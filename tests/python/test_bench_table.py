"""The benchmark's table (bench/run.py): every row of every engine in one table, each
engine's rows compared with its own smallest case, and the sizes each engine runs."""

from __future__ import annotations

import json
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


def raw_duckdb(path: Path) -> None:
    import duckdb

    with duckdb.connect(str(path)) as conn:
        conn.execute("create schema raw")
        conn.execute(
            "create table raw.conversation_evaluation as select"
            " timestamp '2026-01-05 10:00' + to_days(cast(i % 14 as integer)) as created_at,"
            " cast(i % 11 as double) as score from range(200) as t(i)"
        )
        conn.execute(
            "create table raw.feedback_log as select"
            " timestamp '2026-01-05 11:00' + to_days(cast(i % 14 as integer)) as created_at,"
            " case when i % 3 = 0 then 'dislike' else 'like' end as feedback"
            " from range(100) as t(i)"
        )


def test_the_pandas_baseline_reads_every_raw_row_when_they_fit(tmp_path, capsys):
    import pandas_baseline

    raw_duckdb(tmp_path / "warehouse.duckdb")
    assert pandas_baseline.main(str(tmp_path / "warehouse.duckdb"), "raw") == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["seconds"] > 0 and printed["weeks"] == 2


def test_the_pandas_baseline_does_not_start_when_the_raw_rows_would_not_fit(
    tmp_path, capsys, monkeypatch
):
    """At 100M evaluations the week-13 approach needs about 30 GB: it says so, and the bench
    shows no time for it, instead of the kernel killing a process of the machine."""
    import pandas_baseline

    raw_duckdb(tmp_path / "warehouse.duckdb")
    needed = 300 * pandas_baseline.BYTES_PER_ROW  # 200 evaluations and 100 reactions
    monkeypatch.setattr(pandas_baseline, "available_bytes", lambda: needed - 1)
    assert pandas_baseline.main(str(tmp_path / "warehouse.duckdb"), "raw") == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["seconds"] is None
    assert printed["skipped"].startswith("needs about 0 MB for 300 rows")
    row = bench.table([bench.Result(engine="duckdb", full_refresh_s=60.0)]).splitlines()[2]
    assert row.split("|")[17:20] == [" – ", " –× ", " – "]  # pandas s, ÷ pandas, peak MB
