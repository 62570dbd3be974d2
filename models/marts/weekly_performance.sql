-- One row per ISO week, from the first to the last week with any valid evaluation or
-- reaction, with no gaps: a week without data is a row with zero counts, so "last week"
-- is always the calendar week before, never the last week that happened to have data.
-- The figures and statistics are the whole service's rows of int_weeks_compared; what is
-- this mart's own is the count of quarantined rows.
with weeks_compared as (
    select * from {{ ref('int_weeks_compared') }}
    where segment_type = 'service'
),

daily_quarantine as (
    select * from {{ ref('int_quarantine_aggregated_daily') }}
),

weekly_quarantine as (
    select
        {{ iso_week_start('occurred_date') }} as week_start,
        sum(quarantined_count) as quarantined_count
    from daily_quarantine
    group by 1
),

final as (
    select
        weeks_compared.week_start,
        weeks_compared.week_end,
        weeks_compared.iso_year,
        weeks_compared.iso_week,
        weeks_compared.week_label,
        weeks_compared.eval_count,
        weeks_compared.avg_score,
        weeks_compared.stddev_score,
        weeks_compared.avg_accuracy,
        weeks_compared.avg_consistency,
        weeks_compared.avg_emotion_match,
        weeks_compared.prev_eval_count,
        weeks_compared.prev_avg_score,
        weeks_compared.score_change_pct,
        weeks_compared.like_count,
        weeks_compared.dislike_count,
        weeks_compared.feedback_count,
        weeks_compared.like_ratio,
        weeks_compared.prev_feedback_count,
        weeks_compared.prev_like_ratio,
        weeks_compared.like_ratio_change_pp,
        cast(coalesce(weekly_quarantine.quarantined_count, 0) as {{ dbt.type_int() }}) as quarantined_count,
        weeks_compared.is_complete_week,
        weeks_compared.confidence_level,
        weeks_compared.avg_score_ci_low,
        weeks_compared.avg_score_ci_high,
        weeks_compared.like_ratio_ci_low,
        weeks_compared.like_ratio_ci_high,
        weeks_compared.score_change_p_value,
        weeks_compared.score_change_significant,
        weeks_compared.score_mde,
        weeks_compared.like_ratio_change_p_value,
        weeks_compared.like_ratio_change_significant,
        weeks_compared.like_ratio_mde_pp,
        weeks_compared.is_low_volume
    from weeks_compared
    left join weekly_quarantine
        on weeks_compared.week_start = weekly_quarantine.week_start
)

select * from final
