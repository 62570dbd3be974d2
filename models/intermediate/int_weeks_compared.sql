-- One row per ISO week and segment, each compared with the same segment's calendar week
-- before: the whole service (segment_type 'service') and each model version and evaluator.
-- Every statistic the weekly marts show is computed here, once; the formulas are macros
-- (macros/stats.sql). The service has a row for every week from its first to its last,
-- empty weeks included; a segment has a row for each week it had data.
-- A table: both weekly marts read it, so it is computed once per build.
{{ config(materialized='table', pre_hook="{{ statistics_session_settings() }}") }}

with daily_evaluations as (
    select * from {{ ref('int_evaluations_aggregated_daily') }}
),

daily_reactions as (
    select * from {{ ref('int_reactions_aggregated_daily') }}
),

daily_segments as (
    select * from {{ ref('int_segments_aggregated_daily') }}
),

t_critical_values as (
    select * from {{ ref('t_critical_values') }}
),

-- The service's first and last day with data: its weeks run from the one to the other.
service_dates as (
    select
        min(evaluated_date) as first_date,
        max(evaluated_date) as last_date
    from daily_evaluations
    union all
    select
        min(reacted_date) as first_date,
        max(reacted_date) as last_date
    from daily_reactions
),

service_range as (
    select
        min(first_date) as first_date,
        max(last_date) as last_date
    from service_dates
),

service_bounds as (
    select
        {{ iso_week_start('first_date') }} as first_week_start,
        {{ iso_week_start('last_date') }} as last_week_start
    from service_range
),

week_numbers as (
    {{ integer_series(4) }}
),

-- Every week of the service, so that a week without data is a row of zero counts.
service_spine as (
    select
        {{ add_days('service_bounds.first_week_start', 'week_numbers.n * 7') }} as week_start,
        'service' as segment_type,
        'all' as segment_value
    from service_bounds
    cross join week_numbers
    where {{ add_days('service_bounds.first_week_start', 'week_numbers.n * 7') }} <= service_bounds.last_week_start
),

-- The days' figures, and the service's weeks as rows of zeros (dated their first day).
daily_figures as (
    select
        evaluated_date as figure_date,
        'service' as segment_type,
        'all' as segment_value,
        eval_count,
        score_sum,
        score_sq_sum,
        accuracy_count,
        accuracy_sum,
        consistency_count,
        consistency_sum,
        emotion_match_count,
        emotion_match_sum,
        0 as like_count,
        0 as dislike_count,
        0 as feedback_count
    from daily_evaluations
    union all
    select
        reacted_date as figure_date,
        'service' as segment_type,
        'all' as segment_value,
        0 as eval_count,
        null as score_sum,
        null as score_sq_sum,
        null as accuracy_count,
        null as accuracy_sum,
        null as consistency_count,
        null as consistency_sum,
        null as emotion_match_count,
        null as emotion_match_sum,
        like_count,
        dislike_count,
        feedback_count
    from daily_reactions
    union all
    select
        segment_date as figure_date,
        segment_type,
        segment_value,
        eval_count,
        score_sum,
        score_sq_sum,
        null as accuracy_count,
        null as accuracy_sum,
        null as consistency_count,
        null as consistency_sum,
        null as emotion_match_count,
        null as emotion_match_sum,
        like_count,
        null as dislike_count,
        feedback_count
    from daily_segments
    union all
    select
        week_start as figure_date,
        segment_type,
        segment_value,
        0 as eval_count,
        null as score_sum,
        null as score_sq_sum,
        null as accuracy_count,
        null as accuracy_sum,
        null as consistency_count,
        null as consistency_sum,
        null as emotion_match_count,
        null as emotion_match_sum,
        0 as like_count,
        0 as dislike_count,
        0 as feedback_count
    from service_spine
),

