-- One row per ISO week, from the first to the last week with any valid evaluation or
-- reaction, with no gaps: a week without data is a row with zero counts, so "last week"
-- is always the calendar week before, never the last week that happened to have data.
{{ config(pre_hook="{{ statistics_session_settings() }}") }}

with daily_evaluations as (
    select * from {{ ref('int_evaluations_aggregated_daily') }}
),

daily_reactions as (
    select * from {{ ref('int_reactions_aggregated_daily') }}
),

daily_quarantine as (
    select * from {{ ref('int_quarantine_aggregated_daily') }}
),

t_critical_values as (
    select * from {{ ref('t_critical_values') }}
),

weekly_evaluations as (
    select
        {{ iso_week_start('evaluated_date') }} as week_start,
        sum(eval_count) as eval_count,
        sum(score_sum) as score_sum,
        sum(score_sq_sum) as score_sq_sum,
        sum(accuracy_count) as accuracy_count,
        sum(accuracy_sum) as accuracy_sum,
        sum(consistency_count) as consistency_count,
        sum(consistency_sum) as consistency_sum,
        sum(emotion_match_count) as emotion_match_count,
        sum(emotion_match_sum) as emotion_match_sum
    from daily_evaluations
    group by 1
),

weekly_reactions as (
    select
        {{ iso_week_start('reacted_date') }} as week_start,
        sum(like_count) as like_count,
        sum(dislike_count) as dislike_count,
        sum(feedback_count) as feedback_count
    from daily_reactions
    group by 1
),

weekly_quarantine as (
    select
        {{ iso_week_start('occurred_date') }} as week_start,
        sum(quarantined_count) as quarantined_count
    from daily_quarantine
    group by 1
),

active_weeks as (
    select week_start from weekly_evaluations
    union all
    select week_start from weekly_reactions
),

week_bounds as (
    select
        min(week_start) as first_week_start,
        max(week_start) as last_week_start
    from active_weeks
),

week_numbers as (
    {{ integer_series(4) }}
),

week_spine as (
    select {{ add_days('week_bounds.first_week_start', 'week_numbers.n * 7') }} as week_start
    from week_bounds
    cross join week_numbers
    where {{ add_days('week_bounds.first_week_start', 'week_numbers.n * 7') }} <= week_bounds.last_week_start
),

weekly_figures as (
    select
        week_spine.week_start,
        coalesce(weekly_evaluations.eval_count, 0) as eval_count,
        weekly_evaluations.score_sum,
        weekly_evaluations.score_sq_sum,
        weekly_evaluations.accuracy_sum,
        weekly_evaluations.accuracy_count,
        weekly_evaluations.consistency_sum,
        weekly_evaluations.consistency_count,
        weekly_evaluations.emotion_match_sum,
        weekly_evaluations.emotion_match_count,
        coalesce(weekly_reactions.like_count, 0) as like_count,
        coalesce(weekly_reactions.dislike_count, 0) as dislike_count,
        coalesce(weekly_reactions.feedback_count, 0) as feedback_count,
        {{ safe_divide('weekly_reactions.like_count', 'weekly_reactions.feedback_count') }} as like_ratio,
        coalesce(weekly_quarantine.quarantined_count, 0) as quarantined_count
    from week_spine
    left join weekly_evaluations
        on week_spine.week_start = weekly_evaluations.week_start
    left join weekly_reactions
        on week_spine.week_start = weekly_reactions.week_start
    left join weekly_quarantine
        on week_spine.week_start = weekly_quarantine.week_start
),

weekly_averages as (
    select
        *,
        {{ safe_divide('score_sum', 'eval_count') }} as avg_score,
        {{ stddev_from_sums('eval_count', 'score_sum', 'score_sq_sum') }} as stddev_score,
        {{ safe_divide('accuracy_sum', 'accuracy_count') }} as avg_accuracy,
        {{ safe_divide('consistency_sum', 'consistency_count') }} as avg_consistency,
        {{ safe_divide('emotion_match_sum', 'emotion_match_count') }} as avg_emotion_match
    from weekly_figures
),

-- The spine has no gaps, so the previous row is the previous calendar week.
with_previous_week as (
    select
        *,
        lag(eval_count) over (order by week_start) as prev_eval_count,
        lag(avg_score) over (order by week_start) as prev_avg_score,
        lag(stddev_score) over (order by week_start) as prev_stddev_score,
        lag(feedback_count) over (order by week_start) as prev_feedback_count,
        lag(like_count) over (order by week_start) as prev_like_count,
        lag(like_ratio) over (order by week_start) as prev_like_ratio
    from weekly_averages
),

-- Intervals and tests from counts, means and standard deviations only (macros/stats.sql),
-- one step per CTE; the inputs as doubles, as PostgreSQL divides integers as integers.
test_inputs as (
    select
        *,
        cast(eval_count as {{ type_double() }}) as eval_n,
        cast(prev_eval_count as {{ type_double() }}) as prev_eval_n,
        cast(like_count as {{ type_double() }}) as like_n,
        cast(feedback_count as {{ type_double() }}) as feedback_n,
        cast(prev_like_count as {{ type_double() }}) as prev_like_n,
        cast(prev_feedback_count as {{ type_double() }}) as prev_feedback_n,
        {{ t_table_df('eval_count - 1') }} as mean_table_df
    from with_previous_week
),

