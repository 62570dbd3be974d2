"""The message model and its one renderer: Block Kit and fallback text say the same, within
slack_sdk's limits, and a webhook carries what a bot posts in its message and thread."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import replace

from hypothesis import given, note, settings
from hypothesis import strategies as st
from report_examples import report, week
from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    HeaderBlock,
    SectionBlock,
)
from test_report_render import all_texts, assert_within_block_kit_limits

from reporter.render import (
    MAX_FALLBACK_CHARS,
    MAX_FIELD_CHARS,
    Context,
    Fact,
    Facts,
    Header,
    Link,
    Message,
    Section,
    render,
    render_message,
    word,
)
from reporter.report import Mover, QuarantineFigures, Report

DASHBOARD = "https://dash.example.com/performance"


def test_overlong_texts_are_clipped_to_slack_sdks_limits_and_validate() -> None:
    message = Message(
        (
            Section(("x" * 5000,), title="t" * 100),
            Header("h" * 500, "w" * 5000),
            Facts(tuple(Fact(f"label {i}", "v" * 3000) for i in range(12))),
            Context("c" * 5000, bulleted=True),
            Link("l" * 200, DASHBOARD, action_id="open_dashboard"),
        )
    )
    rendered = render_message(message)  # nothing raises: slack_sdk validated each block
    for block in rendered.blocks:
        Block.parse(block).validate_json()
    assert_within_block_kit_limits(rendered.blocks)
    section, header, week_line, fields, more_fields, footer, actions = rendered.blocks
    assert len(section["text"]["text"]) == SectionBlock.text_max_length
    assert section["text"]["text"].startswith("*ttt") and section["text"]["text"].endswith("x…")
    assert header["text"]["text"] == "h" * (HeaderBlock.text_max_length - 1) + "…"
    assert week_line["elements"][0]["text"].endswith("w…")
    # 12 facts: more than one section may hold, so two sections, none of them dropped.
    assert len(fields["fields"]) == SectionBlock.fields_max_length
    assert len(more_fields["fields"]) == 12 - SectionBlock.fields_max_length
    assert all(len(f["text"]) == MAX_FIELD_CHARS for f in fields["fields"])
    assert footer["elements"][0]["text"].endswith("c…")
    button = actions["elements"][0]
    assert len(button["text"]["text"]) == ButtonElement.text_max_length
    assert len(rendered.text) == MAX_FALLBACK_CHARS and rendered.text.endswith("…")


def test_the_limits_are_read_from_slack_sdks_block_models(monkeypatch) -> None:
    # If slack_sdk's models say less, the renderer clips to that: no copy of the numbers.
    monkeypatch.setattr(HeaderBlock, "text_max_length", 12)
    monkeypatch.setattr(SectionBlock, "text_max_length", 40)
    monkeypatch.setattr(SectionBlock, "fields_max_length", 4)
    rendered = render(report(score_change_pct=-4.2), "en")
    lead, header = rendered.blocks[0], rendered.blocks[1]
    assert len(lead["text"]["text"]) == 40 and lead["text"]["text"].endswith("…")
    assert header["text"]["text"] == "📉 AI Perfor…"
    field_sections = [b for b in rendered.blocks if "fields" in b]
    assert [len(b["fields"]) for b in field_sections] == [4, 4, 1]
    # The fallback text is not Block Kit: it keeps every line whole.
    assert "📉 AI Performance Regression Report · *2026-W01*" in rendered.text


def test_a_link_slack_would_refuse_is_left_out_and_the_rest_is_posted() -> None:
    too_long = DASHBOARD + "/" + "a" * ButtonElement.url_max_length
    rendered = render(report(), "en", too_long)
    assert not any(block["type"] == "actions" for block in rendered.blocks)
    assert rendered.blocks[:-1] == render(report(), "en", DASHBOARD).blocks[:-2]
    assert_within_block_kit_limits(rendered.blocks)


# Any report: hostile or plain segment names, with or without movers, regressions, low
# volume, quarantine, mention and dashboard, in either language.
values = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")),
    min_size=1,
    max_size=24,
)
changes = st.floats(-60, 60, allow_nan=False)
movers = st.builds(
    Mover,
    segment_type=st.sampled_from(["model_version", "evaluator"]),
    segment_value=values,
    metric=st.sampled_from(["score", "like_ratio"]),
    change=changes,
    ci_low=changes,
    ci_high=changes,
    n=st.integers(0, 10**6),
    prev_n=st.integers(0, 10**6),
    same_rows=st.lists(st.tuples(st.just("evaluator"), values), max_size=2).map(tuple),
)
quarantine = st.builds(
    QuarantineFigures,
    raw_row_count=st.integers(0, 10**6),
    quarantined_count=st.integers(0, 10**4),
    quarantined_pct=st.one_of(st.none(), st.floats(0, 100)),
    top_reasons=st.lists(st.tuples(values, st.integers(1, 99)), max_size=3).map(tuple),
)


@st.composite
def reports(draw: st.DrawFn) -> Report:
    score = st.one_of(st.none(), st.floats(0, 10))
    figures = week(
        week_label=draw(st.one_of(st.just("2026-W01"), values)),
        eval_count=draw(st.integers(0, 10**5)),
        prev_eval_count=draw(st.integers(0, 10**5)),
        avg_score=draw(score),
        prev_avg_score=draw(score),
        score_change_pct=draw(st.one_of(st.none(), changes)),
        score_change_significant=draw(st.booleans()),
        like_ratio=draw(st.one_of(st.none(), st.floats(0, 1))),
        like_ratio_change_pp=draw(st.one_of(st.none(), changes)),
        like_ratio_change_significant=draw(st.booleans()),
        is_low_volume=draw(st.booleans()),
        is_complete_week=draw(st.booleans()),
    )
    return Report(
        week=figures,
        generated_at=report().generated_at,
        previous=draw(st.one_of(st.none(), st.builds(week, is_low_volume=st.booleans()))),
        movers=tuple(draw(st.lists(movers, max_size=3))),
        quarantine=draw(st.one_of(st.none(), quarantine)),
    )


options = st.fixed_dictionaries(
    {
        "lang": st.sampled_from(["ko", "en"]),
        "dashboard_url": st.sampled_from([None, DASHBOARD]),
        "mention": st.sampled_from([None, "<!subteam^S123>"]),
    }
)


def words(texts: list[str]) -> Counter[str]:
    return Counter(token for text in texts for token in re.findall(r"\w+", text))


@settings(max_examples=150, deadline=None)
@given(reports(), options, st.booleans())
def test_the_blocks_say_what_the_fallback_text_says(
    report: Report, how: dict, threaded: bool
) -> None:
    rendered = render(report, **how, threaded=threaded)
    for message in filter(None, (rendered, rendered.thread)):
        note(message.to_json())
        assert_within_block_kit_limits(message.blocks)
        in_text = words([message.text])
        in_blocks = words(all_texts(message.payload())[1:])
        # The blocks add only the label of the 👍/👎 fact and the dashboard button.
        only_in_blocks = [word("feedback", how["lang"])] if message is rendered else []
        if message is rendered and how["dashboard_url"]:
            only_in_blocks.append(word("dashboard", how["lang"]))
        assert in_blocks == in_text + words(only_in_blocks)


@settings(max_examples=150, deadline=None)
@given(reports(), options)
def test_a_webhook_posts_what_a_bot_posts_in_its_message_and_thread(
    report: Report, how: dict
) -> None:
    bot = render(report, **how, threaded=True)
    webhook = render(report, **how, threaded=False)
    note(bot.to_json())
    assert webhook.thread is None
    if bot.thread is None:
        assert webhook == bot
        return
    # The webhook shows the thread's lines and blocks where the bot says "in the thread".
    in_thread = word("movers_in_thread", how["lang"])
    lines = bot.text.splitlines()
    at = lines.index(in_thread)
    assert webhook.text.splitlines() == lines[:at] + bot.thread.text.splitlines() + lines[at + 1 :]
    at = next(
        i
        for i, block in enumerate(bot.blocks)
        if block["type"] == "context" and block["elements"][0]["text"] == in_thread
    )
    assert webhook.blocks == bot.blocks[:at] + bot.thread.blocks + bot.blocks[at + 1 :]
    assert in_thread not in json.dumps(webhook.payload(), ensure_ascii=False)


def test_the_payload_hash_is_the_same_for_the_same_message() -> None:
    # The ledger compares it across runs: composing and rendering again gives the same hash,
    # and any change a user would see gives another.
    moved = replace(
        report(), movers=(Mover("model_version", "chat-v2.0", "score", -1.2, -1.5, -0.9, 9, 9),)
    )
    first = render(moved, "ko", DASHBOARD, mention="<!here>")
    again = render(moved, "ko", DASHBOARD, mention="<!here>")
    assert first.payload_hash() == again.payload_hash()
    assert first.payload_hash() != render(moved, "en", DASHBOARD, mention="<!here>").payload_hash()
    changed = replace(moved, movers=(replace(moved.movers[0], change=-1.3),))
    assert (
        first.payload_hash() != render(changed, "ko", DASHBOARD, mention="<!here>").payload_hash()
    )
