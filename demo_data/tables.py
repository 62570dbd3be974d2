"""The SQL that writes the three raw tables, one function per table (and per step of one).

Every table derives from a scratch table of AI responses with a latent quality, so the
scores, the reactions and the answers of one response agree with each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from demo_data.content import (
    CONVERSATIONS,
    DISLIKE_SPELLINGS,
    GOOD_ANSWER_QUALITY,
    LIKE_SPELLINGS,
    PROMPTS,
    UNKNOWN_LABELS,
)
from demo_data.dialects import Dialect
from demo_data.spec import DemoSpec

RAW_TABLES = ("conversation_log", "conversation_evaluation", "feedback_log")
MESSAGES = "_demo_messages"


@dataclass(frozen=True)
class Raw:
    """What every statement shares: the engine's expressions, the spec, where to write,
    and the demo's clock, read once so that every table stops at the same moment."""

    d: Dialect
    spec: DemoSpec
    schema: str
    start: str  # midnight of the first day, as SQL
    clock: str  # the latest time a row may carry, as SQL

    @classmethod
    def of(cls, d: Dialect, spec: DemoSpec, schema: str) -> Raw:
        return cls(d, spec, schema, d.timestamp(spec.first_day()), d.at(spec.clock()))

    @property
    def messages(self) -> str:
        return f"{self.schema}.{MESSAGES}"

    @property
    def progress(self) -> str:
        """How far into the demo's history a row's day is, from 0 to 1."""
        return f"(cast(day as {self.d.double}) / {max(self.spec.days - 1, 1)})"

    def unit(self, salt: int, row: str = "i") -> str:
        return self.d.unit(row, self.spec.seed, salt)

    def normal(self, salt: int, row: str = "i") -> str:
        """A standard normal number (Box–Muller) from two hashed uniforms."""
        return (
            f"(sqrt(-2.0 * ln({self.unit(salt, row)})) "
            f"* cos(2.0 * pi() * {self.unit(salt + 1, row)}))"
        )

    def delivered_at_least_once(self, relation: str, salt: int) -> str:
        """FROM `relation`, about 2% of its rows twice, and nothing after the clock."""
        return (
            f"from {relation}\n"
            f"        cross join {self.d.series('copies', 'copy_number', 1, 2)}\n"
            f"        where (copies.copy_number = 1 or {self.unit(salt)} < 0.02)\n"
            f"            and (created_at is null or created_at <= {self.clock})"
        )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _case(operand: str, values: tuple[str, ...]) -> str:
    """SQL CASE mapping 0, 1, 2, … of `operand` to `values`.

    A simple CASE evaluates its operand once per row, not once per branch.
    """
    branches = " ".join(f"when {i} then {_literal(value)}" for i, value in enumerate(values))
    return f"case {operand} {branches} end"


def _choose(values: tuple[str, ...], unit_expr: str) -> str:
    """SQL CASE picking one of `values` uniformly by a unit() expression."""
    return _case(f"cast(floor({unit_expr} * {len(values)}) as integer)", values)


def _answer(prompt_index: str, good_unit: str, quality: str) -> str:
    """SQL CASE: an answer to the question `prompt_index`, weak below GOOD_ANSWER_QUALITY."""
    answers = tuple(answer for _, replies in CONVERSATIONS for answer in replies)
    variant = (
        f"case when {quality} >= {GOOD_ANSWER_QUALITY} "
        f"then cast(floor({good_unit} * 2) as integer) else 2 end"
    )
    return _case(f"{prompt_index} * 3 + {variant}", answers)


def _clip(expr: str) -> str:
    """A 0–10 score with one decimal, kept as a double (no decimal arithmetic)."""
    return f"round(greatest(0.0, least(10.0, {expr})) * 10.0) / 10.0"


def _placed_messages(r: Raw) -> str:
    """CTEs: one row per (day, slot), with its conversation, time and model version."""
    d, per_day = r.d, r.spec.rows_per_day
    return f"""
        with base as (
            select
                day,
                k,
                cast(day as bigint) * {per_day} + k as i
            from {d.series("days", "day", 0, r.spec.days - 1)}
            cross join {d.series("slots", "k", 0, per_day - 1)}
        ),
        placed as (
            select
                i,
                day,
                {d.int_div("i", "4")} as conversation_number,
                i % 4 as turn,
                {d.add_seconds(r.start, f"day * 86400 + floor({r.unit(1)} * 86000)")} as created_at,
                case
                    when {r.progress} < 0.35 then 'chat-v1.0'
                    when {r.progress} < 0.70 then
                        case when {r.unit(2)} < 0.3 then 'chat-v1.0' else 'chat-v1.1' end
                    else case when {r.unit(2)} < 0.3 then 'chat-v1.1' else 'chat-v2.0' end
                end as model_version
            from base
        )"""


