"""The command line: thin wiring of reads, composition, rendering and delivery."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import signal
import sys
import threading
import traceback
from pathlib import Path

from reporter import settings
from reporter.dataset import KINDS, SPLITS, ExportOptions, export_dataset
from reporter.errors import DeliveryError, PipelineError, UserError
from reporter.reads import read_weekly_performance
from reporter.redact import one_line, redact
from reporter.report import Report, Trend, WeekFigures, previous_week
from reporter.settings import env, env_flag
from reporter.warehouse import load_config, profiles_dir

WEEKLY_HEADERS = (
    "week",
    "evals",
    "avg score (95% CI)",
    "change %",
    "likes",
    "dislikes",
    "like ratio (n)",
    "quarantined",
    "complete",
    "note",
)


def _add_warehouse_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", default=None, help="dbt target (env DBT_TARGET)")
    parser.add_argument("--profiles-dir", default=None, help="env DBT_PROFILES_DIR")


def _weekly_row(week: WeekFigures, previous: WeekFigures | None) -> list[str]:
    """One line of `reporter weekly`: the mart's numbers, with n, the interval and the
    marts' low-volume and significance flags, so no change reads as a trend."""
    report = Report(week, dt.datetime.now(dt.timezone.utc), previous)
    score = "n/a" if week.avg_score is None else f"{week.avg_score:.2f}"
    if week.avg_score_ci_low is not None and week.avg_score_ci_high is not None:
        score += f" ({week.avg_score_ci_low:.2f}–{week.avg_score_ci_high:.2f})"
    change = "n/a"
    if week.score_change_pct is not None and report.has_baseline:
        change = f"{week.score_change_pct:+.1f}"
        if report.trend is Trend.NOT_SIGNIFICANT:
            change += " (n.s.)"
        elif report.trend is Trend.LOW_VOLUME:
            change += " (low n)"
    ratio = "n/a" if week.like_ratio is None else f"{week.like_ratio:.1%}"
    ratio += f" (n={week.feedback_count:,})"
    notes = []
    if report.is_low_volume:
        notes.append(f"low volume (n={week.eval_count:,}, prev n={week.prev_eval_count:,})")
        notes.append(f"reactions (n={week.feedback_count:,}, prev n={week.prev_feedback_count:,})")
    if not week.is_complete_week:
        notes.append("partial week")
    return [
        week.week_label,
        f"{week.eval_count:,}",
        score,
        change,
        f"{week.like_count:,}",
        f"{week.dislike_count:,}",
        ratio,
        f"{week.quarantined_count:,}",
        "yes" if week.is_complete_week else "no",
        "; ".join(notes),
    ]


def cmd_weekly(args: argparse.Namespace) -> int:
    """Print weekly_performance as a plain table."""
    config = load_config(args.target, args.profiles_dir)
    weeks = read_weekly_performance(config)
    if not weeks:
        print("weekly_performance is empty: the raw tables hold no valid evaluation or reaction")
        return 0
    min_n = settings.min_n()
    rows = [_weekly_row(week, previous_week(weeks, week)) for week in weeks]
    table = [list(WEEKLY_HEADERS), *rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(WEEKLY_HEADERS))]
    for line in table:
        cells = [cell.rjust(width) for cell, width in zip(line[:-1], widths, strict=False)]
        print("  ".join([*cells, line[-1]]).rstrip())
    print(
        f"low volume: fewer than {min_n:,} evaluations or reactions this week or the week "
        "before (dbt var min_n, the marts' is_low_volume); n.s.: within what noise explains "
        "(Welch's t test)"
    )
    return 0