-- The one roll-up from days to weeks, for the service and the segments alike: the service
-- has a row for each of its weeks, a segment for each week it had data. A segment has no
-- dislike count (its reactions are likes out of all).
weekly_figures as (
    select
        {{ iso_week_start('figure_date') }} as week_start,
        segment_type,
        segment_value,
        coalesce(sum(eval_count), 0) as eval_count,
        sum(score_sum) as score_sum,
        sum(score_sq_sum) as score_sq_sum,
        sum(accuracy_count) as accuracy_count,
        sum(accuracy_sum) as accuracy_sum,
        sum(consistency_count) as consistency_count,
        sum(consistency_sum) as consistency_sum,
        sum(emotion_match_count) as emotion_match_count,
        sum(emotion_match_sum) as emotion_match_sum,
        coalesce(sum(like_count), 0) as like_count,
        case when segment_type = 'service' then coalesce(sum(dislike_count), 0) end as dislike_count,
        coalesce(sum(feedback_count), 0) as feedback_count
    from daily_figures
    group by 1, 2, 3
),

weekly_averages as (
    select
        *,
        {{ safe_divide('score_sum', 'eval_count') }} as avg_score,
        {{ stddev_from_sums('eval_count', 'score_sum', 'score_sq_sum') }} as stddev_score,
        {{ safe_divide('accuracy_sum', 'accuracy_count') }} as avg_accuracy,
        {{ safe_divide('consistency_sum', 'consistency_count') }} as avg_consistency,
        {{ safe_divide('emotion_match_sum', 'emotion_match_count') }} as avg_emotion_match,
        {{ safe_divide('like_count', 'feedback_count') }} as like_ratio
    from weekly_figures
),

-- The one definition of "previous week": the same segment's calendar week before. A week
-- with no row there (a segment's first week, or the service's first) has zero counts. The
-- row before in week order is that week when it starts 7 days earlier (a window, not a
-- self-join: Spark would compute the weeks twice).
with_row_before as (
    select
        *,
        lag(week_start) over segment_weeks as row_before_week_start,
        lag(eval_count) over segment_weeks as row_before_eval_count,
        lag(avg_score) over segment_weeks as row_before_avg_score,
        lag(stddev_score) over segment_weeks as row_before_stddev_score,
        lag(like_count) over segment_weeks as row_before_like_count,
        lag(feedback_count) over segment_weeks as row_before_feedback_count,
        lag(like_ratio) over segment_weeks as row_before_like_ratio
    from weekly_averages
    window segment_weeks as (partition by segment_type, segment_value order by week_start)
),

with_previous_week as (
    select
        *,
        coalesce(case when is_week_after then row_before_eval_count end, 0) as prev_eval_count,
        case when is_week_after then row_before_avg_score end as prev_avg_score,
        case when is_week_after then row_before_stddev_score end as prev_stddev_score,
        coalesce(case when is_week_after then row_before_like_count end, 0) as prev_like_count,
        coalesce(case when is_week_after then row_before_feedback_count end, 0) as prev_feedback_count,
        case when is_week_after then row_before_like_ratio end as prev_like_ratio
    from (
        select
            *,
            coalesce({{ add_days('row_before_week_start', 7) }} = week_start, false) as is_week_after
        from with_row_before
    ) as rows_before
),

-- Intervals and tests from counts, means and standard deviations only, one step per CTE;
-- the inputs as doubles, as PostgreSQL divides integers as integers.
test_inputs as (
    select
        *,
        avg_score - prev_avg_score as score_change,
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
        -- The smallest changes this week's and last week's n and spread could detect.
        {{ mean_detectable_change('stddev_score', 'eval_n', 'prev_stddev_score', 'prev_eval_n') }} as score_mde,
        {{ proportion_detectable_change('like_n', 'feedback_n', 'prev_like_n', 'prev_feedback_n') }} as like_ratio_mde,
        {{ wilson_bound('like_n', 'feedback_n', confidence_level(), 'low') }} as like_ratio_wilson_low,
        {{ wilson_bound('like_n', 'feedback_n', confidence_level(), 'high') }} as like_ratio_wilson_high,
        -- Newcombe's interval of the change combines the two weeks' Wilson intervals at 1 - alpha.
        {{ wilson_bound('like_n', 'feedback_n', test_confidence_level(), 'low') }} as like_ratio_test_low,
        {{ wilson_bound('like_n', 'feedback_n', test_confidence_level(), 'high') }} as like_ratio_test_high,
        {{ wilson_bound('prev_like_n', 'prev_feedback_n', test_confidence_level(), 'low') }}
            as prev_like_ratio_test_low,
        {{ wilson_bound('prev_like_n', 'prev_feedback_n', test_confidence_level(), 'high') }}
            as prev_like_ratio_test_high
    from test_inputs
    left join t_critical_values as mean_critical_values
        on
            test_inputs.mean_table_df = mean_critical_values.df
            and mean_critical_values.confidence_level = {{ confidence_level() }}
),

