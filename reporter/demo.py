"""Demo data: the three raw tables, generated inside the warehouse with SQL.

Realistic enough to exercise every rule: several model versions, a slow improvement
trend with weekday seasonality, and a few percent of each messy case (duplicate
deliveries, NULLs, out-of-range scores, label spellings, unknown labels, users who
change their reaction); every row carries loaded_at, the demo's clock. Pseudo-random
numbers come from the engine's hash of (row, seed, purpose), so the same seed gives the
same data on every run.

    python -m reporter.demo --weeks 12 --rows-per-day 500 --seed 1 --target duckdb
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass

from reporter.errors import UserError
from reporter.warehouse import WarehouseConfig, connect, load_config

RAW_TABLES = ("conversation_log", "conversation_evaluation", "feedback_log")


@dataclass(frozen=True)
class DemoSpec:
    """What to generate. `end_date` is the last day with data (inclusive)."""

    weeks: int = 12
    rows_per_day: int = 500
    seed: int = 1
    end_date: dt.date | None = None
    # Inject a score drop for one model version in the last week: "model:delta".
    regression: str | None = None
    # Share of responses that get a reaction (0.35); the benchmark raises it to match the
    # number of evaluations.
    feedback_share: float = 0.35
    # False: no improvement trend and no difference between model versions, so any
    # week-over-week change is noise (for checking that tests do not raise false alarms).
    trend: bool = True
    # The demo's clock (UTC): no row is dated after it. Default: now, or the end of
    # `end_date` when that is given.
    now: dt.datetime | None = None

    def clock(self) -> dt.datetime:
        """The latest time a row may carry, as a naive UTC timestamp like the raw tables'."""
        if self.now is not None:
            now = self.now
        elif self.end_date is not None:
            now = dt.datetime.combine(self.end_date, dt.time(23, 59, 59))
        else:
            now = dt.datetime.now(dt.timezone.utc)
        if now.tzinfo is not None:
            now = now.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return now.replace(microsecond=0)

    def last_day(self) -> dt.date:
        return self.end_date or self.clock().date()

    def first_day(self) -> dt.date:
        """Monday of the first of `weeks` ISO weeks; the last one holds `last_day`."""
        last = self.last_day()
        return last - dt.timedelta(days=last.weekday() + 7 * (self.weeks - 1))

    @property
    def days(self) -> int:
        return (self.last_day() - self.first_day()).days + 1


class Dialect:
    """The few expressions that differ between engines; everything else is shared SQL."""

    name = "default"

    def unit(self, row: str, seed: int, salt: int) -> str:
        """A uniform number in (0, 1) from a hash of (row, seed, salt)."""
        raise NotImplementedError

    def series(self, alias: str, column: str, start: int, stop: int) -> str:
        return f"generate_series({start}, {stop}) as {alias}({column})"

    def add_seconds(self, timestamp: str, seconds: str) -> str:
        raise NotImplementedError

    def timestamp(self, day: dt.date) -> str:
        return f"cast('{day.isoformat()} 00:00:00' as timestamp)"

    def at(self, moment: dt.datetime) -> str:
        return f"cast('{moment.isoformat(sep=' ')}' as timestamp)"

    def int_div(self, a: str, b: str) -> str:
        return f"cast(floor(({a}) / ({b})) as bigint)"

    def to_text(self, expr: str) -> str:
        return f"cast({expr} as varchar)"

    # An 8-byte float.
    double = "double precision"


class DuckDBDialect(Dialect):
    name = "duckdb"

    def unit(self, row: str, seed: int, salt: int) -> str:
        return f"((hash({row}, {seed}, {salt}) % 1000000) + 0.5) / 1000000.0"

    def add_seconds(self, timestamp: str, seconds: str) -> str:
        return f"({timestamp} + to_seconds(cast({seconds} as bigint)))"


class PostgresDialect(Dialect):
    name = "postgres"

    def unit(self, row: str, seed: int, salt: int) -> str:
        hashed = f"hashint8extended(cast({row} as bigint), {seed * 1000 + salt})"
        return f"(((({hashed} % 1000000) + 1000000) % 1000000) + 0.5) / 1000000.0"

    def add_seconds(self, timestamp: str, seconds: str) -> str:
        return f"({timestamp} + cast({seconds} as bigint) * interval '1 second')"

    def int_div(self, a: str, b: str) -> str:
        return f"cast(floor(cast({a} as numeric) / ({b})) as bigint)"