def _quality(r: Raw) -> str:
    """A response's latent quality: trend, model version, weekends, the injected
    regression, and noise."""
    spec = r.spec
    trend = 1.0 if spec.trend else 0.0
    regression_model, regression_delta = None, 0.0
    if spec.regression:
        regression_model, _, delta = spec.regression.partition(":")
        regression_delta = float(delta or -1.0)
    weekend = f"(day + {spec.first_day().weekday()}) % 7 >= 5"
    return f"""6.3 + {trend} * 1.2 * {r.progress}
                + {trend} * case model_version
                    when 'chat-v1.1' then 0.25 when 'chat-v2.0' then 0.5 else 0 end
                + {trend} * case when {weekend} then -0.3 else 0 end
                + {regression_delta if regression_model else 0.0}
                    * case when model_version = '{regression_model or ""}'
                        and day >= {spec.days - 7} then 1 else 0 end
                + 1.3 * {r.normal(3)}"""


def messages_table(r: Raw) -> str:
    """One row per AI response, with its latent quality; the raw tables derive from it."""
    prompt_unit = r.d.unit(r.d.int_div("i", "2"), r.spec.seed, 5)
    return f"""
        create table {r.messages} as
        {_placed_messages(r)}
        select
            placed.*,
            {r.d.add_seconds(r.start, "day * 86400")} as day_start,
            cast(floor({prompt_unit} * {len(PROMPTS)}) as integer)
                as prompt_index,
            {_quality(r)} as quality
        from placed
        -- Nothing after the demo's clock: the rest of today has not happened yet.
        where created_at <= {r.clock}
        """


def conversation_log_table(r: Raw) -> str:
    d = r.d
    return f"""
        create table {r.schema}.conversation_log as
        select
            {d.to_text("'m' || " + d.to_text("i"))} as message_id,
            {d.to_text("'c' || " + d.to_text("conversation_number"))} as conversation_id,
            created_at,
            model_version,
            -- Turns 0 and 1 of a conversation share the prompt: a regenerated answer.
            {_case("prompt_index", PROMPTS)} as user_message,
            {_answer("prompt_index", r.unit(6), "quality")} as ai_response,
            {r.clock} as loaded_at
        from {r.messages}
        """


def _ids_and_time(r: Raw, prefix: str, id_column: str, no_time: str, delay: str) -> str:
    """A row's own id, its conversation's and message's, and its created_at: `delay`
    seconds after the response's, or NULL where `no_time` holds."""
    d = r.d
    return f"""'{prefix}' || {d.to_text("i")} as {id_column},
                'c' || {d.to_text("conversation_number")} as conversation_id,
                'm' || {d.to_text("i")} as message_id,
                case when {no_time} then null
                    else {d.add_seconds("created_at", delay)} end
                    as created_at,"""


def _evaluation_rows(r: Raw) -> str:
    """The evaluations' columns, with a few NULLs and out-of-range values of each kind."""
    d = r.d
    delay = f"60 + floor({r.unit(14)} * 3600)"
    return f"""
            select
                {_ids_and_time(r, "e", "evaluation_id", "u_ts < 0.005", delay)}
                cast(case
                    when u_null < 0.01 then null
                    when u_null < 0.02 then clean_score + 11
                    when u_null < 0.025 then -1.5
                    else clean_score
                end as {d.double}) as score,
                cast(case
                    when u_dim < 0.01 then 12.5
                    when u_dim < 0.10 then null
                    else {_clip("quality + 0.8 * " + r.normal(15))}
                end as {d.double}) as accuracy,
                cast(case when u_dim < 0.10 then null
                    else {_clip("quality + 0.3 + 0.8 * " + r.normal(17))}
                end as {d.double}) as consistency,
                cast(case when u_dim < 0.12 then null
                    else {_clip("quality - 0.4 + 0.9 * " + r.normal(19))}
                end as {d.double}) as emotion_match,
                case when {r.unit(21)} < 0.8 then 'llm_judge' else 'human' end as evaluator,
                model_version,
                i
            from evaluated"""


# The LLM judge scores the responses it shares with a human this much higher on average:
# the finding the demo's judge_agreement_weekly shows (a bias of about +0.3).
JUDGE_BIAS = 0.3