with_t_statistics as (
    select
        with_test_statistics.*,
        coalesce(
            change_critical_values.t_critical_value,
            {{ t_critical_value_large_df('with_test_statistics.score_change_df', test_confidence_level()) }}
        ) as change_t_critical_value,
        {{ mean_ci_half_width('eval_n', 'stddev_score', 'mean_t_critical_value') }} as avg_score_ci_half_width,
        {{ safe_divide('score_change', 'sqrt(score_change_variance)') }} as score_change_t
    from with_test_statistics
    left join t_critical_values as change_critical_values
        on
            {{ t_table_df('with_test_statistics.score_change_df') }} = change_critical_values.df
            and change_critical_values.confidence_level = {{ test_confidence_level() }}
),

with_normal_deviates as (
    select
        *,
        {{ t_normal_deviate('score_change_t', 'score_change_df') }} as score_change_deviate,
        -- Welch's interval of the change, at 1 - alpha.
        change_t_critical_value * sqrt(score_change_variance) as score_change_half_width,
        -- Newcombe's interval of the change, at 1 - alpha.
        {{ newcombe_bound(
            'like_ratio', 'like_ratio_test_low', 'like_ratio_test_high',
            'prev_like_ratio', 'prev_like_ratio_test_low', 'prev_like_ratio_test_high', 'low'
        ) }} as like_ratio_change_low,
        {{ newcombe_bound(
            'like_ratio', 'like_ratio_test_low', 'like_ratio_test_high',
            'prev_like_ratio', 'prev_like_ratio_test_low', 'prev_like_ratio_test_high', 'high'
        ) }} as like_ratio_change_high
    from with_t_statistics
),

-- A planning barrier on PostgreSQL (macros/planning.sql, cte_materialized).
with_p_values as {{ cte_materialized() }} (
    select
        *,
        -- The tests corrected together: the service is a family of its own (one test, so its
        -- q-value is its p-value); the week's segments of both types are one family.
        case when segment_type = 'service' then 'service' else 'segments' end as test_family,
        {{ t_two_sided_p_value('score_change_t', 'score_change_df', 'score_change_deviate') }} as score_change_p_value,
        {{ normal_two_sided_p_value('like_ratio_change_z') }} as like_ratio_change_p_value
    from with_normal_deviates
),

-- Benjamini–Hochberg per week, family and metric, as window expressions over the rows.
with_p_value_ranks as (
    select
        *,
        {{ p_value_rank(
            'score_change_p_value', ['week_start', 'test_family'], ['segment_type', 'segment_value']
        ) }} as score_change_p_rank,
        {{ p_value_family_size('score_change_p_value', ['week_start', 'test_family']) }} as score_change_test_count,
        {{ p_value_rank(
            'like_ratio_change_p_value', ['week_start', 'test_family'], ['segment_type', 'segment_value']
        ) }} as like_ratio_change_p_rank,
        {{ p_value_family_size('like_ratio_change_p_value', ['week_start', 'test_family']) }}
            as like_ratio_change_test_count
    from with_p_values
),

with_q_values as (
    select
        *,
        {{ benjamini_hochberg_q_value(
            'score_change_p_value', 'score_change_p_rank', 'score_change_test_count', ['week_start', 'test_family']
        ) }} as score_change_q_value,
        {{ benjamini_hochberg_q_value(
            'like_ratio_change_p_value', 'like_ratio_change_p_rank', 'like_ratio_change_test_count',
            ['week_start', 'test_family']
        ) }} as like_ratio_change_q_value
    from with_p_value_ranks
),