class SparkDialect(Dialect):
    name = "spark"
    double = "double"

    def unit(self, row: str, seed: int, salt: int) -> str:
        return f"(pmod(xxhash64({row}, {seed}, {salt}), 1000000) + 0.5) / 1000000.0"

    def series(self, alias: str, column: str, start: int, stop: int) -> str:
        return f"(select id as {column} from range({start}, {stop + 1})) as {alias}"

    def add_seconds(self, timestamp: str, seconds: str) -> str:
        return f"timestamp_seconds(unix_seconds({timestamp}) + cast({seconds} as bigint))"

    def to_text(self, expr: str) -> str:
        return f"cast({expr} as string)"


DIALECTS: dict[str, type[Dialect]] = {
    "duckdb": DuckDBDialect,
    "postgres": PostgresDialect,
    "spark": SparkDialect,
}

MODEL_VERSIONS = ("chat-v1.0", "chat-v1.1", "chat-v2.0")
# Each question with two good answers and one weak one: the answer always fits the
# question, and a low-quality response gets the weak one, so the exported examples and
# preference pairs read like real data.
CONVERSATIONS = (
    (
        "주문한 상품이 언제 도착하나요?",
        (
            "주문하신 상품은 내일 도착할 예정이에요. 배송 조회 링크를 보내드릴게요.",
            "어제 출고되어 지금 배송 중이에요. 내일 오후까지 도착할 예정입니다.",
            "배송은 보통 며칠 걸려요.",
        ),
    ),
    (
        "환불 절차를 알려주세요.",
        (
            "환불은 마이페이지 > 주문 내역에서 신청하실 수 있어요. 3영업일 안에 처리됩니다.",
            "주문 내역에서 '환불 신청'을 누르시면 돼요. 결제하신 수단으로 3영업일 안에 돌려드려요.",
            "환불은 고객센터 정책에 따라 달라요.",
        ),
    ),
    (
        "비밀번호를 잊어버렸어요. 어떻게 재설정하나요?",
        (
            "로그인 화면의 '비밀번호 찾기'를 누르시면 재설정 메일을 보내드려요.",
            "'비밀번호 찾기'에서 가입하신 이메일을 입력하시면 재설정 링크가 가요. "
            "10분 안에 눌러 주세요.",
            "비밀번호는 다시 만드셔야 해요.",
        ),
    ),
    (
        "요즘 너무 우울해요. 이야기 좀 들어줄래요?",
        (
            "많이 힘드셨겠어요. 천천히 이야기해 주세요, 제가 들을게요.",
            "그런 마음을 말해 주셔서 고마워요. 요즘 어떤 일이 가장 힘드셨어요?",
            "기분 전환을 해 보세요.",
        ),
    ),
    (
        "제 이메일 minsu.kim@example.com 으로 영수증을 보내주세요.",
        (
            "알겠습니다. 영수증을 minsu.kim@example.com 으로 보내드렸어요.",
            "영수증을 말씀하신 이메일로 보냈어요. "
            "몇 분 안에 도착하지 않으면 스팸함도 확인해 주세요.",
            "영수증은 마이페이지에 있어요.",
        ),
    ),
    (
        "상담원 연결해 주세요. 제 번호는 010-1234-5678 입니다.",
        (
            "잠시만 기다려 주세요. 상담원이 010-1234-5678 로 10분 안에 전화드릴게요.",
            "상담원 연결을 요청했어요. 남겨주신 번호로 곧 연락드릴게요.",
            "상담원은 지금 바빠요.",
        ),
    ),
    (
        "Can you summarise my last three orders?",
        (
            "Here is a summary of your last three orders: two were delivered, one ships tomorrow.",
            "Your last three orders: a keyboard (delivered), a mouse (delivered), a stand "
            "(shipping).",
            "You have placed some orders.",
        ),
    ),
    (
        "Please call me back at +1 415-555-0134.",
        (
            "Of course. An agent will call you at +1 415-555-0134 within the hour.",
            "I have booked a call back to +1 415-555-0134; expect it today before 5 pm.",
            "Sorry, I can't help with that.",
        ),
    ),
)
PROMPTS = tuple(prompt for prompt, _ in CONVERSATIONS)
# A response is a good one from this latent quality on, else the weak one.
GOOD_ANSWER_QUALITY = 6.5