with_test_statistics as (
    select
        test_inputs.*,
        coalesce(
            mean_critical_values.t_critical_value,
            {{ t_critical_value_large_df('test_inputs.eval_n - 1.0', confidence_level()) }}
        ) as mean_t_critical_value,
        {{ welch_variance('stddev_score', 'eval_n', 'prev_stddev_score', 'prev_eval_n') }} as score_change_variance,
        {{ welch_df('stddev_score', 'eval_n', 'prev_stddev_score', 'prev_eval_n') }} as score_change_df,
        {{ two_proportion_z('like_n', 'feedback_n', 'prev_like_n', 'prev_feedback_n') }} as like_ratio_change_z,
        {{ wilson_bound('like_n', 'feedback_n', confidence_level(), 'low') }} as like_ratio_wilson_low,
        {{ wilson_bound('like_n', 'feedback_n', confidence_level(), 'high') }} as like_ratio_wilson_high
    from test_inputs
    left join t_critical_values as mean_critical_values
        on
            test_inputs.mean_table_df = mean_critical_values.df
            and mean_critical_values.confidence_level = {{ confidence_level() }}
),

with_t_statistics as (
    select
        *,
        {{ mean_ci_half_width('eval_n', 'stddev_score', 'mean_t_critical_value') }} as avg_score_ci_half_width,
        {{ safe_divide('avg_score - prev_avg_score', 'sqrt(score_change_variance)') }} as score_change_t
    from with_test_statistics
),

with_normal_deviates as (
    select
        *,
        {{ t_normal_deviate('score_change_t', 'score_change_df') }} as score_change_deviate
    from with_t_statistics
),

with_p_values as (
    select
        *,
        {{ t_two_sided_p_value('score_change_t', 'score_change_df', 'score_change_deviate') }} as score_change_p_value,
        {{ normal_two_sided_p_value('like_ratio_change_z') }} as like_ratio_change_p_value
    from with_normal_deviates
),

final as (
    select
        week_start,
        {{ add_days('week_start', 6) }} as week_end,
        {{ iso_year('week_start') }} as iso_year,
        {{ iso_week('week_start') }} as iso_week,
        cast({{ iso_week_label('week_start') }} as {{ dbt.type_string() }}) as week_label,
        cast(eval_count as {{ dbt.type_int() }}) as eval_count,
        cast(avg_score as {{ type_double() }}) as avg_score,
        cast(stddev_score as {{ type_double() }}) as stddev_score,
        cast(avg_accuracy as {{ type_double() }}) as avg_accuracy,
        cast(avg_consistency as {{ type_double() }}) as avg_consistency,
        cast(avg_emotion_match as {{ type_double() }}) as avg_emotion_match,
        cast(coalesce(prev_eval_count, 0) as {{ dbt.type_int() }}) as prev_eval_count,
        cast(prev_avg_score as {{ type_double() }}) as prev_avg_score,
        cast(
            {{ safe_divide('(avg_score - prev_avg_score) * 100', 'prev_avg_score') }} as {{ type_double() }}
        ) as score_change_pct,
        cast(like_count as {{ dbt.type_int() }}) as like_count,
        cast(dislike_count as {{ dbt.type_int() }}) as dislike_count,
        cast(feedback_count as {{ dbt.type_int() }}) as feedback_count,
        cast(like_ratio as {{ type_double() }}) as like_ratio,
        cast(coalesce(prev_feedback_count, 0) as {{ dbt.type_int() }}) as prev_feedback_count,
        cast(prev_like_ratio as {{ type_double() }}) as prev_like_ratio,
        cast((like_ratio - prev_like_ratio) * 100 as {{ type_double() }}) as like_ratio_change_pp,
        cast(quarantined_count as {{ dbt.type_int() }}) as quarantined_count,
        {{ add_days('week_start', 7) }} <= {{ as_of_date() }} as is_complete_week,
        cast({{ confidence_level() }} as {{ type_double() }}) as confidence_level,
        {{ round_double('avg_score - avg_score_ci_half_width') }} as avg_score_ci_low,
        {{ round_double('avg_score + avg_score_ci_half_width') }} as avg_score_ci_high,
        {{ round_double('like_ratio_wilson_low') }} as like_ratio_ci_low,
        {{ round_double('like_ratio_wilson_high') }} as like_ratio_ci_high,
        cast(score_change_p_value as {{ type_double() }}) as score_change_p_value,
        coalesce(score_change_p_value < {{ alpha() }}, false) as score_change_significant,
        cast(like_ratio_change_p_value as {{ type_double() }}) as like_ratio_change_p_value,
        coalesce(like_ratio_change_p_value < {{ alpha() }}, false) as like_ratio_change_significant,
        eval_count < {{ min_n() }} or feedback_count < {{ min_n() }} as is_low_volume
    from with_p_values
)

select * from final
