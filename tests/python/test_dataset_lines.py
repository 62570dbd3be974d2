"""Pure parts of the dataset export: PII redaction and JSONL line building."""

from __future__ import annotations

import json

import pytest

from reporter.dataset import (
    EMAIL_MASK,
    PHONE_MASK,
    disagreement_record,
    jsonl_line,
    preference_record,
    redact,
    sft_record,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Korean mobile numbers, with and without separators.
        ("제 번호는 010-1234-5678 입니다.", f"제 번호는 {PHONE_MASK} 입니다."),
        ("번호는01012345678이에요", f"번호는{PHONE_MASK}이에요"),
        ("010 1234 5678로 연락 주세요", f"{PHONE_MASK}로 연락 주세요"),
        ("010.1234.5678", PHONE_MASK),
        ("예전 번호 011-123-4567", f"예전 번호 {PHONE_MASK}"),
        # Seoul and regional landlines, VoIP.
        ("대표번호 02-123-4567", f"대표번호 {PHONE_MASK}"),
        ("02-1234-5678", PHONE_MASK),
        ("0212345678", PHONE_MASK),
        ("경기 031-123-4567", f"경기 {PHONE_MASK}"),
        ("070-1234-5678", PHONE_MASK),
        # Korean numbers written internationally.
        ("+82 10-1234-5678", PHONE_MASK),
        ("+82-10-1234-5678", PHONE_MASK),
        ("+821012345678", PHONE_MASK),
        ("+82 2-123-4567", PHONE_MASK),
        ("+82 (0)10 1234 5678", PHONE_MASK),
        # Other countries.
        ("Please call me back at +1 415-555-0134.", f"Please call me back at {PHONE_MASK}."),
        ("+1 (415) 555-0134", PHONE_MASK),
        ("London: +44 20 7946 0958", f"London: {PHONE_MASK}"),
        ("(415) 555-0134", PHONE_MASK),
        ("415-555-0134", PHONE_MASK),
        # E-mail addresses.
        (
            "제 이메일 minsu.kim@example.com 으로 영수증을 보내주세요.",
            f"제 이메일 {EMAIL_MASK} 으로 영수증을 보내주세요.",
        ),
        ("user+tag@mail.co.kr", EMAIL_MASK),
        (
            "mail a.b@x.io or call 010-9876-5432",
            f"mail {EMAIL_MASK} or call {PHONE_MASK}",
        ),
    ],
)
def test_redact_masks_emails_and_phone_numbers(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "주문번호 20240115-000123 확인 부탁드려요",
        "order ORD-2024-0001234 shipped",
        "order #123456789 and invoice 12345678901234",
        "2024-01-15 ~ 2024-02-12",
        "2024.01.15 10:30 도착",
        "2026-02-12",
        "결제 금액 1,234,567원, 3영업일 안에 처리됩니다.",
        "chat-v2.0 scored 8.5 (+0.5), +10 points",
        "tracking 1Z999AA10123456784",
        "192.168.0.1",
        "02-12 배송",
        "",
    ],
)
def test_redact_keeps_ids_dates_and_amounts(text: str) -> None:
    assert redact(text) == text


def test_jsonl_line_keeps_korean_as_utf8_on_one_line() -> None:
    record = sft_record("환불\n절차를 알려주세요.", "네, 알려드릴게요.", clean=str)
    line = jsonl_line(record)
    assert line.endswith("}\n") and line.count("\n") == 1
    assert "환불" in line and "\\u" not in line
    assert json.loads(line) == {
        "messages": [
            {"role": "user", "content": "환불\n절차를 알려주세요."},
            {"role": "assistant", "content": "네, 알려드릴게요."},
        ]
    }
    # The bytes a trainer reads are UTF-8 Hangul, not escapes.
    assert "환불".encode() in line.encode("utf-8")


def test_jsonl_line_escapes_unicode_line_separators() -> None:
    line = jsonl_line(preference_record("a\u2028b", "c\u2029d", "e", clean=str))
    assert "\u2028" not in line and "\u2029" not in line
    assert len(line.splitlines()) == 1
    assert json.loads(line) == {"prompt": "a\u2028b", "chosen": "c\u2029d", "rejected": "e"}


def test_records_redact_every_text_by_default() -> None:
    sft = sft_record("call 010-1234-5678", "mail me at a@b.com")
    assert sft["messages"][0]["content"] == f"call {PHONE_MASK}"
    assert sft["messages"][1]["content"] == f"mail me at {EMAIL_MASK}"
    pair = preference_record("+1 415-555-0134", "a@b.com", "02-123-4567")
    assert pair == {"prompt": PHONE_MASK, "chosen": EMAIL_MASK, "rejected": PHONE_MASK}


@pytest.mark.parametrize(
    ("disagreement", "likes", "dislikes", "verdict"),
    [("high_score_disliked", 1, 2, False), ("low_score_liked", 3, 0, True)],
)
def test_disagreement_records_carry_the_users_verdict_and_masked_text(
    disagreement: str, likes: int, dislikes: int, verdict: bool
) -> None:
    row = {
        "message_id": "m1",
        "model_version": "chat-v1.0",
        "disagreement": disagreement,
        "mean_score": 9 if verdict is False else 1.5,
        "like_count": likes,
        "dislike_count": dislikes,
        "prompt": "call 010-1234-5678",
        "response": "mail me at a@b.com",
    }
    record = disagreement_record(row)
    assert record["label"] is verdict
    assert (record["prompt"], record["completion"]) == (
        f"call {PHONE_MASK}",
        f"mail me at {EMAIL_MASK}",
    )
    assert record["mean_score"] == float(row["mean_score"])
    assert disagreement_record(row, lambda text: text)["prompt"] == "call 010-1234-5678"
