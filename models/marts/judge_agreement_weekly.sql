-- One row per ISO week and segment with at least one matched pair: the whole service
-- (segment_type 'service') and each model version. A matched pair is a message with at
-- least one valid human evaluation and at least one valid LLM-judge evaluation; each side
-- is its mean score for the message, and the pair belongs to the week of the message's
-- first judge evaluation. Every statistic comes from the week's counts and sums (of
-- scores, squares, products and average ranks: int_judge_pairs_aggregated_weekly); the
-- formulas are macros (macros/stats.sql).
{{ config(pre_hook="{{ statistics_session_settings() }}") }}

with weekly_sums as (
    select
        *,
        cast(pair_count as {{ type_double() }}) as pair_n
    from {{ ref('int_judge_pairs_aggregated_weekly') }}
),

t_critical_values as (
    select * from {{ ref('t_critical_values') }}
),

weekly_moments as (
    select
        *,
        human_sum / pair_n as avg_human_score,
        judge_sum / pair_n as avg_judge_score,
        difference_sum / pair_n as judge_bias,
        difference_sq_sum / pair_n as mean_squared_difference,
        {{ stddev_from_sums('pair_n', 'difference_sum', 'difference_sq_sum') }} as stddev_difference,
        {{ population_variance_from_sums('pair_n', 'human_sum', 'human_sq_sum') }} as human_variance,
        {{ population_variance_from_sums('pair_n', 'judge_sum', 'judge_sq_sum') }} as judge_variance,
        {{ sample_variance_from_sums('2.0 * pair_n', 'human_sum + judge_sum', 'human_sq_sum + judge_sq_sum') }}
            as pooled_variance,
        {{ correlation_from_sums(
            'pair_n', 'human_rank_sum', 'judge_rank_sum', 'human_rank_sq_sum', 'judge_rank_sq_sum', 'rank_product_sum'
        ) }} as spearman_rho
    from weekly_sums
),

-- The one definition of "previous week": the same segment's calendar week before.
with_previous_week as (
    select
        this_week.*,
        coalesce(last_week.pair_count, 0) as prev_pair_count,
        coalesce(last_week.pair_n, 0.0) as prev_pair_n,
        last_week.judge_bias as prev_judge_bias,
        last_week.stddev_difference as prev_stddev_difference,
        {{ t_table_df('this_week.pair_count - 1') }} as bias_table_df
    from weekly_moments as this_week
    left join weekly_moments as last_week
        on
            this_week.segment_type = last_week.segment_type
            and this_week.segment_value = last_week.segment_value
            and {{ add_days('this_week.week_start', -7) }} = last_week.week_start
),

with_agreement as (
    select
        with_previous_week.*,
        {{ quadratic_weighted_kappa(
            'mean_squared_difference', 'human_variance', 'judge_variance', 'avg_human_score', 'avg_judge_score'
        ) }} as quadratic_weighted_kappa,
        {{ krippendorff_interval_alpha('mean_squared_difference', 'pooled_variance') }} as krippendorff_alpha,
        {{ mean_ci_half_width(
            'pair_n',
            'stddev_difference',
            'coalesce(bias_critical_values.t_critical_value, '
            ~ t_critical_value_large_df('pair_n - 1.0', confidence_level()) ~ ')'
        ) }} as judge_bias_ci_half_width,
        {{ normal_critical_value(confidence_level()) }} * stddev_difference as agreement_half_width,
        judge_bias - prev_judge_bias as judge_bias_change,
        {{ welch_variance('stddev_difference', 'pair_n', 'prev_stddev_difference', 'prev_pair_n') }}
            as judge_bias_change_variance,
        {{ welch_df('stddev_difference', 'pair_n', 'prev_stddev_difference', 'prev_pair_n') }}
            as judge_bias_change_df
    from with_previous_week
    left join t_critical_values as bias_critical_values
        on
            with_previous_week.bias_table_df = bias_critical_values.df
            and bias_critical_values.confidence_level = {{ confidence_level() }}
),

with_change_statistics as (
    select
        with_agreement.*,
        -- Welch's interval of the change, at 1 - alpha.
        coalesce(
            change_critical_values.t_critical_value,
            {{ t_critical_value_large_df('with_agreement.judge_bias_change_df', test_confidence_level()) }}
        ) * sqrt(judge_bias_change_variance) as judge_bias_change_half_width,
        {{ safe_divide('judge_bias_change', 'sqrt(judge_bias_change_variance)') }} as judge_bias_change_t
    from with_agreement
    left join t_critical_values as change_critical_values
        on
            {{ t_table_df('with_agreement.judge_bias_change_df') }} = change_critical_values.df
            and change_critical_values.confidence_level = {{ test_confidence_level() }}
),