def _answer(prompt_index: str, good_unit: str, quality: str) -> str:
    """SQL CASE: an answer to the question `prompt_index`, weak below GOOD_ANSWER_QUALITY."""
    branches = []
    for i, (_, answers) in enumerate(CONVERSATIONS):
        for j, answer in enumerate(answers):
            branches.append(f"when {i * 3 + j} then '{answer.replace(chr(39), chr(39) * 2)}'")
    variant = (
        f"case when {quality} >= {GOOD_ANSWER_QUALITY} "
        f"then cast(floor({good_unit} * 2) as integer) else 2 end"
    )
    return f"case {prompt_index} * 3 + {variant} {' '.join(branches)} end"


def _choose(values: tuple[str, ...], unit_expr: str) -> str:
    """SQL CASE picking one of `values` uniformly by a unit() expression.

    A simple CASE evaluates its operand once per row, not once per branch.
    """
    branches = " ".join(
        f"when {i} then '{value.replace(chr(39), chr(39) * 2)}'" for i, value in enumerate(values)
    )
    return f"case cast(floor({unit_expr} * {len(values)}) as integer) {branches} end"


def _clip(expr: str) -> str:
    """A 0–10 score with one decimal, kept as a double (no decimal arithmetic)."""
    return f"round(greatest(0.0, least(10.0, {expr})) * 10.0) / 10.0"


def _copies(d: Dialect, row: str, seed: int, salt: int, share: float) -> str:
    """Join target that repeats about `share` of the rows once: at-least-once delivery."""
    return (
        f"cross join {d.series('copies', 'copy_number', 1, 2)}\n"
        f"        where (copies.copy_number = 1 or {d.unit(row, seed, salt)} < {share})"
    )


def _normal(d: Dialect, row: str, seed: int, salt: int) -> str:
    """A standard normal number (Box–Muller) from two hashed uniforms."""
    return (
        f"(sqrt(-2.0 * ln({d.unit(row, seed, salt)})) "
        f"* cos(2.0 * pi() * {d.unit(row, seed, salt + 1)}))"
    )


