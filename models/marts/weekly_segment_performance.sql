-- One row per ISO week and segment (a model version or an evaluator) with any valid
-- evaluation or reaction that week. "Previous week" is the calendar week before, for the
-- same segment. Significance is corrected for the number of segments tested in the week
-- (Benjamini–Hochberg), so that one of many noisy segments is not called a regression.
{{ config(pre_hook="{{ statistics_session_settings() }}") }}

with segments as (
    select * from {{ ref('int_segments_aggregated_weekly') }}
),

t_critical_values as (
    select * from {{ ref('t_critical_values') }}
),

segment_figures as (
    select
        week_start,
        segment_type,
        segment_value,
        eval_count,
        like_count,
        feedback_count,
        {{ safe_divide('score_sum', 'eval_count') }} as avg_score,
        {{ stddev_from_sums('eval_count', 'score_sum', 'score_sq_sum') }} as stddev_score,
        {{ safe_divide('like_count', 'feedback_count') }} as like_ratio
    from segments
),

with_previous_week as (
    select
        this_week.*,
        coalesce(last_week.eval_count, 0) as prev_eval_count,
        last_week.avg_score as prev_avg_score,
        last_week.stddev_score as prev_stddev_score,
        coalesce(last_week.like_count, 0) as prev_like_count,
        coalesce(last_week.feedback_count, 0) as prev_feedback_count,
        last_week.like_ratio as prev_like_ratio
    from segment_figures as this_week
    left join segment_figures as last_week
        on
            this_week.segment_type = last_week.segment_type
            and this_week.segment_value = last_week.segment_value
            and {{ add_days('this_week.week_start', -7) }} = last_week.week_start
),

-- Intervals and tests as in weekly_performance, one step per CTE, inputs as doubles.
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
        sqrt(
            (like_ratio - like_ratio_test_low) * (like_ratio - like_ratio_test_low)
            + (prev_like_ratio_test_high - prev_like_ratio) * (prev_like_ratio_test_high - prev_like_ratio)
        ) as like_ratio_change_lower_margin,
        sqrt(
            (like_ratio_test_high - like_ratio) * (like_ratio_test_high - like_ratio)
            + (prev_like_ratio - prev_like_ratio_test_low) * (prev_like_ratio - prev_like_ratio_test_low)
        ) as like_ratio_change_upper_margin
    from with_t_statistics
),

with_p_values as (
    select
        *,
        {{ t_two_sided_p_value('score_change_t', 'score_change_df', 'score_change_deviate') }} as score_change_p_value,
        {{ normal_two_sided_p_value('like_ratio_change_z') }} as like_ratio_change_p_value
    from with_normal_deviates
),

p_values as (
    select
        week_start,
        segment_type,
        segment_value,
        'score' as metric,
        score_change_p_value as p_value
    from with_p_values
    where score_change_p_value is not null
    union all
    select
        week_start,
        segment_type,
        segment_value,
        'like_ratio' as metric,
        like_ratio_change_p_value as p_value
    from with_p_values
    where like_ratio_change_p_value is not null
),

ranked_p_values as (
    select
        *,
        row_number() over (
            partition by week_start, metric
            order by p_value, segment_type, segment_value
        ) as p_rank,
        count(*) over (partition by week_start, metric) as test_count
    from p_values
),

-- Benjamini–Hochberg adjusted p-values: q(k) = min over j >= k of p(j) * m / j, at most 1.
-- A segment is significant when q <= alpha, which is the step-up procedure's decision.
adjusted_p_values as (
    select
        week_start,
        segment_type,
        segment_value,
        metric,
        least(
            1.0,
            min(p_value * test_count / p_rank) over (
                partition by week_start, metric
                order by p_rank desc
                rows between unbounded preceding and current row
            )
        ) as q_value
    from ranked_p_values
),

