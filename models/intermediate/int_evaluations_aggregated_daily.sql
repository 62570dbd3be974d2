-- Additive daily aggregates (counts, sums, sums of squares), so that any coarser grain
-- weighs every evaluation the same instead of averaging daily averages.
{{ config(**incremental_by_day('evaluated_date')) }}

with evaluations as (
    select * from {{ ref('int_evaluations_deduplicated') }}
    where {{ in_lookback_window('evaluated_date') }}
),

final as (
    select
        evaluated_date,
        count(*) as eval_count,
        sum(score) as score_sum,
        sum(score * score) as score_sq_sum,
        count(accuracy) as accuracy_count,
        sum(accuracy) as accuracy_sum,
        count(consistency) as consistency_count,
        sum(consistency) as consistency_sum,
        count(emotion_match) as emotion_match_count,
        sum(emotion_match) as emotion_match_sum
    from evaluations
    group by 1
)

select * from final