def build_statements(d: Dialect, spec: DemoSpec, schema: str) -> list[str]:
    """The SQL that (re)creates the raw tables in `schema`."""
    s = spec.seed
    start = d.timestamp(spec.first_day())
    days, per_day = spec.days, spec.rows_per_day
    u = lambda salt, row="i": d.unit(row, s, salt)  # noqa: E731
    progress = f"(cast(day as {d.double}) / {max(days - 1, 1)})"
    trend = 1.0 if spec.trend else 0.0
    regression_model, regression_delta = None, 0.0
    if spec.regression:
        regression_model, _, delta = spec.regression.partition(":")
        regression_delta = float(delta or -1.0)
    messages = f"{schema}._demo_messages"
    clock = d.at(spec.clock())
    stmts = [
        f"create schema if not exists {schema}",
        *[f"drop table if exists {schema}.{t}" for t in (*RAW_TABLES, "_demo_messages")],
        # One row per AI response, with its latent quality; the raw tables derive from it.
        f"""
        create table {messages} as
        with base as (
            select
                day,
                k,
                cast(day as bigint) * {per_day} + k as i
            from {d.series("days", "day", 0, days - 1)}
            cross join {d.series("slots", "k", 0, per_day - 1)}
        ),
        placed as (
            select
                i,
                day,
                {d.int_div("i", "4")} as conversation_number,
                i % 4 as turn,
                {d.add_seconds(start, f"day * 86400 + floor({u(1)} * 86000)")} as created_at,
                case
                    when {progress} < 0.35 then 'chat-v1.0'
                    when {progress} < 0.70 then
                        case when {u(2)} < 0.3 then 'chat-v1.0' else 'chat-v1.1' end
                    else case when {u(2)} < 0.3 then 'chat-v1.1' else 'chat-v2.0' end
                end as model_version
            from base
        )
        select
            placed.*,
            {d.add_seconds(start, "day * 86400")} as day_start,
            cast(floor({d.unit(d.int_div("i", "2"), s, 5)} * {len(PROMPTS)}) as integer)
                as prompt_index,
            6.3 + {trend} * 1.2 * {progress}
                + {trend} * case model_version
                    when 'chat-v1.1' then 0.25 when 'chat-v2.0' then 0.5 else 0 end
                + case when (day + {spec.first_day().weekday()}) % 7 >= 5 then -0.3 else 0 end
                + {regression_delta if regression_model else 0.0}
                    * case when model_version = '{regression_model or ""}'
                        and day >= {days - 7} then 1 else 0 end
                + 1.3 * {_normal(d, "i", s, 3)} as quality
        from placed
        -- Nothing after the demo's clock: the rest of today has not happened yet.
        where created_at <= {clock}
        """,
        f"""
        create table {schema}.conversation_log as
        select
            {d.to_text("'m' || " + d.to_text("i"))} as message_id,
            {d.to_text("'c' || " + d.to_text("conversation_number"))} as conversation_id,
            created_at,
            model_version,
            -- Turns 0 and 1 of a conversation share the prompt: a regenerated answer.
            case prompt_index {
            " ".join(
                f"when {i} then '{prompt.replace(chr(39), chr(39) * 2)}'"
                for i, prompt in enumerate(PROMPTS)
            )
        } end as user_message,
            {_answer("prompt_index", u(6), "quality")} as ai_response,
            {clock} as loaded_at
        from {messages}
        """,
        f"""
        create table {schema}.conversation_evaluation as
        with evaluated as (
            select
                m.*,
                {u(10, "m.i")} as u_null,
                {u(11, "m.i")} as u_dim,
                {u(12, "m.i")} as u_ts,
                {_clip("m.quality")} as clean_score
            from {messages} as m
            where {u(13, "m.i")} < 0.85
        ),
        rows_out as (
            select
                'e' || {d.to_text("i")} as evaluation_id,
                'c' || {d.to_text("conversation_number")} as conversation_id,
                'm' || {d.to_text("i")} as message_id,
                case when u_ts < 0.005 then null
                    else {d.add_seconds("created_at", f"60 + floor({u(14)} * 3600)")} end
                    as created_at,
                cast(case
                    when u_null < 0.01 then null
                    when u_null < 0.02 then clean_score + 11
                    when u_null < 0.025 then -1.5
                    else clean_score
                end as {d.double}) as score,
                cast(case
                    when u_dim < 0.01 then 12.5
                    when u_dim < 0.10 then null
                    else {_clip("quality + 0.8 * " + _normal(d, "i", s, 15))}
                end as {d.double}) as accuracy,
                cast(case when u_dim < 0.10 then null
                    else {_clip("quality + 0.3 + 0.8 * " + _normal(d, "i", s, 17))}
                end as {d.double}) as consistency,
                cast(case when u_dim < 0.12 then null
                    else {_clip("quality - 0.4 + 0.9 * " + _normal(d, "i", s, 19))}
                end as {d.double}) as emotion_match,
                case when {u(21)} < 0.8 then 'llm_judge' else 'human' end as evaluator,
                model_version,
                i
            from evaluated
        )
        -- At-least-once delivery: about 2% of evaluations arrive twice.
        select
            evaluation_id, conversation_id, message_id, created_at, score, accuracy,
            consistency, emotion_match, evaluator, model_version, {clock} as loaded_at
        from rows_out
        {_copies(d, "i", s, 22, 0.02)}
            and (created_at is null or created_at <= {clock})
        """,
        f"""
        create table {schema}.feedback_log as
        with reacted as (
            select
                m.*,
                {_clip("m.quality")} as clean_score,
                {u(30, "m.i")} as u_like,
                {u(31, "m.i")} as u_label,
                {u(32, "m.i")} as u_mess
            from {messages} as m
            where {u(33, "m.i")} < {spec.feedback_share}
        ),
        labelled as (
            select
                reacted.*,
                u_like < 1.0 / (1.0 + exp(-1.1 * (clean_score - 6.8))) as is_like
            from reacted
        ),
        first_reactions as (
            select
                'f' || {d.to_text("i")} as feedback_id,
                'c' || {d.to_text("conversation_number")} as conversation_id,
                'm' || {d.to_text("i")} as message_id,
                case when u_mess < 0.005 then null
                    else {d.add_seconds("created_at", f"30 + floor({u(34)} * 1800)")} end
                    as created_at,
                case
                    when u_mess >= 0.005 and u_mess < 0.015 then
                        {_choose(("meh", "", "love it", "??"), u(35))}
                    when u_mess >= 0.015 and u_mess < 0.018 then null
                    when is_like then {
            _choose(
                (
                    "like",
                    "like",
                    "like",
                    "Like",
                    " LIKE ",
                    "liked",
                    "thumbs_up",
                    "👍",
                    "+1",
                    "positive",
                ),
                "u_label",
            )
        }
                    else {
            _choose(
                (
                    "dislike",
                    "dislike",
                    "dislike",
                    "Dislike",
                    " DISLIKE ",
                    "disliked",
                    "thumbs_down",
                    "👎",
                    "-1",
                    "negative",
                ),
                "u_label",
            )
        }
                end as feedback,
                'u' || {d.to_text(d.int_div("conversation_number", "3") + " % 5000")} as user_id,
                is_like,
                i
            from labelled
        ),
        changed_minds as (
            -- About 3% of users change their reaction a little later.
            select
                feedback_id || 'b' as feedback_id,
                conversation_id,
                message_id,
                {
            d.add_seconds("coalesce(created_at, " + start + ")", "120 + floor(" + u(36) + " * 600)")
        }
                    as created_at,
                case when is_like then 'dislike' else 'like' end as feedback,
                user_id,
                is_like,
                i
            from first_reactions
            where {u(37)} < 0.03
        ),
        all_reactions as (
            select * from first_reactions
            union all
            select * from changed_minds
        )
        -- At-least-once delivery here too.
        select
            feedback_id, conversation_id, message_id, created_at, feedback, user_id,
            {clock} as loaded_at
        from all_reactions
        {_copies(d, "i", s, 38, 0.02)}
            and (created_at is null or created_at <= {clock})
        """,
        f"drop table {messages}",
    ]
    return stmts


