"""The command line as a user meets it: one `error:` line naming the setting and the fix,
an exit code per kind of failure, and tables and exports that say what they hold."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from warehouses import create_raw_tables

from reporter.cli import main
from reporter.reads import read_quarantine, read_segments, read_weekly_performance
from reporter.warehouse import PROJECT_DIR


def run_cli(warehouse, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process, as a shell runs it."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REPORT_"))},
        "DO_NOT_TRACK": "1",
        **env,
    }
    command = [
        sys.executable,
        "-m",
        "reporter",
        *args,
        "--profiles-dir",
        str(warehouse.profiles_dir),
    ]
    return subprocess.run(
        command, cwd=PROJECT_DIR, env=environment, capture_output=True, text=True, timeout=300
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


# A small warehouse with hand-written rows: 2026-W01, an empty W02, W03 and W04, four to
# five evaluations a week. Model v9 is only ever rated by evaluator "solo", so the two
# segments hold the same rows; v1 is rated by "human" and "llm".
ROWS = {
    "2025-12-29": [("v1", "human", 7.0), ("v1", "human", 8.0), ("v1", "llm", 6.0)],
    "2026-01-12": [("v1", "human", 7.5), ("v1", "human", 8.5), ("v1", "llm", 6.5)],
    "2026-01-19": [("v1", "human", 9.0), ("v1", "llm", 9.5), ("v1", "human", 9.0)],
}
SOLO = {"2025-12-29": [5.0, 6.0], "2026-01-12": [5.5, 6.5], "2026-01-19": [8.0, 9.0]}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    from warehouses import new_warehouse

    warehouse = new_warehouse("duckdb", tmp_path_factory.mktemp("small"), as_of_date="2026-01-26")
    create_raw_tables(warehouse)
    values, reactions, number = [], [], 0
    for day, rows in ROWS.items():
        rated = rows + [("v9", "solo", score) for score in SOLO[day]]
        for model, evaluator, score in rated:
            number += 1
            values.append(
                f"('e{number}', 'c{number}', 'm{number}', '{day} 10:00:00', {score}, "
                f"null, null, null, '{evaluator}', '{model}')"
            )
            reactions.append(
                f"('f{number}', 'c{number}', 'm{number}', '{day} 11:00:00', 'like', 'u1')"
            )
    raw = warehouse.raw_schema
    warehouse.execute(
        f"insert into {raw}.conversation_evaluation values {', '.join(values)}",
        f"insert into {raw}.feedback_log values {', '.join(reactions)}",
        # Quarantined: an unknown label and a score out of range, in 2026-W04.
        f"insert into {raw}.feedback_log values "
        "('q1', 'c1', 'm1', '2026-01-20 09:00:00', 'meh', 'u2'), "
        "('q2', 'c1', 'm1', '2026-01-20 09:00:00', 'meh?', 'u3')",
        f"insert into {raw}.conversation_evaluation values "
        "('q3', 'c1', 'm1', '2026-01-20 09:00:00', 11.5, null, null, null, 'human', 'v1')",
    )
    warehouse.build()
    return warehouse


def test_the_mart_flags_an_evaluator_holding_exactly_a_model_versions_rows(small):
    weeks = read_weekly_performance(small.config)
    for week in weeks:
        if week.eval_count == 0:
            continue
        twins = {
            (s.segment_type, s.segment_value): s.same_rows_as_model_version
            for s in read_segments(small.config, week.week_start)
        }
        assert twins[("evaluator", "solo")] == "v9", week.week_label
        assert twins[("evaluator", "human")] is None and twins[("evaluator", "llm")] is None
        assert twins[("model_version", "v9")] is None


def test_an_empty_week_is_refused_with_exit_code_3(small):
    empty = run_cli(small, "preview", "--week", "2026-W02")
    assert empty.returncode == 3 and empty.stdout == ""
    assert "2026-W02 has no valid evaluation or reaction" in one_error_line(empty)
    unknown = run_cli(small, "preview", "--week", "2050-W01")
    assert unknown.returncode == 3
    assert "pass a --week from 2026-W01 to 2026-W04" in one_error_line(unknown)


def test_quarantined_rows_show_their_share_of_the_raw_rows_and_the_top_reasons(small):
    week = read_weekly_performance(small.config)[-1]
    figures = read_quarantine(small.config, week)
    # 2026-W04: 5 evaluations and 5 reactions counted, 3 rows quarantined.
    assert (figures.raw_row_count, figures.quarantined_count) == (13, 3)
    assert figures.quarantined_pct == pytest.approx(23.1)
    assert figures.top_reasons == (("unknown_feedback_label", 2), ("score_out_of_range", 1))
    preview = run_cli(small, "preview", "--lang", "en", "--week", "2026-W04")
    assert preview.returncode == 0, preview.stderr
    assert (
        "- Quarantined rows: 3 (23.1% of 13 raw rows) · top reasons: "
        "unknown_feedback_label 2, score_out_of_range 1"
    ) in preview.stdout.splitlines()


def test_weekly_marks_low_volume_and_shows_n_and_the_interval(small, capsys):
    assert main(["weekly", "--profiles-dir", str(small.profiles_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    week4 = next(line for line in lines if line.startswith("2026-W04"))
    weeks = read_weekly_performance(small.config)
    figures = weeks[-1]
    assert f"{figures.score_change_pct:+.1f} (low n)" in week4
    assert f"low volume (n={figures.eval_count}, prev n={figures.prev_eval_count})" in week4
    assert f"({figures.avg_score_ci_low:.2f}–{figures.avg_score_ci_high:.2f})" in week4
    assert f"100.0% (n={figures.feedback_count})" in week4
    reactions = f"reactions (n={figures.feedback_count}, prev n={figures.prev_feedback_count})"
    assert reactions in week4
    assert any("dbt var min_n" in line for line in lines)


def test_weekly_leaves_a_large_week_unmarked(demo_duckdb, capsys):
    assert main(["weekly", "--profiles-dir", str(demo_duckdb.profiles_dir)]) == 0
    out = capsys.readouterr().out
    complete = [w for w in read_weekly_performance(demo_duckdb.config) if w.is_complete_week]
    line = next(x for x in out.splitlines() if x.startswith(complete[-1].week_label))
    assert "low" not in line and f"(n={complete[-1].feedback_count:,})" in line


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (
            ["preview", "--as-of", "abc"],
            {},
            "--as-of (env REPORT_AS_OF) must be a date such as 2026-01-07, not 'abc'",
        ),
        (["preview"], {"REPORT_AS_OF": "yesterday"}, "not 'yesterday'"),
        (
            ["preview", "--week", "2026-W99"],
            {},
            "week 99 does not exist in 2026, whose ISO weeks are W01 to W53",
        ),
        (["weekly"], {"REPORT_MIN_N": "50"}, "REPORT_MIN_N is gone: the marts decide low volume"),
        (["weekly"], {"DBT_VARS": '{"min_n": "many"}'}, "dbt var min_n must be a whole number"),
    ],
)
def test_bad_options_are_one_line_naming_the_setting(demo_duckdb, args, env, expected):
    result = run_cli(demo_duckdb, *args, **env)
    assert result.returncode == 2
    assert expected in one_error_line(result)


def test_a_port_that_is_not_a_number_names_the_variable(tmp_path: Path):
    (tmp_path / "profiles.yml").write_text((PROJECT_DIR / "profiles.example.yml").read_text())
    env = {**os.environ, "PGPORT": "abc", "DBT_PROFILES_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "reporter", "weekly", "--target", "postgres"],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    line = one_error_line(result)
    assert "PGPORT='abc' is not a number" in line and "set PGPORT to a number" in line
    assert "Compilation Error" not in line


def test_a_broken_profiles_yml_says_where(tmp_path: Path, capsys):
    (tmp_path / "profiles.yml").write_text(
        "ai_performance:\n  target: dev\n  outputs:\n    dev: [\n"
    )
    assert main(["weekly", "--profiles-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {tmp_path / 'profiles.yml'} is not valid YAML (syntax error")
    assert "Runtime Error" not in err and len(err.splitlines()) == 1


def test_preview_into_a_closed_pipe_exits_quietly(demo_duckdb):
    env = {**os.environ, "DO_NOT_TRACK": "1"}
    env = {k: v for k, v in env.items() if not k.startswith(("SLACK_", "REPORT_"))}
    command = [sys.executable, "-m", "reporter", "preview"]
    command += ["--profiles-dir", str(demo_duckdb.profiles_dir)]
    process = subprocess.Popen(
        command, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    process.stdout.close()  # `| head` that has already left
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr


def test_export_into_an_existing_file_is_one_line(demo_duckdb, tmp_path: Path):
    target = tmp_path / "taken.txt"
    target.write_text("keep me")
    result = run_cli(demo_duckdb, "export-dataset", "--kind", "sft", "--out", str(target))
    assert result.returncode == 2
    assert f"--out {target} is a file, not a folder" in one_error_line(result)
    assert target.read_text() == "keep me"


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["--kind", "preference", "--since", "2026-03-01", "--until", "2026-03-31"], "from 2025-"),
        (["--kind", "sft", "--min-score", "11"], "best mean score of 10.0 (--min-score)"),
        (["--kind", "sft", "--model-version", "nope"], "chat-v1.0, chat-v1.1, chat-v2.0"),
    ],
)
def test_an_export_that_matches_nothing_says_what_exists(demo_duckdb, tmp_path, args, hint):
    out = tmp_path / "dataset"
    result = run_cli(demo_duckdb, "export-dataset", *args, "--out", str(out))
    assert result.returncode == 3 and result.stdout == ""
    line = one_error_line(result)
    assert "match" in line and hint in line
    assert not out.exists()  # no empty files that look like a dataset
