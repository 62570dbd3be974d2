-- Additive daily aggregates per segment, in long form: by model version (evaluations
-- and reactions) and by evaluator (evaluations only: a reaction has no evaluator).
-- A reaction belongs to the model version of the message it reacts to.
-- Incremental by day like the other daily aggregates (macros/incremental.sql); a day is also
-- rebuilt when a message its reactions refer to arrives or changes in conversation_log.
{{ config(**incremental_by_day('segment_date', ['evaluations', 'reactions', 'messages'])) }}
-- depends_on: {{ ref('int_raw_days_fingerprinted') }}
-- depends_on: {{ ref('int_raw_keys_spanning_days') }}

with evaluations as (
    select * from {{ ref('int_evaluations_deduplicated') }}
    where {{ in_rebuild_days('evaluated_date') }}
),

reactions as (
    select * from {{ ref('int_feedback_latest_reactions') }}
    where {{ in_rebuild_days('reacted_date') }}
),

conversation_log as (
    select * from {{ ref('stg_conversation_log') }}
),

reacted_messages as (
    select distinct message_id from reactions
    where message_id is not null
),

message_versions as (
    -- Only the messages reacted to in this batch. A message delivered twice with different
    -- versions (rare) counts under one of them.
    select
        conversation_log.message_id,
        max(conversation_log.model_version) as model_version
    from conversation_log
    inner join reacted_messages
        on conversation_log.message_id = reacted_messages.message_id
    group by 1
),

evaluation_segments as (
    select
        evaluated_date as segment_date,
        'model_version' as segment_type,
        coalesce(nullif(model_version, ''), 'unknown') as segment_value,
        score
    from evaluations
    union all
    select
        evaluated_date as segment_date,
        'evaluator' as segment_type,
        coalesce(nullif(evaluator, ''), 'unknown') as segment_value,
        score
    from evaluations
),

reaction_segments as (
    select
        reactions.reacted_date as segment_date,
        'model_version' as segment_type,
        coalesce(nullif(message_versions.model_version, ''), 'unknown') as segment_value,
        reactions.is_like
    from reactions
    left join message_versions
        on reactions.message_id = message_versions.message_id
),

daily_evaluations as (
    select
        segment_date,
        segment_type,
        segment_value,
        count(*) as eval_count,
        sum(score) as score_sum,
        sum(score * score) as score_sq_sum
    from evaluation_segments
    group by 1, 2, 3
),

daily_reactions as (
    select
        segment_date,
        segment_type,
        segment_value,
        sum(case when is_like then 1 else 0 end) as like_count,
        count(*) as feedback_count
    from reaction_segments
    group by 1, 2, 3
),

final as (
    select
        coalesce(daily_evaluations.segment_date, daily_reactions.segment_date) as segment_date,
        coalesce(daily_evaluations.segment_type, daily_reactions.segment_type) as segment_type,
        coalesce(daily_evaluations.segment_value, daily_reactions.segment_value) as segment_value,
        coalesce(daily_evaluations.eval_count, 0) as eval_count,
        daily_evaluations.score_sum,
        daily_evaluations.score_sq_sum,
        coalesce(daily_reactions.like_count, 0) as like_count,
        coalesce(daily_reactions.feedback_count, 0) as feedback_count
    from daily_evaluations
    full outer join daily_reactions
        on
            daily_evaluations.segment_date = daily_reactions.segment_date
            and daily_evaluations.segment_type = daily_reactions.segment_type
            and daily_evaluations.segment_value = daily_reactions.segment_value
)

select * from final