def generate(config: WarehouseConfig, spec: DemoSpec, raw_schema: str = "raw") -> dict[str, int]:
    """Write the raw tables into the warehouse; returns the row count of each."""
    if spec.weeks < 1 or spec.rows_per_day < 1:
        raise UserError("--weeks and --rows-per-day must be at least 1")
    if not 0 <= spec.feedback_share <= 1:
        raise UserError("--feedback-share must be between 0 and 1")
    dialect_cls = DIALECTS.get(config.type)
    if dialect_cls is None:
        raise UserError(f"the demo generator does not support {config.type!r} targets")
    statements = build_statements(dialect_cls(), spec, raw_schema)
    counts: dict[str, int] = {}
    with connect(config, read_only=False) as conn:
        cursor = conn.cursor()
        for statement in statements:
            cursor.execute(statement)
        for table in RAW_TABLES:
            cursor.execute(f"select count(*) from {raw_schema}.{table}")
            counts[table] = int(cursor.fetchone()[0])
    return counts


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `reporter demo` (and of `python -m reporter.demo`)."""
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--rows-per-day", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--end-date",
        type=dt.date.fromisoformat,
        default=None,
        help="last day with data (default: today, UTC)",
    )
    parser.add_argument(
        "--regression",
        default=None,
        help="inject a score change in the last week, e.g. chat-v2.0:-1.5",
    )
    parser.add_argument(
        "--feedback-share",
        type=float,
        default=0.35,
        help="share of responses that get a reaction (default 0.35)",
    )
    parser.add_argument(
        "--flat",
        action="store_true",
        help="no trend and no model differences: week-over-week changes are only noise",
    )
    parser.add_argument("--target", default=None, help="dbt target (default: the profile's)")
    parser.add_argument("--profiles-dir", default=None)
    parser.add_argument("--raw-schema", default="raw")


def run_demo(args: argparse.Namespace) -> int:
    """Write the demo raw tables; one line saying how many rows of each."""
    try:
        config = load_config(args.target, args.profiles_dir)
        spec = DemoSpec(
            args.weeks,
            args.rows_per_day,
            args.seed,
            args.end_date,
            args.regression,
            args.feedback_share,
            trend=not args.flat,
        )
        counts = generate(config, spec, args.raw_schema)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    summary = ", ".join(f"{table} {count:,}" for table, count in counts.items())
    print(f"demo data in {config.target_name} ({args.raw_schema}): {summary}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reporter.demo", description=__doc__.split("\n")[0]
    )
    add_demo_arguments(parser)
    return run_demo(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
