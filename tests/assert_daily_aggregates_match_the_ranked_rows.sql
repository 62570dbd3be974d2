-- The weekly figures (from the daily aggregates, ranked straight from staging) and the
-- tuning and data-quality marts (from the row-level ranked tables) apply the same
-- deduplication rules (macros/deduplication.sql), so they count the same rows each day.
-- Any row returned is a day on which the two disagree.
with daily_evaluations as (
    select * from {{ ref('int_evaluations_aggregated_daily') }}
),

daily_reactions as (
    select * from {{ ref('int_reactions_aggregated_daily') }}
),

evaluation_rows as (
    select
        evaluated_date,
        count(*) as eval_count,
        sum(score) as score_sum
    from {{ ref('int_evaluations_deduplicated') }}
    group by 1
),

reaction_rows as (
    select
        reacted_date,
        sum(case when is_like then 1 else 0 end) as like_count,
        count(*) as feedback_count
    from {{ ref('int_feedback_latest_reactions') }}
    group by 1
),

evaluation_mismatches as (
    select coalesce(daily_evaluations.evaluated_date, evaluation_rows.evaluated_date) as day_date
    from daily_evaluations
    full outer join evaluation_rows
        on daily_evaluations.evaluated_date = evaluation_rows.evaluated_date
    where
        daily_evaluations.evaluated_date is null
        or evaluation_rows.evaluated_date is null
        or daily_evaluations.eval_count != evaluation_rows.eval_count
        or abs(daily_evaluations.score_sum - evaluation_rows.score_sum) > 1e-6
),

reaction_mismatches as (
    select coalesce(daily_reactions.reacted_date, reaction_rows.reacted_date) as day_date
    from daily_reactions
    full outer join reaction_rows
        on daily_reactions.reacted_date = reaction_rows.reacted_date
    where
        daily_reactions.reacted_date is null
        or reaction_rows.reacted_date is null
        or daily_reactions.like_count != reaction_rows.like_count
        or daily_reactions.feedback_count != reaction_rows.feedback_count
),

final as (
    select
        'evaluations' as aggregate_name,
        day_date
    from evaluation_mismatches
    union all
    select
        'reactions' as aggregate_name,
        day_date
    from reaction_mismatches
)

select * from final