with_deviates as (
    select
        *,
        {{ t_normal_deviate('judge_bias_change_t', 'judge_bias_change_df') }} as judge_bias_change_deviate
    from with_change_statistics
),

-- A planning barrier on PostgreSQL (macros/planning.sql, cte_materialized).
with_p_values as {{ cte_materialized() }} (
    select
        *,
        {{ t_two_sided_p_value('judge_bias_change_t', 'judge_bias_change_df', 'judge_bias_change_deviate') }}
            as judge_bias_change_p_value
    from with_deviates
),

-- Benjamini–Hochberg over the week's model versions; the service is a family of one test.
with_p_value_ranks as (
    select
        *,
        {{ p_value_rank('judge_bias_change_p_value', ['week_start', 'segment_type'], ['segment_value']) }}
            as judge_bias_change_p_rank,
        {{ p_value_family_size('judge_bias_change_p_value', ['week_start', 'segment_type']) }}
            as judge_bias_change_test_count
    from with_p_values
),

with_q_values as (
    select
        *,
        {{ benjamini_hochberg_q_value(
            'judge_bias_change_p_value', 'judge_bias_change_p_rank', 'judge_bias_change_test_count',
            ['week_start', 'segment_type']
        ) }} as judge_bias_change_q_value
    from with_p_value_ranks
),

final as (
    select
        week_start,
        {{ add_days('week_start', 6) }} as week_end,
        {{ iso_year('week_start') }} as iso_year,
        {{ iso_week('week_start') }} as iso_week,
        cast({{ iso_week_label('week_start') }} as {{ type_varchar() }}) as week_label,
        cast(segment_type as {{ type_varchar() }}) as segment_type,
        cast(segment_value as {{ type_varchar() }}) as segment_value,
        {{ add_days('week_start', 7) }} <= {{ as_of_date() }} as is_complete_week,
        cast({{ confidence_level() }} as {{ type_double() }}) as confidence_level,
        cast(pair_count as {{ dbt.type_int() }}) as pair_count,
        cast(avg_human_score as {{ type_double() }}) as avg_human_score,
        cast(avg_judge_score as {{ type_double() }}) as avg_judge_score,
        cast(judge_bias as {{ type_double() }}) as judge_bias,
        cast(stddev_difference as {{ type_double() }}) as stddev_difference,
        {{ round_double('judge_bias - judge_bias_ci_half_width') }} as judge_bias_ci_low,
        {{ round_double('judge_bias + judge_bias_ci_half_width') }} as judge_bias_ci_high,
        {{ round_double('judge_bias - agreement_half_width') }} as agreement_limit_low,
        {{ round_double('judge_bias + agreement_half_width') }} as agreement_limit_high,
        cast(abs_difference_sum / pair_n as {{ type_double() }}) as mean_abs_difference,
        cast(within_one_point_count / pair_n as {{ type_double() }}) as within_one_point_ratio,
        {{ round_double('quadratic_weighted_kappa') }} as quadratic_weighted_kappa,
        {{ round_double('krippendorff_alpha') }} as krippendorff_alpha,
        {{ round_double('spearman_rho') }} as spearman_rho,
        cast(prev_pair_count as {{ dbt.type_int() }}) as prev_pair_count,
        cast(prev_judge_bias as {{ type_double() }}) as prev_judge_bias,
        cast(judge_bias_change as {{ type_double() }}) as judge_bias_change,
        {{ round_double('judge_bias_change - judge_bias_change_half_width') }} as judge_bias_change_ci_low,
        {{ round_double('judge_bias_change + judge_bias_change_half_width') }} as judge_bias_change_ci_high,
        cast(judge_bias_change_p_value as {{ type_double() }}) as judge_bias_change_p_value,
        cast(judge_bias_change_q_value as {{ type_double() }}) as judge_bias_change_q_value,
        -- As in int_weeks_compared: the service by its p-value, a model version after the
        -- Benjamini–Hochberg correction over the week's versions.
        coalesce(
            case
                when segment_type = 'service' then judge_bias_change_p_value < {{ alpha() }}
                else judge_bias_change_q_value <= {{ alpha() }}
            end,
            false
        ) as judge_bias_change_significant,
        pair_count < {{ min_n() }} as is_low_volume
    from with_q_values
)

select * from final
