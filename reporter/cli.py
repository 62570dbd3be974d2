"""The command line: thin wiring of reads, composition, rendering and delivery."""

from __future__ import annotations

import argparse
import sys

from reporter.dataset import add_export_arguments, run_export
from reporter.errors import DeliveryError, PipelineError, UserError
from reporter.warehouse import fetch_all, load_config

WEEKLY_COLUMNS = (
    ("week_label", "week", "{}"),
    ("eval_count", "evals", "{:,}"),
    ("avg_score", "avg score", "{:.2f}"),
    ("score_change_pct", "change %", "{:+.1f}"),
    ("like_count", "likes", "{:,}"),
    ("dislike_count", "dislikes", "{:,}"),
    ("like_ratio", "like ratio", "{:.1%}"),
    ("quarantined_count", "quarantined", "{:,}"),
    ("is_complete_week", "complete", "{}"),
)


def _add_warehouse_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", default=None, help="dbt target (env DBT_TARGET)")
    parser.add_argument("--profiles-dir", default=None, help="env DBT_PROFILES_DIR")


def _format_cell(value: object, pattern: str) -> str:
    return "n/a" if value is None else pattern.format(value)


def cmd_weekly(args: argparse.Namespace) -> int:
    """Print weekly_performance as a plain table."""
    config = load_config(args.target, args.profiles_dir)
    rows = fetch_all(
        config, f"select * from {config.relation('weekly_performance')} order by week_start"
    )
    if not rows:
        print("weekly_performance is empty: the raw tables hold no valid evaluation or reaction")
        return 0
    table = [[header for _, header, _ in WEEKLY_COLUMNS]]
    table += [[_format_cell(row[col], fmt) for col, _, fmt in WEEKLY_COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(WEEKLY_COLUMNS))]
    for line in table:
        print("  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)))
    return 0


def cmd_export_dataset(args: argparse.Namespace) -> int:
    """Write model-tuning JSONL files and their dataset card (see docs/dataset.md)."""
    return run_export(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ai-perf-report", description="AI performance marts, report and exports"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    weekly = commands.add_parser("weekly", help="print the weekly_performance mart")
    _add_warehouse_options(weekly)
    weekly.set_defaults(handler=cmd_weekly)
    export = commands.add_parser(
        "export-dataset", help="write model-tuning JSONL files and a dataset card"
    )
    add_export_arguments(export)
    _add_warehouse_options(export)
    export.set_defaults(handler=cmd_export_dataset)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (UserError, DeliveryError, PipelineError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
