"""The model-tuning dataset export: JSONL files a fine-tuning job reads, and their card.

Reads the `tuning_examples`, `preference_pairs` and `score_feedback_disagreements` marts
only; labels, pairs, disagreements and the train/eval split are decided in dbt. This module
filters, masks PII, streams rows in chunks and writes files whose bytes depend only on the
warehouse's rows and the options. Its command line is `reporter export-dataset`
(reporter/cli.py):

    python -m reporter export-dataset --kind sft --out out/dataset/sft
    python -m reporter export-dataset --kind preference --split train --out out/pairs
    python -m reporter export-dataset --kind disagreements --out out/dataset/review
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reporter.errors import NoDataError, UserError
from reporter.settings import env
from reporter.warehouse import (
    WarehouseConfig,
    as_date,
    cap_memory,
    connect,
    database_location,
    execute,
    streaming_cursor,
)

SPLITS = ("train", "eval")
CHUNK_ROWS = 5_000
# DuckDB's own memory for the export's sort; beyond it the sort spills to disk.
DUCKDB_MEMORY_LIMIT = "512MB"
CARD_JSON = "dataset_card.json"
CARD_MD = "dataset_card.md"

# ---------------------------------------------------------------------------
# PII redaction (pure)
# ---------------------------------------------------------------------------

EMAIL_MASK = "[EMAIL]"
PHONE_MASK = "[PHONE]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# A phone number never continues a longer run of digits or of hyphen-joined numbers
# (order ids, dates such as 2024-02-12): these guards keep those unmasked.
_BEFORE = r"(?<![\d+\-.])"
_AFTER = r"(?![\d]|[-.]\d)"
_SEP = r"[-. ]?"
# International: +<country code> then 7 to 14 more digits in groups (+1 415-555-0134,
# +82 10-1234-5678, +82-2-123-4567, +82 (0)10 1234 5678).
_INTERNATIONAL = re.compile(
    _BEFORE + r"\+[1-9]\d{0,2}(?:[-. ]?\(?\d{1,4}\)?){2,5}" + _AFTER,
)
# Korean domestic: mobile 010/011/016-019, Seoul 02, regions 031-064, 070 (VoIP), with
# hyphens, dots, spaces or nothing between the groups (010-1234-5678, 01012345678,
# 02-123-4567, 031 123 4567).
_KOREAN = re.compile(
    _BEFORE + r"(?:01[016789]|02|0[3-6][1-5]|070)" + _SEP + r"\d{3,4}" + _SEP + r"\d{4}" + _AFTER
)
# US/Canada domestic written with separators: (415) 555-0134, 415-555-0134.
_NORTH_AMERICAN = re.compile(_BEFORE + r"(?:\(\d{3}\)\s?|\d{3}[-. ])\d{3}[-. ]\d{4}" + _AFTER)


def _mask_international(match: re.Match[str]) -> str:
    digits = sum(char.isdigit() for char in match.group(0))
    return PHONE_MASK if 8 <= digits <= 15 else match.group(0)


def redact(text: str) -> str:
    """Mask e-mail addresses and phone numbers; ids, dates and amounts stay as they are."""
    text = _EMAIL.sub(EMAIL_MASK, text)
    text = _INTERNATIONAL.sub(_mask_international, text)
    text = _KOREAN.sub(PHONE_MASK, text)
    return _NORTH_AMERICAN.sub(PHONE_MASK, text)


def _keep(text: str) -> str:
    return text


# ---------------------------------------------------------------------------
# JSONL lines (pure)
# ---------------------------------------------------------------------------


def jsonl_line(record: dict[str, Any]) -> str:
    """One JSON object and a newline: UTF-8 text as is (Korean stays readable).

    U+2028/U+2029 are escaped: they are valid in JSON, but some readers split lines on them.
    """
    text = json.dumps(record, ensure_ascii=False, separators=(", ", ": "))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"


def sft_record(prompt: str, response: str, clean: Callable[[str], str] = redact) -> dict:
    """The chat format most trainers read (TRL, OpenAI, Axolotl): a user and an assistant turn."""
    return {
        "messages": [
            {"role": "user", "content": clean(prompt)},
            {"role": "assistant", "content": clean(response)},
        ]
    }


def preference_record(
    prompt: str, chosen: str, rejected: str, clean: Callable[[str], str] = redact
) -> dict:
    """The prompt / chosen / rejected format of DPO-style trainers."""
    return {"prompt": clean(prompt), "chosen": clean(chosen), "rejected": clean(rejected)}


def disagreement_record(row: dict[str, Any], clean: Callable[[str], str] = redact) -> dict:
    """A response its scores and its users disagree on, for review or unpaired preference
    training (TRL's KTO format: prompt, completion, label). The label is the users' verdict:
    true when they liked it (scored low but liked), false when they did not (scored high but
    disliked); the scores and reactions that disagree come with it."""
    return {
        "message_id": row["message_id"],
        "model_version": row["model_version"],
        "disagreement": row["disagreement"],
        "mean_score": float(row["mean_score"]),
        "like_count": int(row["like_count"]),
        "dislike_count": int(row["dislike_count"]),
        "prompt": clean(row["prompt"]),
        "completion": clean(row["response"]),
        "label": int(row["like_count"]) > int(row["dislike_count"]),
    }


# ---------------------------------------------------------------------------
# Kinds: the mart each reads and how its rows become records
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    name: str
    mart: str
    # The card's words: what a line holds, which rows are taken, what a row is called.
    description: str
    selection: str
    unit: str
    # The columns the filters use: --min-score, --model-version (every one must match).
    score_column: str
    score_name: str
    version_columns: tuple[str, ...]
    # The card counts rows per split and this column; `exported` is the value written
    # (None: every row is written).
    label_column: str
    exported: str | None
    # The export query's columns (split and responded_date first) and its total order.
    columns: str
    order_by: str
    record: Callable[[dict[str, Any], Callable[[str], str]], dict]

    def label_filter(self) -> str | None:
        return f"{self.label_column} = '{self.exported}'" if self.exported else None


KIND_TABLE: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            name="sft",
            mart="tuning_examples",
            description="chat messages",
            selection="tuning_examples with label = good",
            unit="good training examples",
            score_column="mean_score",
            score_name="mean score",
            version_columns=("model_version",),
            label_column="label",
            exported="good",
            columns="user_message as prompt, ai_response as response",
            order_by="message_id",
            record=lambda row, clean: sft_record(row["prompt"], row["response"], clean),
        ),
        Kind(
            name="preference",
            mart="preference_pairs",
            description="prompt/chosen/rejected",
            selection="preference_pairs (a good and a bad response to the same prompt)",
            unit="preference pairs",
            score_column="chosen_score",
            score_name="chosen response's score",
            # A pair belongs to a version when both of its responses do.
            version_columns=("chosen_model_version", "rejected_model_version"),
            label_column="'pair'",
            exported=None,
            columns="prompt, chosen, rejected",
            order_by="chosen_message_id, rejected_message_id",
            record=lambda row, clean: preference_record(
                row["prompt"], row["chosen"], row["rejected"], clean
            ),
        ),
        Kind(
            name="disagreements",
            mart="score_feedback_disagreements",
            description="prompt/completion/label with the scores and reactions",
            selection=(
                "score_feedback_disagreements (scored high but disliked, scored low but liked)"
            ),
            unit="disagreements",
            score_column="mean_score",
            score_name="mean score",
            version_columns=("model_version",),
            label_column="disagreement",
            exported=None,
            columns=(
                "message_id, model_version, disagreement, mean_score, like_count, "
                "dislike_count, user_message as prompt, ai_response as response"
            ),
            order_by="message_id",
            record=disagreement_record,
        ),
    )
}
KINDS = tuple(KIND_TABLE)


# ---------------------------------------------------------------------------
# Options and queries
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportOptions:
    kind: str
    out_dir: Path
    splits: tuple[str, ...] = SPLITS
    since: dt.date | None = None
    until: dt.date | None = None
    model_versions: tuple[str, ...] = ()
    min_score: float | None = None
    redact: bool = True
    chunk_rows: int = CHUNK_ROWS

    @property
    def spec(self) -> Kind:
        return KIND_TABLE[self.kind]

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise UserError(f"--kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if not self.splits or not set(self.splits) <= set(SPLITS):
            raise UserError(f"--split must be train, eval or all, not {','.join(self.splits)!r}")
        if self.since and self.until and self.since > self.until:
            raise UserError(f"--since {self.since} is after --until {self.until}")
        if self.chunk_rows < 1:
            raise UserError("the chunk size must be at least 1")

    def filters(self) -> dict[str, Any]:
        """The filters as they appear in the card."""
        return {
            "split": list(self.splits),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "model_version": list(self.model_versions) or None,
            "min_score": self.min_score,
            "redact_pii": self.redact,
        }


def file_name(kind: str, split: str) -> str:
    return f"{kind}_{split}.jsonl"


def _where(options: ExportOptions, include_label: bool) -> tuple[str, list[Any]]:
    """The WHERE clause shared by the export query and the card's counts."""
    kind = options.spec
    clauses: list[str] = []
    params: list[Any] = []
    label_filter = kind.label_filter()
    if include_label and label_filter:
        clauses.append(label_filter)
    clauses.append(f"split in ({', '.join(['%s'] * len(options.splits))})")
    params.extend(options.splits)
    if options.since:
        clauses.append("responded_date >= %s")
        params.append(options.since)
    if options.until:
        clauses.append("responded_date <= %s")
        params.append(options.until)
    if options.model_versions:
        marks = ", ".join(["%s"] * len(options.model_versions))
        for column in kind.version_columns:
            clauses.append(f"{column} in ({marks})")
            params.extend(options.model_versions)
    if options.min_score is not None:
        clauses.append(f"{kind.score_column} >= %s")
        params.append(options.min_score)
    return " and ".join(clauses), params


def export_query(config: WarehouseConfig, options: ExportOptions) -> tuple[str, list[Any]]:
    """The rows to write, in a total order (split, then the unique key): stable bytes."""
    kind = options.spec
    where, params = _where(options, include_label=True)
    sql = (
        f"select split, responded_date, {kind.columns} "
        f"from {config.relation(kind.mart)} where {where} "
        f"order by split, {kind.order_by}"
    )
    return sql, params


def label_count_query(config: WarehouseConfig, options: ExportOptions) -> tuple[str, list[Any]]:
    """Rows per split and label under the same filters (every label, not only the exported)."""
    kind = options.spec
    where, params = _where(options, include_label=False)
    sql = (
        f"select split, {kind.label_column} as label, count(*) as row_count "
        f"from {config.relation(kind.mart)} where {where} group by 1, 2 order by 1, 2"
    )
    return sql, params


def settings_query(config: WarehouseConfig) -> str:
    return f"select * from {config.relation('tuning_dataset_settings')}"


# ---------------------------------------------------------------------------
# Streaming reads
# ---------------------------------------------------------------------------


def limit_engine_memory(conn: Any, config: WarehouseConfig) -> None:
    """DuckDB sorts the ordered export in its own memory: cap it so large sorts spill to disk."""
    limit = env("EXPORT_DUCKDB_MEMORY_LIMIT", DUCKDB_MEMORY_LIMIT)
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", limit, flags=re.IGNORECASE):
        raise UserError(f"EXPORT_DUCKDB_MEMORY_LIMIT must be like 512MB or 2GB, not {limit!r}")
    cap_memory(conn, config, limit)


def stream_rows(
    conn: Any, config: WarehouseConfig, sql: str, params: Sequence[Any], chunk_rows: int
) -> Iterator[dict[str, Any]]:
    """Rows as dicts, fetched `chunk_rows` at a time: memory stays flat however many rows.

    PostgreSQL: a server-side (named) cursor, so the server holds and sorts the result;
    DuckDB: fetchmany on its streaming result (see limit_engine_memory for the sort).
    """
    cursor = streaming_cursor(conn, config, "dataset_export", chunk_rows)
    try:
        execute(cursor, config, sql, params, what="tuning marts")
    except BaseException:
        # A named cursor that failed to open cannot be closed on the server.
        with suppress(Exception):
            cursor.close()
        raise
    try:
        chunk = cursor.fetchmany(chunk_rows)
        # A named cursor describes its columns only after the first fetch.
        columns = [column[0] for column in cursor.description or ()]
        while chunk:
            for row in chunk:
                yield dict(zip(columns, row, strict=True))
            chunk = cursor.fetchmany(chunk_rows)
    finally:
        cursor.close()


def fetch_small(
    conn: Any, config: WarehouseConfig, sql: str, params: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    """A small result (the settings row, counts per split and label), read at once."""
    cursor = conn.cursor()
    try:
        execute(cursor, config, sql, params, what="tuning marts")
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    finally:
        cursor.close()


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


@dataclass
class SplitFile:
    split: str
    path: Path
    rows: int = 0
    first_date: dt.date | None = None
    last_date: dt.date | None = None
    sha256: str = ""


@dataclass
class ExportResult:
    options: ExportOptions
    files: dict[str, SplitFile]
    label_counts: dict[str, dict[str, int]]
    thresholds: dict[str, Any]
    source: dict[str, Any]
    card_paths: list[Path] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(item.rows for item in self.files.values())

    def summary(self) -> str:
        unit = self.options.spec.unit
        parts = ", ".join(f"{split} {item.rows:,}" for split, item in self.files.items())
        return f"{self.total_rows:,} {unit} ({parts}) in {self.options.out_dir}"


def build_lines(
    kind: str, rows: Iterable[dict[str, Any]], clean: Callable[[str], str]
) -> Iterator[tuple[dict[str, Any], str]]:
    """Each row with its JSONL line (pure, lazy)."""
    record = KIND_TABLE[kind].record
    for row in rows:
        yield row, jsonl_line(record(row, clean))


def _write_files(rows: Iterable[dict[str, Any]], options: ExportOptions) -> dict[str, SplitFile]:
    """Stream rows into one file per split, via temporary files renamed at the end."""
    files = {
        split: SplitFile(split, options.out_dir / file_name(options.kind, split))
        for split in options.splits
    }
    partial = {split: item.path.with_suffix(".jsonl.partial") for split, item in files.items()}
    digests = {split: hashlib.sha256() for split in files}
    clean = redact if options.redact else _keep
    try:
        with ExitStack() as stack:
            handles = {
                split: stack.enter_context(path.open("w", encoding="utf-8", newline="\n"))
                for split, path in partial.items()
            }
            for row, line in build_lines(options.kind, rows, clean):
                split = row["split"]
                item = files[split]
                handles[split].write(line)
                digests[split].update(line.encode("utf-8"))
                item.rows += 1
                day = as_date(row.get("responded_date"))
                if day is not None:
                    item.first_date = min(item.first_date or day, day)
                    item.last_date = max(item.last_date or day, day)
    except BaseException:
        for path in partial.values():
            path.unlink(missing_ok=True)
        raise
    for split, item in files.items():
        os.replace(partial[split], item.path)
        item.sha256 = digests[split].hexdigest()
    return files


def _source(config: WarehouseConfig) -> dict[str, Any]:
    return {
        "engine": config.type,
        "target": config.target_name,
        "database": database_location(config),
        "schema": config.schema,
    }


def card_json(result: ExportResult) -> str:
    """The card as JSON: everything a training run needs to cite what it used."""
    kind = result.options.spec
    first = [item.first_date for item in result.files.values() if item.first_date]
    last = [item.last_date for item in result.files.values() if item.last_date]
    card = {
        "dataset": f"{kind.name} ({kind.description})",
        "kind": kind.name,
        "source": result.source,
        "filters": result.options.filters(),
        "thresholds": result.thresholds,
        "selection": kind.selection,
        "date_range": {
            "first": min(first).isoformat() if first else None,
            "last": max(last).isoformat() if last else None,
        },
        "counts_by_split_and_label": result.label_counts,
        "files": [
            {"split": item.split, "file": item.path.name, "rows": item.rows, "sha256": item.sha256}
            for item in result.files.values()
        ],
    }
    return json.dumps(card, ensure_ascii=False, indent=2, default=str) + "\n"


def card_markdown(result: ExportResult) -> str:
    """The same card for people."""
    card = json.loads(card_json(result))
    lines = [
        f"# Dataset card: {card['dataset']}",
        "",
        f"- Source: {card['source']['engine']} target `{card['source']['target']}`, "
        f"schema `{card['source']['schema']}` ({card['source']['database']}), "
        f"marts `{'`, `'.join(card['source']['tables'])}`",
        f"- Selection: {card['selection']}",
        f"- Date range (responded_date): {card['date_range']['first'] or 'n/a'} to "
        f"{card['date_range']['last'] or 'n/a'}",
        "- Filters: "
        + ", ".join(f"{name} = {json.dumps(value)}" for name, value in card["filters"].items()),
        "- Thresholds (as the marts were built): "
        + ", ".join(f"{name} = {value}" for name, value in card["thresholds"].items()),
        "",
        "## Files",
        "",
        "| split | file | rows | sha256 |",
        "| --- | --- | ---: | --- |",
    ]
    lines += [
        f"| {item['split']} | {item['file']} | {item['rows']} | `{item['sha256']}` |"
        for item in card["files"]
    ]
    heading = {
        "sft": "Rows per split and label (all labels; the files hold the good ones)",
        "preference": "Pairs per split",
        "disagreements": "Responses per split and disagreement",
    }[card["kind"]]
    lines += ["", f"## {heading}", ""]
    lines += ["| split | label | rows |", "| --- | --- | ---: |"]
    for split, labels in card["counts_by_split_and_label"].items():
        lines += [f"| {split} | {label} | {count} |" for label, count in labels.items()]
    return "\n".join(lines) + "\n"


def available_query(config: WarehouseConfig, kind: Kind) -> tuple[str, str]:
    """What the mart holds for an export of this kind, whatever the filters: its date range
    and best score, and its model versions."""
    table = config.relation(kind.mart)
    label_filter = kind.label_filter()
    where = f"where {label_filter}" if label_filter else ""
    versions = " union ".join(
        f"select {column} as model_version from {table} {where}" for column in kind.version_columns
    )
    summary = (
        "select count(*) as row_count, min(responded_date) as first_date, "
        f"max(responded_date) as last_date, max({kind.score_column}) as best_score "
        f"from {table} {where}"
    )
    # distinct: a single version column has no union to drop the duplicates
    return summary, f"select distinct model_version from ({versions}) as versions order by 1"


def _option_text(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def nothing_matches(conn: Any, config: WarehouseConfig, options: ExportOptions) -> NoDataError:
    """The error for an export that matches nothing, saying what the mart does hold."""
    kind = options.spec
    unit, mart = kind.unit, kind.mart
    summary_sql, versions_sql = available_query(config, kind)
    summary = fetch_small(conn, config, summary_sql)[0]
    if not summary["row_count"]:
        return NoDataError(
            f"{mart} holds no {unit} at all: load more data and run `dbt build` "
            "(see the thresholds in docs/dataset.md)"
        )
    versions = [str(row["model_version"]) for row in fetch_small(conn, config, versions_sql)]
    score = kind.score_name
    asked = " ".join(
        f"--{name.replace('_', '-')} {_option_text(value)}"
        for name, value in options.filters().items()
        if value is not None and name != "redact_pii" and value != list(SPLITS)
    )
    return NoDataError(
        f"no {unit} match {asked or 'these options'}; {mart} has "
        f"{int(summary['row_count']):,} from {as_date(summary['first_date'])} to "
        f"{as_date(summary['last_date'])} (responded_date, for --since/--until), "
        f"model versions {', '.join(versions)} (--model-version), and a best "
        f"{score} of {float(summary['best_score']):.1f} (--min-score)"
    )


def _make_out_dir(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UserError(
            f"--out {out_dir} is a file, not a folder: pass a folder for the JSONL files "
            "and their card (env EXPORT_OUT)"
        ) from None
    except OSError as exc:
        raise UserError(
            f"cannot create the --out folder {out_dir}: {exc.strerror} (env EXPORT_OUT)"
        ) from None


def export_dataset(config: WarehouseConfig, options: ExportOptions) -> ExportResult:
    """Query, stream, write the JSONL files and the card; returns what was written.

    Raises NoDataError, writing nothing, when the filters match no row."""
    with connect(config) as conn:
        limit_engine_memory(conn, config)
        settings_rows = fetch_small(conn, config, settings_query(config))
        thresholds = settings_rows[0] if settings_rows else {}
        count_sql, count_params = label_count_query(config, options)
        label_counts: dict[str, dict[str, int]] = {split: {} for split in options.splits}
        for row in fetch_small(conn, config, count_sql, count_params):
            label_counts[row["split"]][row["label"]] = int(row["row_count"])
        exported = options.spec.exported
        if not any(
            labels.get(exported) if exported else sum(labels.values())
            for labels in label_counts.values()
        ):
            raise nothing_matches(conn, config, options)
        _make_out_dir(options.out_dir)
        sql, params = export_query(config, options)
        files = _write_files(stream_rows(conn, config, sql, params, options.chunk_rows), options)
    source = {**_source(config), "tables": [options.spec.mart, "tuning_dataset_settings"]}
    result = ExportResult(options, files, label_counts, thresholds, source)
    for name, text in ((CARD_JSON, card_json(result)), (CARD_MD, card_markdown(result))):
        path = options.out_dir / name
        path.write_text(text, encoding="utf-8")
        result.card_paths.append(path)
    # Files of this kind from an earlier run with another --split would be cited by nobody.
    for split in SPLITS:
        if split not in options.splits:
            (options.out_dir / file_name(options.kind, split)).unlink(missing_ok=True)
    return result
