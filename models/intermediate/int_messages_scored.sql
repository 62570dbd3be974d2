-- One row per message with a counted evaluation: what the agreement marts need of it, so
-- that their weekly sums are sums over this narrow table. The mean of all its counted
-- evaluations (rounded as tuning_examples rounds it) and their first day; the mean human
-- and LLM-judge scores, the day of the first judge evaluation and the model version they
-- name; the day of its first logged copy (conversation_log); its counted reactions.
-- Incremental by message: by loaded_at, a run writes again the messages whose counted
-- evaluations or reactions changed, or that were logged again (macros/arrivals.sql);
-- otherwise every message.
{{ config(**incremental_by_day('evaluated_date', ['evaluations', 'reactions', 'messages'], by_key='messages')) }}
-- depends_on: {{ ref('int_raw_days_fingerprinted') }}
-- depends_on: {{ ref('int_evaluations_ranked') }}
-- depends_on: {{ ref('int_feedback_reactions_ranked') }}

with evaluations as (
    select * from {{ ref('int_evaluations_deduplicated') }}
    where message_id is not null and {{ of_rebuilt_messages() }}
),

latest_reactions as (
    select * from {{ ref('int_feedback_latest_reactions') }}
    where message_id is not null and {{ of_rebuilt_messages() }}
),

-- By loaded_at, the raw rows of the rebuilt messages, staged by the rules of
-- stg_conversation_log (macros/staging.sql): a filter on the view would stage every row.
conversation_log as (
    {% if is_load_rebuild() -%}
    {%- set raw = raw_relation('conversation_log') -%}
    {%- set raw_message_id = 'cast(message_id as ' ~ dbt.type_string() ~ ')' -%}
    select * from (
        {{ staged_conversation_log(raw, rows_where(raw, of_rebuilt_messages(raw_message_id))) }}
    ) as of_messages
    {%- else -%}
    select * from {{ ref('stg_conversation_log') }}
    {%- endif %}
    where message_id is not null and responded_date is not null
),

message_scores as (
    select
        message_id,
        min(evaluated_date) as evaluated_date,
        {{ round_double('avg(score)', 4) }} as mean_score,
        avg(case when evaluator = '{{ human_evaluator() }}' then score end) as human_score,
        avg(case when evaluator = '{{ judge_evaluator() }}' then score end) as judge_score,
        min(case when evaluator = '{{ judge_evaluator() }}' then evaluated_date end) as judged_date,
        -- A message's evaluations name one model version; should they differ, one of them.
        max(
            case
                when evaluator in ('{{ human_evaluator() }}', '{{ judge_evaluator() }}')
                    then coalesce(nullif(model_version, ''), 'unknown')
            end
        ) as model_version
    from evaluations
    group by 1
),

-- A message logged more than once counts in the week of its first copy.
response_days as (
    select
        message_id,
        min(responded_date) as responded_date
    from conversation_log
    group by 1
),

message_reactions as (
    select
        message_id,
        count(*) as reaction_count,
        sum(case when is_like then 1 else 0 end) as like_count,
        sum(case when is_dislike then 1 else 0 end) as dislike_count
    from latest_reactions
    group by 1
),

final as (
    select
        message_scores.message_id,
        message_scores.evaluated_date,
        message_scores.mean_score,
        message_scores.human_score,
        message_scores.judge_score,
        message_scores.judged_date,
        message_scores.model_version,
        response_days.responded_date,
        coalesce(message_reactions.reaction_count, 0) as reaction_count,
        coalesce(message_reactions.like_count, 0) as like_count,
        coalesce(message_reactions.dislike_count, 0) as dislike_count
    from message_scores
    left join response_days
        on message_scores.message_id = response_days.message_id
    left join message_reactions
        on message_scores.message_id = message_reactions.message_id
)

select * from final
