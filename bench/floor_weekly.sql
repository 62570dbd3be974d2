-- The floor: the weekly figures straight from raw, hand-written, with the models' rules
-- (valid rows, deduplication by id, label mapping, the latest reaction per user and
-- message). Standard SQL that DuckDB, PostgreSQL and Spark all run. {raw} and
-- {reference} are filled in by bench/run.py.
with valid_evaluations as (
    select
        evaluation_id,
        created_at,
        score,
        evaluator,
        model_version,
        case when accuracy between 0 and 10 then accuracy end as accuracy,
        case when consistency between 0 and 10 then consistency end as consistency,
        case when emotion_match between 0 and 10 then emotion_match end as emotion_match
    from {raw}.conversation_evaluation
    where evaluation_id is not null and created_at is not null and score between 0 and 10
),

evaluations as (
    select
        *,
        row_number() over (
            partition by evaluation_id
            order by created_at desc, score desc, model_version desc, evaluator desc
        ) as copy_rank
    from valid_evaluations
),

weekly_evaluations as (
    select
        cast(date_trunc('week', cast(created_at as date)) as date) as week_start,
        count(*) as eval_count,
        avg(score) as avg_score,
        stddev_samp(score) as stddev_score,
        avg(accuracy) as avg_accuracy,
        avg(consistency) as avg_consistency,
        avg(emotion_match) as avg_emotion_match
    from evaluations
    where copy_rank = 1
    group by 1
),

labelled_feedback as (
    select
        feedback_log.feedback_id,
        feedback_log.message_id,
        feedback_log.user_id,
        feedback_log.created_at,
        label_map.label
    from {raw}.feedback_log as feedback_log
    inner join {reference}.feedback_label_map as label_map
        on lower(trim(feedback_log.feedback)) = label_map.raw_label
    where feedback_log.feedback_id is not null and feedback_log.created_at is not null
),

feedback_copies as (
    select
        *,
        row_number() over (
            partition by feedback_id
            order by created_at desc, label desc, message_id desc, user_id desc
        ) as copy_rank
    from labelled_feedback
),

reactions as (
    select
        *,
        case
            when message_id is null or user_id is null then 1
            else row_number() over (
                partition by message_id, user_id
                order by created_at desc, feedback_id desc
            )
        end as reaction_rank
    from feedback_copies
    where copy_rank = 1
),

weekly_reactions as (
    select
        cast(date_trunc('week', cast(created_at as date)) as date) as week_start,
        sum(case when label = 'like' then 1 else 0 end) as like_count,
        sum(case when label = 'dislike' then 1 else 0 end) as dislike_count,
        count(*) as feedback_count
    from reactions
    where reaction_rank = 1
    group by 1
),

weekly as (
    select
        coalesce(weekly_evaluations.week_start, weekly_reactions.week_start) as week_start,
        weekly_evaluations.eval_count,
        weekly_evaluations.avg_score,
        weekly_evaluations.stddev_score,
        weekly_evaluations.avg_accuracy,
        weekly_evaluations.avg_consistency,
        weekly_evaluations.avg_emotion_match,
        weekly_reactions.like_count,
        weekly_reactions.dislike_count,
        weekly_reactions.feedback_count
    from weekly_evaluations
    full outer join weekly_reactions
        on weekly_evaluations.week_start = weekly_reactions.week_start
)

select
    *,
    lag(avg_score) over (order by week_start) as prev_avg_score,
    cast(like_count as double precision) / feedback_count as like_ratio
from weekly
order by week_start
