-- One row per ISO week and segment, each compared with the same segment's calendar week
-- before: the whole service (segment_type 'service') and each model version and evaluator.
-- Every statistic the weekly marts show is computed here, once, from the weeks of
-- int_weeks_aggregated (counts, means, standard deviations, and the previous week's); the
-- formulas are macros (macros/stats.sql).
-- A table: both weekly marts read it, so it is computed once per build.
{{ config(materialized='table', pre_hook="{{ statistics_session_settings() }}") }}

with weeks as (
    select * from {{ ref('int_weeks_aggregated') }}
),

t_critical_values as (
    select * from {{ ref('t_critical_values') }}
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
    from weeks
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
        week_end,
        iso_year,
        iso_week,
        week_label,
        segment_type,
        segment_value,
        is_complete_week,
        cast({{ confidence_level() }} as {{ type_double() }}) as confidence_level,
        eval_count,
        avg_score,
        stddev_score,
        {{ round_double('avg_score - avg_score_ci_half_width') }} as avg_score_ci_low,
        {{ round_double('avg_score + avg_score_ci_half_width') }} as avg_score_ci_high,
        avg_accuracy,
        avg_consistency,
        avg_emotion_match,
        prev_eval_count,
        prev_avg_score,
        cast(score_change as {{ type_double() }}) as score_change,
        cast({{ safe_divide('score_change * 100', 'prev_avg_score') }} as {{ type_double() }}) as score_change_pct,
        {{ round_double('score_change - score_change_half_width') }} as score_change_ci_low,
        {{ round_double('score_change + score_change_half_width') }} as score_change_ci_high,
        cast(score_change_p_value as {{ type_double() }}) as score_change_p_value,
        cast(score_change_q_value as {{ type_double() }}) as score_change_q_value,
        {{ round_double('score_mde') }} as score_mde,
        like_count,
        dislike_count,
        feedback_count,
        like_ratio,
        {{ round_double('like_ratio_wilson_low') }} as like_ratio_ci_low,
        {{ round_double('like_ratio_wilson_high') }} as like_ratio_ci_high,
        prev_feedback_count,
        prev_like_ratio,
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
