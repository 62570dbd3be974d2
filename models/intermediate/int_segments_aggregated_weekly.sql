-- Additive weekly aggregates per segment, in long form: by model version (evaluations
-- and reactions) and by evaluator (evaluations only: a reaction has no evaluator).
-- A reaction belongs to the model version of the message it reacts to.
with evaluations as (
    select * from {{ ref('int_evaluations_deduplicated') }}
),

reactions as (
    select * from {{ ref('int_feedback_latest_reactions') }}
),

conversation_log as (
    select * from {{ ref('stg_conversation_log') }}
),

message_versions as (
    -- A message delivered twice with different versions (rare) counts under one of them.
    select
        message_id,
        max(model_version) as model_version
    from conversation_log
    where message_id is not null
    group by 1
),

evaluation_segments as (
    select
        {{ iso_week_start('evaluated_date') }} as week_start,
        'model_version' as segment_type,
        coalesce(nullif(model_version, ''), 'unknown') as segment_value,
        score
    from evaluations
    union all
    select
        {{ iso_week_start('evaluated_date') }} as week_start,
        'evaluator' as segment_type,
        coalesce(nullif(evaluator, ''), 'unknown') as segment_value,
        score
    from evaluations
),

reaction_segments as (
    select
        {{ iso_week_start('reactions.reacted_date') }} as week_start,
        'model_version' as segment_type,
        coalesce(nullif(message_versions.model_version, ''), 'unknown') as segment_value,
        reactions.is_like
    from reactions
    left join message_versions
        on reactions.message_id = message_versions.message_id
),

weekly_evaluations as (
    select
        week_start,
        segment_type,
        segment_value,
        count(*) as eval_count,
        sum(score) as score_sum,
        sum(score * score) as score_sq_sum
    from evaluation_segments
    group by 1, 2, 3
),

weekly_reactions as (
    select
        week_start,
        segment_type,
        segment_value,
        sum(case when is_like then 1 else 0 end) as like_count,
        count(*) as feedback_count
    from reaction_segments
    group by 1, 2, 3
),

final as (
    select
        coalesce(weekly_evaluations.week_start, weekly_reactions.week_start) as week_start,
        coalesce(weekly_evaluations.segment_type, weekly_reactions.segment_type) as segment_type,
        coalesce(weekly_evaluations.segment_value, weekly_reactions.segment_value) as segment_value,
        coalesce(weekly_evaluations.eval_count, 0) as eval_count,
        weekly_evaluations.score_sum,
        weekly_evaluations.score_sq_sum,
        coalesce(weekly_reactions.like_count, 0) as like_count,
        coalesce(weekly_reactions.feedback_count, 0) as feedback_count
    from weekly_evaluations
    full outer join weekly_reactions
        on
            weekly_evaluations.week_start = weekly_reactions.week_start
            and weekly_evaluations.segment_type = weekly_reactions.segment_type
            and weekly_evaluations.segment_value = weekly_reactions.segment_value
)

select * from final