final as (
    select
        week_start,
        {{ add_days('week_start', 6) }} as week_end,
        {{ iso_year('week_start') }} as iso_year,
        {{ iso_week('week_start') }} as iso_week,
        cast({{ iso_week_label('week_start') }} as {{ dbt.type_string() }}) as week_label,
        cast(segment_type as {{ dbt.type_string() }}) as segment_type,
        cast(segment_value as {{ dbt.type_string() }}) as segment_value,
        {{ add_days('week_start', 7) }} <= {{ as_of_date() }} as is_complete_week,
        cast({{ confidence_level() }} as {{ type_double() }}) as confidence_level,
        cast(eval_count as {{ dbt.type_int() }}) as eval_count,
        cast(avg_score as {{ type_double() }}) as avg_score,
        cast(stddev_score as {{ type_double() }}) as stddev_score,
        {{ round_double('avg_score - avg_score_ci_half_width') }} as avg_score_ci_low,
        {{ round_double('avg_score + avg_score_ci_half_width') }} as avg_score_ci_high,
        cast(avg_accuracy as {{ type_double() }}) as avg_accuracy,
        cast(avg_consistency as {{ type_double() }}) as avg_consistency,
        cast(avg_emotion_match as {{ type_double() }}) as avg_emotion_match,
        cast(prev_eval_count as {{ dbt.type_int() }}) as prev_eval_count,
        cast(prev_avg_score as {{ type_double() }}) as prev_avg_score,
        cast(score_change as {{ type_double() }}) as score_change,
        cast({{ safe_divide('score_change * 100', 'prev_avg_score') }} as {{ type_double() }}) as score_change_pct,
        {{ round_double('score_change - score_change_half_width') }} as score_change_ci_low,
        {{ round_double('score_change + score_change_half_width') }} as score_change_ci_high,
        cast(score_change_p_value as {{ type_double() }}) as score_change_p_value,
        cast(score_change_q_value as {{ type_double() }}) as score_change_q_value,
        {{ round_double('score_mde') }} as score_mde,
        cast(like_count as {{ dbt.type_int() }}) as like_count,
        cast(dislike_count as {{ dbt.type_int() }}) as dislike_count,
        cast(feedback_count as {{ dbt.type_int() }}) as feedback_count,
        cast(like_ratio as {{ type_double() }}) as like_ratio,
        {{ round_double('like_ratio_wilson_low') }} as like_ratio_ci_low,
        {{ round_double('like_ratio_wilson_high') }} as like_ratio_ci_high,
        cast(prev_feedback_count as {{ dbt.type_int() }}) as prev_feedback_count,
        cast(prev_like_ratio as {{ type_double() }}) as prev_like_ratio,
        cast((like_ratio - prev_like_ratio) * 100 as {{ type_double() }}) as like_ratio_change_pp,
        {{ round_double('100 * like_ratio_change_low') }}
            as like_ratio_change_ci_low_pp,
        {{ round_double('100 * like_ratio_change_high') }}
            as like_ratio_change_ci_high_pp,
        cast(like_ratio_change_p_value as {{ type_double() }}) as like_ratio_change_p_value,
        cast(like_ratio_change_q_value as {{ type_double() }}) as like_ratio_change_q_value,
        {{ round_double('100 * like_ratio_mde') }} as like_ratio_mde_pp,
        -- Significant at var('alpha'): the service's one test by its p-value, a segment after
        -- the Benjamini–Hochberg correction over the week's segments (the step-up decision).
        coalesce(
            case
                when test_family = 'service' then score_change_p_value < {{ alpha() }}
                else score_change_q_value <= {{ alpha() }}
            end,
            false
        ) as score_change_significant,
        coalesce(
            case
                when test_family = 'service' then like_ratio_change_p_value < {{ alpha() }}
                else like_ratio_change_q_value <= {{ alpha() }}
            end,
            false
        ) as like_ratio_change_significant,
        -- Low volume: fewer than var('min_n') evaluations, or reactions where the segment can
        -- have them (an evaluator has none).
        eval_count < {{ min_n() }}
        or (segment_type != 'evaluator' and feedback_count < {{ min_n() }}) as is_low_volume
    from with_q_values
)

select * from final