segment_rows as (
    select
        with_p_values.week_start,
        cast({{ iso_week_label('with_p_values.week_start') }} as {{ dbt.type_string() }}) as week_label,
        cast(with_p_values.segment_type as {{ dbt.type_string() }}) as segment_type,
        cast(with_p_values.segment_value as {{ dbt.type_string() }}) as segment_value,
        cast(with_p_values.eval_count as {{ dbt.type_int() }}) as eval_count,
        cast(with_p_values.avg_score as {{ type_double() }}) as avg_score,
        cast(with_p_values.stddev_score as {{ type_double() }}) as stddev_score,
        {{ round_double('with_p_values.avg_score - with_p_values.avg_score_ci_half_width') }}
            as avg_score_ci_low,
        {{ round_double('with_p_values.avg_score + with_p_values.avg_score_ci_half_width') }}
            as avg_score_ci_high,
        cast(with_p_values.prev_eval_count as {{ dbt.type_int() }}) as prev_eval_count,
        cast(with_p_values.prev_avg_score as {{ type_double() }}) as prev_avg_score,
        cast(with_p_values.score_change as {{ type_double() }}) as score_change,
        {{ round_double('with_p_values.score_change - with_p_values.score_change_half_width') }}
            as score_change_ci_low,
        {{ round_double('with_p_values.score_change + with_p_values.score_change_half_width') }}
            as score_change_ci_high,
        cast(with_p_values.score_change_p_value as {{ type_double() }}) as score_change_p_value,
        cast(score_q_values.q_value as {{ type_double() }}) as score_change_q_value,
        coalesce(score_q_values.q_value <= {{ alpha() }}, false) as score_change_significant,
        cast(with_p_values.like_count as {{ dbt.type_int() }}) as like_count,
        cast(with_p_values.feedback_count as {{ dbt.type_int() }}) as feedback_count,
        cast(with_p_values.like_ratio as {{ type_double() }}) as like_ratio,
        {{ round_double('with_p_values.like_ratio_wilson_low') }} as like_ratio_ci_low,
        {{ round_double('with_p_values.like_ratio_wilson_high') }} as like_ratio_ci_high,
        cast(with_p_values.prev_feedback_count as {{ dbt.type_int() }}) as prev_feedback_count,
        cast(with_p_values.prev_like_ratio as {{ type_double() }}) as prev_like_ratio,
        cast(
            (with_p_values.like_ratio - with_p_values.prev_like_ratio) * 100 as {{ type_double() }}
        ) as like_ratio_change_pp,
        {{ round_double(
            '100 * (with_p_values.like_ratio - with_p_values.prev_like_ratio'
            ~ ' - with_p_values.like_ratio_change_lower_margin)'
        ) }} as like_ratio_change_ci_low_pp,
        {{ round_double(
            '100 * (with_p_values.like_ratio - with_p_values.prev_like_ratio'
            ~ ' + with_p_values.like_ratio_change_upper_margin)'
        ) }} as like_ratio_change_ci_high_pp,
        cast(with_p_values.like_ratio_change_p_value as {{ type_double() }}) as like_ratio_change_p_value,
        cast(like_ratio_q_values.q_value as {{ type_double() }}) as like_ratio_change_q_value,
        coalesce(like_ratio_q_values.q_value <= {{ alpha() }}, false) as like_ratio_change_significant,
        -- An evaluator has no reactions, so only its evaluations count towards its volume.
        with_p_values.eval_count < {{ min_n() }}
        or (
            with_p_values.segment_type = 'model_version'
            and with_p_values.feedback_count < {{ min_n() }}
        ) as is_low_volume
    from with_p_values
    left join adjusted_p_values as score_q_values
        on
            with_p_values.week_start = score_q_values.week_start
            and with_p_values.segment_type = score_q_values.segment_type
            and with_p_values.segment_value = score_q_values.segment_value
            and score_q_values.metric = 'score'
    left join adjusted_p_values as like_ratio_q_values
        on
            with_p_values.week_start = like_ratio_q_values.week_start
            and with_p_values.segment_type = like_ratio_q_values.segment_type
            and with_p_values.segment_value = like_ratio_q_values.segment_value
            and like_ratio_q_values.metric = 'like_ratio'
),

-- An evaluator whose evaluations this week and last week are exactly a model version's
-- (same counts, means and spreads): the two segments hold the same rows, so a report
-- shows the model version once and says so, instead of the same change twice. Compared on
-- the figures before the statistics: a self-join of the statistics CTEs makes Spark's
-- optimiser fold them into expressions that exhaust its memory.
same_rows as (
    select
        evaluators.week_start,
        evaluators.segment_value as evaluator,
        min(model_versions.segment_value) as model_version
    from with_previous_week as evaluators
    inner join with_previous_week as model_versions
        on
            evaluators.week_start = model_versions.week_start
            and model_versions.segment_type = 'model_version'
            and evaluators.eval_count = model_versions.eval_count
            and evaluators.prev_eval_count = model_versions.prev_eval_count
    where
        evaluators.segment_type = 'evaluator'
        and evaluators.eval_count > 0
        and coalesce(
            abs(evaluators.avg_score - model_versions.avg_score) < 1e-9,
            evaluators.avg_score is null and model_versions.avg_score is null
        )
        and coalesce(
            abs(evaluators.stddev_score - model_versions.stddev_score) < 1e-9,
            evaluators.stddev_score is null and model_versions.stddev_score is null
        )
        and coalesce(
            abs(evaluators.prev_avg_score - model_versions.prev_avg_score) < 1e-9,
            evaluators.prev_avg_score is null and model_versions.prev_avg_score is null
        )
    group by 1, 2
),

final as (
    select
        segment_rows.*,
        cast(same_rows.model_version as {{ dbt.type_string() }}) as same_rows_as_model_version
    from segment_rows
    left join same_rows
        on
            segment_rows.week_start = same_rows.week_start
            and segment_rows.segment_type = 'evaluator'
            and segment_rows.segment_value = same_rows.evaluator
)

select * from final
