-- Additive weekly aggregates per segment, in long form, summed from the daily ones.
with daily_segments as (
    select * from {{ ref('int_segments_aggregated_daily') }}
),

final as (
    select
        {{ iso_week_start('segment_date') }} as week_start,
        segment_type,
        segment_value,
        sum(eval_count) as eval_count,
        sum(score_sum) as score_sum,
        sum(score_sq_sum) as score_sq_sum,
        sum(like_count) as like_count,
        sum(feedback_count) as feedback_count
    from daily_segments
    group by 1, 2, 3
)

select * from final
