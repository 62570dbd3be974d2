-- One row per AI response usable for tuning: its evaluations and reactions summed up, a
-- label from the var thresholds, and the split of its conversation. The home of the
-- labelled responses: preference_pairs and score_feedback_disagreements read this table,
-- so the text of every response is written once (docs/performance.md).
with conversation_log as (
    select * from {{ ref('stg_conversation_log') }}
),

evaluations as (
    select * from {{ ref('int_evaluations_deduplicated') }}
),

latest_reactions as (
    select * from {{ ref('int_feedback_latest_reactions') }}
),

usable_responses as (
    -- A training example needs both sides of the exchange and a conversation to split on.
    select
        *,
        row_number() over (
            partition by message_id
            order by responded_at desc, conversation_id desc, model_version desc, ai_response desc
        ) as copy_rank
    from conversation_log
    where
        message_id is not null
        and conversation_id is not null
        and trim(user_message) <> ''
        and trim(ai_response) <> ''
),

responses as (
    select * from usable_responses
    where copy_rank = 1
),

evaluations_per_response as (
    select
        message_id,
        count(*) as eval_count,
        avg(score) as mean_score,
        avg(accuracy) as mean_accuracy,
        avg(consistency) as mean_consistency,
        avg(emotion_match) as mean_emotion_match
    from evaluations
    where message_id is not null
    group by 1
),

reactions_per_response as (
    select
        message_id,
        sum(case when is_like then 1 else 0 end) as like_count,
        sum(case when is_dislike then 1 else 0 end) as dislike_count
    from latest_reactions
    where message_id is not null
    group by 1
),

joined as (
    select
        responses.message_id,
        responses.conversation_id,
        responses.model_version,
        responses.responded_at,
        responses.responded_date,
        responses.user_message,
        responses.ai_response,
        coalesce(evaluations_per_response.eval_count, 0) as eval_count,
        -- Rounded so that a mean of 7.9 and 8.1 is 8 on every engine, not 7.999999….
        {{ round_double('evaluations_per_response.mean_score', 4) }} as mean_score,
        {{ round_double('evaluations_per_response.mean_accuracy', 4) }} as mean_accuracy,
        {{ round_double('evaluations_per_response.mean_consistency', 4) }} as mean_consistency,
        {{ round_double('evaluations_per_response.mean_emotion_match', 4) }} as mean_emotion_match,
        coalesce(reactions_per_response.like_count, 0) as like_count,
        coalesce(reactions_per_response.dislike_count, 0) as dislike_count
    from responses
    left join evaluations_per_response
        on responses.message_id = evaluations_per_response.message_id
    left join reactions_per_response
        on responses.message_id = reactions_per_response.message_id
),

labelled as (
    -- `label` is a keyword to sqlfluff, and the name every consumer of these marts expects.
    select
        *,
        case
            when
                mean_score >= {{ tuning_score_threshold('good') }}
                and dislike_count <= like_count
                then 'good'
            when
                mean_score <= {{ tuning_score_threshold('bad') }}
                or dislike_count > like_count
                then 'bad'
            else 'neutral'
        end as label,  -- noqa: RF04
        {{ tuning_split('conversation_id') }} as split
    from joined
),

final as (
    select
        message_id,
        conversation_id,
        model_version,
        responded_at,
        responded_date,
        user_message,
        ai_response,
        cast(eval_count as {{ dbt.type_int() }}) as eval_count,
        mean_score,
        mean_accuracy,
        mean_consistency,
        mean_emotion_match,
        cast(like_count as {{ dbt.type_int() }}) as like_count,
        cast(dislike_count as {{ dbt.type_int() }}) as dislike_count,
        label,
        split
    from labelled
)

select * from final