def _iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _add_demo_options(parser: argparse.ArgumentParser) -> None:
    """`reporter demo`: the generator is developer tooling (demo_data/, beside this package),
    and its spec holds the defaults."""
    from demo_data import DemoSpec

    for option, kind, default, what in (
        ("--weeks", int, DemoSpec.weeks, "ISO weeks of data"),
        ("--rows-per-day", int, DemoSpec.rows_per_day, "AI responses a day"),
        ("--seed", int, DemoSpec.seed, "the same seed gives the same rows"),
        ("--feedback-share", float, DemoSpec.feedback_share, "share of responses with a reaction"),
    ):
        parser.add_argument(
            option, type=kind, default=default, help=f"{what} (default %(default)s)"
        )
    parser.add_argument(
        "--end-date", type=_iso_date, help="last day with data (default: today, UTC)"
    )
    parser.add_argument(
        "--regression", help="inject a score change in the last week, e.g. chat-v2.0:-1.5"
    )
    parser.add_argument(
        "--flat",
        action="store_true",
        help="no trend and no model differences: week-over-week changes are only noise",
    )
    parser.add_argument("--raw-schema", default="raw", help="where the raw tables go")


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate demo raw tables in the warehouse (see `make demo`); one line saying how
    many rows of each."""
    from demo_data import DemoSpec, generate

    spec = DemoSpec(
        weeks=args.weeks,
        rows_per_day=args.rows_per_day,
        seed=args.seed,
        end_date=args.end_date,
        regression=args.regression,
        feedback_share=args.feedback_share,
        trend=not args.flat,
    )
    config = load_config(args.target, args.profiles_dir)
    counts = generate(config, spec, args.raw_schema)
    summary = ", ".join(f"{table} {count:,}" for table, count in counts.items())
    print(f"demo data in {config.target_name} ({args.raw_schema}): {summary}")
    return 0


def _add_export_options(parser: argparse.ArgumentParser) -> None:
    """The export-dataset options; each also reads an EXPORT_* environment variable."""
    parser.add_argument(
        "--kind",
        choices=KINDS,
        default=env("EXPORT_KIND"),
        help="sft: good responses as chat messages; preference: prompt/chosen/rejected pairs; "
        "disagreements: responses scored high but disliked or low but liked (env EXPORT_KIND)",
    )
    parser.add_argument(
        "--split",
        choices=(*SPLITS, "all"),
        default=env("EXPORT_SPLIT", "all"),
        help="which split to write; all writes one file per split (env EXPORT_SPLIT)",
    )
    for bound, which in (("since", "first"), ("until", "last")):
        parser.add_argument(
            f"--{bound}",
            type=_iso_date,
            default=env(f"EXPORT_{bound.upper()}"),
            help=f"{which} responded_date, inclusive (env EXPORT_{bound.upper()})",
        )
    parser.add_argument(
        "--model-version",
        action="append",
        default=None,
        help="keep only this model version; repeat for several (env EXPORT_MODEL_VERSION, "
        "comma-separated). Pairs need both responses from the listed versions",
    )
    parser.add_argument(
        "--min-score",
        type=float,
        default=env("EXPORT_MIN_SCORE"),
        help="minimum mean evaluation score (of the chosen response for pairs) "
        "(env EXPORT_MIN_SCORE)",
    )
    parser.add_argument(
        "--out",
        default=env("EXPORT_OUT", "out/dataset"),
        help="output folder, one per export (env EXPORT_OUT, default out/dataset)",
    )
    parser.add_argument(
        "--no-redact",
        dest="redact",
        action="store_false",
        default=env_flag("EXPORT_REDACT", default=True),
        help="keep e-mail addresses and phone numbers (masked by default; env EXPORT_REDACT)",
    )


def _export_options(args: argparse.Namespace) -> ExportOptions:
    if not args.kind:
        raise UserError(f"--kind is required: {', '.join(KINDS)} (or set EXPORT_KIND)")
    versions = args.model_version
    if versions is None and env("EXPORT_MODEL_VERSION"):
        versions = env("EXPORT_MODEL_VERSION").split(",")
    return ExportOptions(
        kind=args.kind,
        out_dir=Path(args.out),
        splits=SPLITS if args.split == "all" else (args.split,),
        since=args.since,
        until=args.until,
        model_versions=tuple(sorted({v.strip() for v in versions or [] if v.strip()})),
        min_score=args.min_score,
        redact=args.redact,
    )


def cmd_export_dataset(args: argparse.Namespace) -> int:
    """Write model-tuning JSONL files and their dataset card (see docs/dataset.md); then
    one line with the counts."""
    options = _export_options(args)
    result = export_dataset(load_config(args.target, args.profiles_dir), options)
    print(result.summary())
    return 0


def _as_of(value: str | dt.date | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(
            f"--as-of (env REPORT_AS_OF) must be a date such as 2026-01-07, not {value!r}"
        ) from None


def _add_report_options(parser: argparse.ArgumentParser) -> None:
    from reporter.service import DEFAULT_TIMEZONE

    parser.add_argument(
        "--week", default=env("REPORT_WEEK"), help="e.g. 2026-W01 (default: latest complete)"
    )
    parser.add_argument(
        "--as-of",
        default=env("REPORT_AS_OF"),
        help="report the latest week that ended before this date (env REPORT_AS_OF)",
    )
    parser.add_argument("--lang", default=env("REPORT_LANG", "ko"), help="ko or en (REPORT_LANG)")
    parser.add_argument("--dashboard-url", default=env("DASHBOARD_URL"), help="env DASHBOARD_URL")
    parser.add_argument(
        "--timezone",
        default=env("REPORT_DISPLAY_TZ", DEFAULT_TIMEZONE),
        help="time zone of the generated-at line (env REPORT_DISPLAY_TZ)",
    )
    parser.add_argument(
        "--alert-mention",
        default=env("SLACK_ALERT_MENTION"),
        help="mentioned once when a regression is significant: U123, S123 (a user group), "
        "here or channel (env SLACK_ALERT_MENTION)",
    )


def _add_send_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channel", default=env("SLACK_CHANNEL"), help="env SLACK_CHANNEL")
    parser.add_argument("--force", action="store_true", help="post again even if already sent")
    parser.add_argument(
        "--timeout",
        type=float,
        default=env("SLACK_TIMEOUT", "10"),
        help="seconds per Slack request (env SLACK_TIMEOUT)",
    )
    parser.add_argument(
        "--max-send-seconds",
        type=float,
        default=env("SLACK_MAX_SEND_SECONDS", "120"),
        help="total time for one message, retries included (env SLACK_MAX_SEND_SECONDS)",
    )


def _report_request(args: argparse.Namespace):
    from reporter.service import ReportRequest

    return ReportRequest(
        week=args.week,
        as_of=_as_of(args.as_of),
        lang=args.lang,
        dashboard_url=args.dashboard_url,
        timezone=args.timezone,
        alert_mention=args.alert_mention,
    ).validated()


def _policy(args: argparse.Namespace):
    from reporter.slack import RetryPolicy

    if not (args.timeout > 0 and args.max_send_seconds > 0):
        raise UserError("--timeout and --max-send-seconds must be positive numbers of seconds")
    return RetryPolicy(timeout_s=args.timeout, max_total_s=args.max_send_seconds)


def _say_out(text: str, err: bool = False) -> None:
    print(redact(text), file=sys.stderr if err else sys.stdout)


def _send(args: argparse.Namespace, request=None) -> int:
    from reporter.service import send_report
    from reporter.slack import destination_from_env

    request = request or _report_request(args)
    destination = destination_from_env(args.channel, _policy(args))
    config = load_config(args.target, args.profiles_dir)
    outcome = send_report(config, request, destination, force=args.force)
    if outcome.status == "sent" and outcome.slack_ts:
        _say_out(f"{outcome.summary} (ts {outcome.slack_ts})")
    elif outcome.status == "already_sent":
        _say_out(f"{outcome.summary} (--force sends it again)")
    else:
        _say_out(outcome.summary)
    if outcome.warning:
        _say_out(f"warning: {outcome.warning}", err=True)
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    """Print the report for a week without sending it."""
    from reporter.service import preview_report

    if args.format not in ("text", "json"):
        raise UserError(f"--format must be text or json, not {args.format!r}")
    request = _report_request(args)
    # As send would: a webhook cannot reply in a thread, so its movers are in the message.
    webhook_only = bool(env("SLACK_WEBHOOK_URL")) and not env("SLACK_BOT_TOKEN")
    preview = preview_report(
        load_config(args.target, args.profiles_dir), request, threaded=not webhook_only
    )
    if args.format == "json":
        print(preview.rendered.to_json())
    else:
        print(preview.rendered.text)
        if preview.rendered.thread is not None:
            print("--- thread reply ---")
            print(preview.rendered.thread.text)
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    """Post the report once per (week, channel)."""
    return _send(args)


def cmd_run(args: argparse.Namespace) -> int:
    """The scheduled job: dbt build, then send; a failed build sends no report."""
    from reporter.pipeline import require_build
    from reporter.service import notify_pipeline_failure
    from reporter.slack import destination_from_env

    request = _report_request(args)
    try:
        dbt_vars = json.loads(args.vars) if args.vars else {}
    except json.JSONDecodeError as exc:
        raise UserError(f"--vars is not JSON: {exc}") from None
    if not isinstance(dbt_vars, dict):
        raise UserError("--vars must be a JSON object")
    if request.as_of is not None:
        dbt_vars.setdefault("as_of_date", request.as_of.isoformat())
    destination = destination_from_env(args.channel, _policy(args))  # config errors first
    load_config(args.target, args.profiles_dir)  # the profile and its schema name, too
    try:
        require_build(args.target, profiles_dir(args.profiles_dir), dbt_vars, args.full_refresh)
    except PipelineError as exc:
        if not args.notify_on_failure:
            raise
        try:
            notify_pipeline_failure(destination, str(exc), request.lang)
        except DeliveryError as notice_error:
            raise PipelineError(f"{exc} (the failure notice failed too: {notice_error})") from None
        raise PipelineError(f"{exc} (notice posted to {destination.key})") from None
    return _send(args, dataclasses.replace(request, dbt_vars=dbt_vars))


def _add_preview_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", default=env("REPORT_FORMAT", "text"), help="text or json (Block Kit)"
    )


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--vars", default=env("DBT_VARS"), help="dbt --vars as JSON (env DBT_VARS)")
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        default=env_flag("DBT_FULL_REFRESH"),
        help="rebuild every model from raw (env DBT_FULL_REFRESH=1; after a change of "
        "report_timezone or the label map); the daily job needs it for nothing else",
    )
    parser.add_argument(
        "--notify-on-failure",
        action="store_true",
        default=env_flag("REPORT_NOTIFY_ON_FAILURE"),
        help="post a short 'data pipeline failed' notice (env REPORT_NOTIFY_ON_FAILURE=1)",
    )


# Each subcommand: its help, the options it takes besides --target and --profiles-dir,
# and what runs it.
SUBCOMMANDS = (
    ("weekly", "print the weekly_performance mart", (), cmd_weekly),
    (
        "demo",
        "generate demo raw data in the warehouse (developer tooling)",
        (_add_demo_options,),
        cmd_demo,
    ),
    (
        "export-dataset",
        "write model-tuning JSONL files and a dataset card",
        (_add_export_options,),
        cmd_export_dataset,
    ),
    (
        "preview",
        "print the report for a week; sends nothing",
        (_add_report_options, _add_preview_options),
        cmd_preview,
    ),
    (
        "send",
        "post the report to Slack, once per week and channel",
        (_add_report_options, _add_send_options),
        cmd_send,
    ),
    (
        "run",
        "the scheduled job: dbt build, then send",
        (_add_report_options, _add_send_options, _add_run_options),
        cmd_run,
    ),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ai-perf-report", description="AI performance marts, report and exports"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text, add_options, handler in SUBCOMMANDS:
        command = commands.add_parser(name, help=help_text)
        _add_warehouse_options(command)
        for add in add_options:
            add(command)
        command.set_defaults(handler=handler)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler stopping the job): handled like Ctrl-C, exit code 143."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated


def _say(message: str) -> None:
    """One redacted line on stderr; a closed stderr is not worth a traceback."""
    with contextlib.suppress(BrokenPipeError, ValueError):
        print(f"error: {one_line(message)}", file=sys.stderr, flush=True)


def _quiet_stdout() -> None:
    # After a broken pipe, Python flushes stdout once more at exit: point it at /dev/null.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        code = args.handler(args)
        sys.stdout.flush()
        return code
    except (UserError, DeliveryError, PipelineError) as exc:
        _say(str(exc))
        return exc.exit_code
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, Terminated)
        _say(
            ("terminated" if terminated else "interrupted")
            + "; a post in flight is recorded as unknown and the next run resolves it"
        )
        return 143 if terminated else 130
    except BrokenPipeError:
        _quiet_stdout()
        _say("the output was closed before everything was written (broken pipe)")
        return 141
    except OSError as exc:
        if exc.filename is None:
            raise
        _say(f"cannot write {exc.filename}: {exc.strerror or type(exc).__name__}")
        return 2


def main(argv: list[str] | None = None) -> int:
    """The CLI. Errors a user can cause are one line; a bug's traceback is printed redacted."""
    try:
        return _main(argv)
    except Exception:
        print(redact(traceback.format_exc()), file=sys.stderr)
        return 70  # EX_SOFTWARE: a bug, please report it
