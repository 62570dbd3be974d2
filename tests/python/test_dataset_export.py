"""The dataset export end to end: dbt-built demo warehouses on DuckDB and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from reporter.dataset import (
    ExportOptions,
    export_dataset,
    file_name,
    redact,
    stream_rows,
)
from reporter.warehouse import PROJECT_DIR, connect


def _lines(path: Path) -> list[dict[str, Any]]:
    text = path.read_bytes().decode("utf-8")
    return [json.loads(line) for line in text.splitlines()]


def _eval_bucket(conversation_id: str) -> bool:
    """The split rule, recomputed in Python from md5 (see macros/tuning.sql)."""
    digest = hashlib.md5(conversation_id.encode("utf-8")).hexdigest()
    return int(digest[:6], 16) < round(0.1 * 16**6)


def _export(warehouse, out: Path, **options: Any):
    return export_dataset(warehouse.config, ExportOptions(out_dir=out, **options))


def test_sft_export_holds_the_good_responses_and_a_true_card(demo_warehouse, tmp_path):
    result = _export(demo_warehouse, tmp_path, kind="sft")
    examples = demo_warehouse.mart("tuning_examples", "message_id")
    for split in ("train", "eval"):
        good = [row for row in examples if row["label"] == "good" and row["split"] == split]
        assert good, f"the demo yields good {split} examples"
        lines = _lines(tmp_path / file_name("sft", split))
        assert lines == [
            {
                "messages": [
                    {"role": "user", "content": redact(row["user_message"])},
                    {"role": "assistant", "content": redact(row["ai_response"])},
                ]
            }
            for row in good
        ]

    card = json.loads((tmp_path / "dataset_card.json").read_text(encoding="utf-8"))
    for entry in card["files"]:
        data = (tmp_path / entry["file"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["rows"] == data.count(b"\n")
    labels = Counter((row["split"], row["label"]) for row in examples)
    assert card["counts_by_split_and_label"] == {
        split: {label: labels[(split, label)] for label in sorted({"good", "bad", "neutral"})}
        for split in ("train", "eval")
    }
    assert card["thresholds"] == {
        "good_score": 8.0,
        "bad_score": 4.0,
        "max_pairs_per_response": 1,
        "eval_share": 0.1,
    }
    good_dates = [row["responded_date"] for row in examples if row["label"] == "good"]
    assert card["date_range"] == {
        "first": min(good_dates).isoformat(),
        "last": max(good_dates).isoformat(),
    }
    assert card["source"]["engine"] == demo_warehouse.target
    assert card["source"]["schema"] == demo_warehouse.schema
    markdown = (tmp_path / "dataset_card.md").read_text(encoding="utf-8")
    assert all(entry["sha256"] in markdown for entry in card["files"])
    assert result.total_rows == sum(labels[(split, "good")] for split in ("train", "eval"))


def test_split_is_by_conversation_and_the_same_md5_rule_on_every_engine(demo_warehouse):
    examples = demo_warehouse.mart("tuning_examples")
    splits_of: dict[str, set[str]] = defaultdict(set)
    for row in examples:
        splits_of[row["conversation_id"]].add(row["split"])
    assert all(len(splits) == 1 for splits in splits_of.values()), "a conversation spans splits"
    for conversation_id, splits in splits_of.items():
        expected = "eval" if _eval_bucket(conversation_id) else "train"
        assert splits == {expected}, conversation_id
    eval_share = sum("eval" in s for s in splits_of.values()) / len(splits_of)
    assert 0.05 < eval_share < 0.15

    split_of = {cid: next(iter(s)) for cid, s in splits_of.items()}
    pairs = demo_warehouse.mart("preference_pairs")
    assert pairs and all(pair["split"] == split_of[pair["conversation_id"]] for pair in pairs)


def test_preference_pairs_follow_the_pairing_rules(demo_warehouse):
    examples = {row["message_id"]: row for row in demo_warehouse.mart("tuning_examples")}
    pairs = demo_warehouse.mart("preference_pairs")
    assert len(pairs) > 10
    chosen_uses = Counter(pair["chosen_message_id"] for pair in pairs)
    rejected_uses = Counter(pair["rejected_message_id"] for pair in pairs)
    assert max(chosen_uses.values()) == 1 and max(rejected_uses.values()) == 1
    for pair in pairs:
        chosen = examples[pair["chosen_message_id"]]
        rejected = examples[pair["rejected_message_id"]]
        assert (chosen["label"], rejected["label"]) == ("good", "bad")
        assert chosen["conversation_id"] == rejected["conversation_id"] == pair["conversation_id"]
        assert chosen["user_message"] == rejected["user_message"] == pair["prompt"]
        assert pair["chosen"] == chosen["ai_response"]
        assert pair["rejected"] == rejected["ai_response"]
        assert pair["chosen"] != pair["rejected"]
        assert pair["rejected_score"] is None or pair["chosen_score"] > pair["rejected_score"]
    # With a cap of 1 the band pairs the n-th best good with the n-th worst bad answer, so a
    # good and a bad answer both left unpaired never share a rank unless they cannot pair.
    used = set(chosen_uses) | set(rejected_uses)
    by_prompt: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in examples.values():
        by_prompt[(row["conversation_id"], row["user_message"])].append(row)
    for rows in by_prompt.values():
        goods = sorted(
            (r for r in rows if r["label"] == "good"),
            key=lambda r: (-r["mean_score"], r["message_id"]),
        )
        bads = sorted(
            (r for r in rows if r["label"] == "bad"),
            key=lambda r: (4.0 if r["mean_score"] is None else r["mean_score"], r["message_id"]),
        )
        for good, bad in zip(goods, bads, strict=False):
            compatible = good["ai_response"] != bad["ai_response"] and (
                bad["mean_score"] is None or good["mean_score"] > bad["mean_score"]
            )
            paired = good["message_id"] in used and bad["message_id"] in used
            assert paired == compatible, (good["message_id"], bad["message_id"])


def test_preference_export_writes_the_pairs_in_key_order(demo_warehouse, tmp_path):
    _export(demo_warehouse, tmp_path, kind="preference")
    pairs = demo_warehouse.mart("preference_pairs", "chosen_message_id, rejected_message_id")
    for split in ("train", "eval"):
        expected = [
            {
                "prompt": redact(pair["prompt"]),
                "chosen": redact(pair["chosen"]),
                "rejected": redact(pair["rejected"]),
            }
            for pair in pairs
            if pair["split"] == split
        ]
        assert _lines(tmp_path / file_name("preference", split)) == expected
    assert not (tmp_path / "sft_train.jsonl").exists()


def test_disagreement_export_holds_each_disagreement_with_the_users_verdict(
    demo_warehouse, tmp_path
):
    result = _export(demo_warehouse, tmp_path, kind="disagreements")
    rows = demo_warehouse.mart("score_feedback_disagreements", "message_id")
    assert rows, "the demo data has disagreements to review"
    for split in ("train", "eval"):
        expected = [
            {
                "message_id": row["message_id"],
                "model_version": row["model_version"],
                "disagreement": row["disagreement"],
                "mean_score": row["mean_score"],
                "like_count": row["like_count"],
                "dislike_count": row["dislike_count"],
                "prompt": redact(row["user_message"]),
                "completion": redact(row["ai_response"]),
                # The users' verdict: liked when scored low but liked.
                "label": row["disagreement"] == "low_score_liked",
            }
            for row in rows
            if row["split"] == split
        ]
        assert _lines(tmp_path / file_name("disagreements", split)) == expected
    counts = Counter((row["split"], row["disagreement"]) for row in rows)
    card = json.loads((tmp_path / "dataset_card.json").read_text(encoding="utf-8"))
    assert card["kind"] == "disagreements"
    assert card["source"]["tables"] == ["score_feedback_disagreements", "tuning_dataset_settings"]
    assert {
        (split, label): count
        for split, labels in card["counts_by_split_and_label"].items()
        for label, count in labels.items()
    } == counts
    assert result.total_rows == len(rows)


@pytest.mark.parametrize("kind", ["sft", "preference", "disagreements"])
def test_re_running_the_export_gives_identical_bytes(demo_warehouse, tmp_path, kind):
    first, second = tmp_path / "first", tmp_path / "second"
    _export(demo_warehouse, first, kind=kind)
    # Another chunk size changes how rows travel, never what is written.
    _export(demo_warehouse, second, kind=kind, chunk_rows=7)
    names = sorted(path.name for path in first.iterdir())
    assert names == sorted(path.name for path in second.iterdir())
    assert len(names) == 4  # two splits and the card in JSON and Markdown
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_filters_select_by_date_version_score_and_split(demo_warehouse, tmp_path):
    examples = demo_warehouse.mart("tuning_examples")
    good = [row for row in examples if row["label"] == "good"]
    dates = sorted({row["responded_date"] for row in good})
    since, until = dates[len(dates) // 4], dates[-3]
    in_range = [row for row in good if since <= row["responded_date"] <= until]
    version = Counter(row["model_version"] for row in in_range).most_common(1)[0][0]
    result = _export(
        demo_warehouse,
        tmp_path,
        kind="sft",
        splits=("train",),
        since=since,
        until=until,
        model_versions=(version,),
        min_score=8.5,
    )
    expected = [
        row
        for row in good
        if row["split"] == "train"
        and since <= row["responded_date"] <= until
        and row["model_version"] == version
        and row["mean_score"] >= 8.5
    ]
    assert expected, "the filters should leave some rows in the demo"
    assert len(expected) < len([row for row in good if row["split"] == "train"])
    assert result.files["train"].rows == len(expected)
    assert [path.name for path in sorted(tmp_path.glob("*.jsonl"))] == ["sft_train.jsonl"]
    card = json.loads((tmp_path / "dataset_card.json").read_text(encoding="utf-8"))
    assert card["filters"] == {
        "split": ["train"],
        "since": since.isoformat(),
        "until": until.isoformat(),
        "model_version": [version],
        "min_score": 8.5,
        "redact_pii": True,
    }
    assert since.isoformat() <= card["date_range"]["first"] <= card["date_range"]["last"]
    assert card["date_range"]["last"] <= until.isoformat()


def test_a_narrower_split_removes_the_stale_file_of_an_earlier_run(demo_duckdb, tmp_path):
    _export(demo_duckdb, tmp_path, kind="preference")
    assert (tmp_path / "preference_eval.jsonl").exists()
    _export(demo_duckdb, tmp_path, kind="preference", splits=("train",))
    assert not (tmp_path / "preference_eval.jsonl").exists()
    assert (tmp_path / "preference_train.jsonl").exists()


def test_pii_is_masked_by_default_and_kept_with_no_redact(demo_duckdb, tmp_path):
    raw_pii = ("010-1234-5678", "minsu.kim@example.com", "+1 415-555-0134")
    _export(demo_duckdb, tmp_path / "masked", kind="sft")
    masked = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "masked").glob("*.jsonl"))
    assert not any(value in masked for value in raw_pii)
    assert "[PHONE]" in masked and "[EMAIL]" in masked
    assert "주문한 상품이 언제 도착하나요?" in masked  # Korean as is, no \u escapes

    _export(demo_duckdb, tmp_path / "raw", kind="sft", redact=False)
    raw = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "raw").glob("*.jsonl"))
    assert all(value in raw for value in raw_pii)
    assert "[PHONE]" not in raw


class _RecordingCursor:
    """The real cursor, with a note of how rows were fetched."""

    def __init__(self, cursor, calls: list[tuple[str, int]]):
        self._cursor, self._calls = cursor, calls

    def fetchmany(self, size: int):
        rows = self._cursor.fetchmany(size)
        self._calls.append(("fetchmany", len(rows)))
        return rows

    def fetchall(self):
        self._calls.append(("fetchall", -1))
        return self._cursor.fetchall()

    def __getattr__(self, name: str):
        return getattr(self._cursor, name)


class _RecordingConnection:
    def __init__(self, conn):
        self._conn, self.calls, self.cursor_kwargs = conn, [], []

    def cursor(self, *args, **kwargs):
        self.cursor_kwargs.append(kwargs)
        return _RecordingCursor(self._conn.cursor(*args, **kwargs), self.calls)


def test_rows_stream_in_chunks_without_reading_the_whole_result(demo_warehouse):
    config = demo_warehouse.config
    sql = f"select message_id from {config.relation('tuning_examples')} order by message_id"
    with connect(config) as conn:
        recording = _RecordingConnection(conn)
        rows = stream_rows(recording, config, sql, [], chunk_rows=25)
        first = next(rows)
        assert recording.calls == [("fetchmany", 25)]  # one chunk read, not the result
        rest = list(rows)
    total = len(demo_warehouse.mart("tuning_examples"))
    assert 1 + len(rest) == total > 100
    assert all(call == "fetchmany" and count <= 25 for call, count in recording.calls)
    assert [first["message_id"], *[r["message_id"] for r in rest]] == sorted(
        r["message_id"] for r in demo_warehouse.query(sql)
    )
    if config.type == "postgres":
        # A server-side cursor: the server keeps the result, the client one chunk.
        assert recording.cursor_kwargs[0].get("name")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reporter", "export-dataset", *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_exports_and_reports_counts(demo_duckdb, tmp_path):
    warehouse = ["--target", "duckdb", "--profiles-dir", str(demo_duckdb.profiles_dir)]
    done = _cli("--kind", "preference", "--out", str(tmp_path), *warehouse)
    assert done.returncode == 0, done.stderr
    pairs = len(demo_duckdb.mart("preference_pairs"))
    assert done.stdout.startswith(f"{pairs:,} preference pairs (train ")
    assert (tmp_path / "dataset_card.md").exists()

    bad = _cli("--kind", "sft", "--since", "2026-02-01", "--until", "2026-01-01", *warehouse)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: --since 2026-02-01 is after --until 2026-01-01"
    missing = _cli("--out", str(tmp_path), *warehouse, "--kind", "sft", "--split", "dev")
    assert missing.returncode == 2 and "invalid choice" in missing.stderr


REFUND = "환불 절차를 알려주세요. 010-1234-5678"
HAND_LOG = [
    # message, conversation, model, prompt, response
    ("m1", "c1", "chat-v1.0", REFUND, "마이페이지에서 신청하세요."),
    ("m2", "c1", "chat-v1.0", REFUND, "모르겠어요."),
    ("m3", "c1", "chat-v2.0", REFUND, "a@b.com 으로 문의하세요."),
    ("m4", "c1", "chat-v1.0", "배송 언제 와요?", "내일 도착합니다."),
    ("m5", "c3", "chat-v1.0", "Call +1 415-555-0134", "Sure."),
    ("m6", "c3", "chat-v1.0", "Call +1 415-555-0134", "No."),
    ("m7", "c3", "chat-v1.0", "Call +1 415-555-0134", "Maybe."),
    ("m8", "c3", "chat-v1.0", None, "Hello."),
]
HAND_SCORES = [("m1", 9.0), ("m2", 2.0), ("m3", 9.5), ("m3", 9.5), ("m5", 8.0), ("m7", 9.0)]
HAND_REACTIONS = [
    ("m4", "like", "u1"),
    ("m6", "dislike", "u1"),
    ("m7", "dislike", "u1"),
    ("m7", "dislike", "u2"),
    ("m7", "like", "u3"),
]


def _quote(value: Any) -> str:
    return "null" if value is None else "'" + str(value).replace("'", "''") + "'"


@pytest.mark.parametrize("target", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_hand_written_rows_give_exactly_the_expected_files(make_warehouse, tmp_path, target):
    """c1 (md5 bucket 0.66) is train, c3 (0.04) is eval; every rule shows in the bytes."""
    from warehouses import create_raw_tables

    warehouse = make_warehouse(target)
    create_raw_tables(warehouse)
    raw, at = warehouse.raw_schema, "cast('2026-01-05 10:00:00' as timestamp)"
    statements = [
        f"insert into {raw}.conversation_log values ({_quote(m)}, {_quote(c)}, {at}, "
        f"{_quote(v)}, {_quote(p)}, {_quote(r)})"
        for m, c, v, p, r in [*HAND_LOG, HAND_LOG[0]]  # m1 is delivered twice
    ]
    statements += [
        f"insert into {raw}.conversation_evaluation values ('e{i}', 'c', {_quote(m)}, {at}, "
        f"{score}, null, null, null, 'human', 'chat-v1.0')"
        for i, (m, score) in enumerate(HAND_SCORES)
    ]
    statements += [
        f"insert into {raw}.feedback_log values ('f{i}', 'c', {_quote(m)}, {at}, "
        f"{_quote(label)}, {_quote(user)})"
        for i, (m, label, user) in enumerate(HAND_REACTIONS)
    ]
    warehouse.execute(*statements)
    warehouse.dbt(
        "build",
        "--select",
        "+tuning_examples +preference_pairs +score_feedback_disagreements tuning_dataset_settings",
        "--exclude",
        "test_type:unit",
        "test_type:singular",  # checks on marts this selection does not build
    )
    labels = {row["message_id"]: row["label"] for row in warehouse.mart("tuning_examples")}
    assert labels == {
        "m1": "good",
        "m2": "bad",
        "m3": "good",
        "m4": "neutral",
        "m5": "good",
        "m6": "bad",
        "m7": "bad",
    }

    sft, pairs = tmp_path / "sft", tmp_path / "pairs"
    _export(warehouse, sft, kind="sft")
    _export(warehouse, pairs, kind="preference")
    prompt_c1 = "환불 절차를 알려주세요. [PHONE]"
    assert (sft / "sft_train.jsonl").read_text(encoding="utf-8") == (
        '{"messages": [{"role": "user", "content": "' + prompt_c1 + '"}, '
        '{"role": "assistant", "content": "마이페이지에서 신청하세요."}]}\n'
        '{"messages": [{"role": "user", "content": "' + prompt_c1 + '"}, '
        '{"role": "assistant", "content": "[EMAIL] 으로 문의하세요."}]}\n'
    )
    assert (sft / "sft_eval.jsonl").read_text(encoding="utf-8") == (
        '{"messages": [{"role": "user", "content": "Call [PHONE]"}, '
        '{"role": "assistant", "content": "Sure."}]}\n'
    )
    # c1: the best good (m3) meets the only bad (m2); m1 stays unpaired (cap 1).
    assert (pairs / "preference_train.jsonl").read_text(encoding="utf-8") == (
        '{"prompt": "' + prompt_c1 + '", "chosen": "[EMAIL] 으로 문의하세요.", '
        '"rejected": "모르겠어요."}\n'
    )
    # c3: m6 (disliked, no score) ranks before m7 (disliked, scored 9 > 8), so m5 pairs with m6.
    assert (pairs / "preference_eval.jsonl").read_text(encoding="utf-8") == (
        '{"prompt": "Call [PHONE]", "chosen": "Sure.", "rejected": "No."}\n'
    )

    # m7: scored 9 but disliked by two of three users; its prompt's phone number is masked.
    review = tmp_path / "review"
    _export(warehouse, review, kind="disagreements")
    assert (review / "disagreements_train.jsonl").read_bytes() == b""
    assert (review / "disagreements_eval.jsonl").read_text(encoding="utf-8") == (
        '{"message_id": "m7", "model_version": "chat-v1.0", '
        '"disagreement": "high_score_disliked", "mean_score": 9.0, "like_count": 1, '
        '"dislike_count": 2, "prompt": "Call [PHONE]", "completion": "Maybe.", "label": false}\n'
    )

    only_v1 = tmp_path / "v1"
    _export(warehouse, only_v1, kind="preference", model_versions=("chat-v1.0",))
    assert (only_v1 / "preference_train.jsonl").read_bytes() == b""  # m3 is chat-v2.0
    assert (only_v1 / "preference_eval.jsonl").read_bytes() == (
        pairs / "preference_eval.jsonl"
    ).read_bytes()