def _second_opinions(r: Raw) -> str:
    """A second evaluation by the other rater for about a fifth of the evaluated responses,
    so that judge_agreement_weekly has matched pairs: the judge scores JUDGE_BIAS higher
    than a human, each with noise of its own."""
    d = r.d
    delay = f"120 + floor({r.unit(24)} * 7200)"
    first_is_judge = f"{r.unit(21)} < 0.8"
    bias = f"case when {first_is_judge} then -{JUDGE_BIAS} else {JUDGE_BIAS} end"
    score = _clip(f"quality + {bias} + 0.6 * {r.normal(25)}")
    return f"""
            select
                'e' || {d.to_text("i")} || 'p' as evaluation_id,
                'c' || {d.to_text("conversation_number")} as conversation_id,
                'm' || {d.to_text("i")} as message_id,
                {d.add_seconds("created_at", delay)} as created_at,
                cast({score} as {d.double}) as score,
                cast(null as {d.double}) as accuracy,
                cast(null as {d.double}) as consistency,
                cast(null as {d.double}) as emotion_match,
                case when {first_is_judge} then 'human' else 'llm_judge' end as evaluator,
                model_version,
                i
            from evaluated
            where {r.unit(23)} < 0.2"""


def conversation_evaluation_table(r: Raw) -> str:
    return f"""
        create table {r.schema}.conversation_evaluation as
        with evaluated as (
            select
                m.*,
                {r.unit(10, "m.i")} as u_null,
                {r.unit(11, "m.i")} as u_dim,
                {r.unit(12, "m.i")} as u_ts,
                {_clip("m.quality")} as clean_score
            from {r.messages} as m
            where {r.unit(13, "m.i")} < 0.85
        ),
        rows_out as ({_evaluation_rows(r)}
            union all{_second_opinions(r)}
        )
        -- At-least-once delivery: about 2% of evaluations arrive twice.
        select
            evaluation_id, conversation_id, message_id, created_at, score, accuracy,
            consistency, emotion_match, evaluator, model_version, {r.clock} as loaded_at
        {r.delivered_at_least_once("rows_out", 22)}
        """


def _first_reactions(r: Raw) -> str:
    """Each reacting user's first reaction, in every spelling users write, and a few
    unknown or missing labels."""
    d = r.d
    user = d.to_text(d.int_div("conversation_number", "3") + " % 5000")
    delay = f"30 + floor({r.unit(34)} * 1800)"
    return f"""
            select
                {_ids_and_time(r, "f", "feedback_id", "u_mess < 0.005", delay)}
                case
                    when u_mess >= 0.005 and u_mess < 0.015 then
                        {_choose(UNKNOWN_LABELS, r.unit(35))}
                    when u_mess >= 0.015 and u_mess < 0.018 then null
                    when is_like then {_choose(LIKE_SPELLINGS, "u_label")}
                    else {_choose(DISLIKE_SPELLINGS, "u_label")}
                end as feedback,
                'u' || {user} as user_id,
                is_like,
                i
            from labelled"""


def _changed_minds(r: Raw) -> str:
    """About 3% of users change their reaction a little later."""
    created_at = r.d.add_seconds(
        "coalesce(created_at, " + r.start + ")", "120 + floor(" + r.unit(36) + " * 600)"
    )
    return f"""
            -- About 3% of users change their reaction a little later.
            select
                feedback_id || 'b' as feedback_id,
                conversation_id,
                message_id,
                {created_at}
                    as created_at,
                case when is_like then 'dislike' else 'like' end as feedback,
                user_id,
                is_like,
                i
            from first_reactions
            where {r.unit(37)} < 0.03"""


def feedback_log_table(r: Raw) -> str:
    return f"""
        create table {r.schema}.feedback_log as
        with reacted as (
            select
                m.*,
                {_clip("m.quality")} as clean_score,
                {r.unit(30, "m.i")} as u_like,
                {r.unit(31, "m.i")} as u_label,
                {r.unit(32, "m.i")} as u_mess
            from {r.messages} as m
            where {r.unit(33, "m.i")} < {r.spec.feedback_share}
        ),
        labelled as (
            select
                reacted.*,
                u_like < 1.0 / (1.0 + exp(-1.1 * (clean_score - 6.8))) as is_like
            from reacted
        ),
        first_reactions as ({_first_reactions(r)}
        ),
        changed_minds as ({_changed_minds(r)}
        ),
        all_reactions as (
            select * from first_reactions
            union all
            select * from changed_minds
        )
        -- At-least-once delivery here too.
        select
            feedback_id, conversation_id, message_id, created_at, feedback, user_id,
            {r.clock} as loaded_at
        {r.delivered_at_least_once("all_reactions", 38)}
        """


def build_statements(d: Dialect, spec: DemoSpec, schema: str) -> list[str]:
    """The SQL that (re)creates the raw tables in `schema`."""
    r = Raw.of(d, spec, schema)
    return [
        f"create schema if not exists {schema}",
        *[f"drop table if exists {schema}.{table}" for table in (*RAW_TABLES, MESSAGES)],
        messages_table(r),
        conversation_log_table(r),
        conversation_evaluation_table(r),
        feedback_log_table(r),
        f"drop table {r.messages}",
    ]
