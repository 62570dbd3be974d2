-- One row per ISO week and model version other than the week's baseline, compared with the
-- baseline on the same week's traffic (concurrent, so no time confound): the difference in
-- mean score (Welch) and in like ratio (Newcombe interval, two-proportion z test), with
-- Benjamini–Hochberg over the week's versions. The weekly figures per version are the
-- model_version rows of int_weeks_aggregated (the one roll-up from days to weeks, from counts,
-- sums and sums of squares); the formulas are macros (macros/stats.sql).
{{ config(pre_hook="{{ statistics_session_settings() }}") }}
{%- set configured_baseline = baseline_model_version() %}

with weekly_segments as (
    select * from {{ ref('int_weeks_aggregated') }}
),

t_critical_values as (
    select * from {{ ref('t_critical_values') }}
),

weekly_versions as (
    select
        week_start,
        week_label,
        is_complete_week,
        segment_value as model_version,
        eval_count,
        avg_score,
        stddev_score,
        like_count,
        feedback_count,
        prev_eval_count
    from weekly_segments
    where segment_type = 'model_version'
),

{% if configured_baseline %}
-- The baseline of every week is var('baseline_model_version'), evaluated that week or not.
week_baselines as (
    select distinct
        week_start,
        {{ configured_baseline }} as baseline_version,
        'var' as baseline_chosen_by
    from weekly_versions
),
{% else %}
-- The default baseline: among the versions evaluated this week, the one with the most
-- evaluations the week before; then the most this week, then the first name. A version
-- that served last week but not this week cannot be compared with, so it is no baseline;
-- when no candidate was evaluated last week (the first week, or a new set of versions),
-- the most evaluations this week decide alone. 'unknown' (no version on the raw row) is
-- a baseline only when nothing else was evaluated.
baseline_candidates as (
    select
        week_start,
        model_version,
        prev_eval_count,
        row_number() over (
            partition by week_start
            order by
                case when model_version = 'unknown' then 1 else 0 end,
                prev_eval_count desc,
                eval_count desc,
                model_version asc
        ) as baseline_rank
    from weekly_versions
    where eval_count > 0
),

week_baselines as (
    select
        week_start,
        model_version as baseline_version,
        case when prev_eval_count > 0 then 'previous_week' else 'same_week' end as baseline_chosen_by
    from baseline_candidates
    where baseline_rank = 1
),
{% endif %}

compared_versions as (
    select
        versions.week_start,
        versions.week_label,
        versions.is_complete_week,
        versions.model_version,
        week_baselines.baseline_version,
        week_baselines.baseline_chosen_by,
        versions.eval_count,
        versions.avg_score,
        versions.stddev_score,
        versions.like_count,
        versions.feedback_count,
        coalesce(baselines.eval_count, 0) as baseline_eval_count,
        baselines.avg_score as baseline_avg_score,
        baselines.stddev_score as baseline_stddev_score,
        coalesce(baselines.like_count, 0) as baseline_like_count,
        coalesce(baselines.feedback_count, 0) as baseline_feedback_count
    from week_baselines
    inner join weekly_versions as versions
        on
            week_baselines.week_start = versions.week_start
            and week_baselines.baseline_version != versions.model_version
    left join weekly_versions as baselines
        on
            week_baselines.week_start = baselines.week_start
            and week_baselines.baseline_version = baselines.model_version
),

-- The inputs as doubles, as PostgreSQL divides integers as integers.
test_inputs as (
    select
        *,
        avg_score - baseline_avg_score as score_diff,
        cast(eval_count as {{ type_double() }}) as eval_n,
        cast(baseline_eval_count as {{ type_double() }}) as baseline_eval_n,
        cast(like_count as {{ type_double() }}) as like_n,
        cast(feedback_count as {{ type_double() }}) as feedback_n,
        cast(baseline_like_count as {{ type_double() }}) as baseline_like_n,
        cast(baseline_feedback_count as {{ type_double() }}) as baseline_feedback_n,
        {{ safe_divide('like_count', 'feedback_count') }} as like_ratio,
        {{ safe_divide('baseline_like_count', 'baseline_feedback_count') }} as baseline_like_ratio
    from compared_versions
),

with_test_statistics as (
    select
        *,
        {{ welch_variance('stddev_score', 'eval_n', 'baseline_stddev_score', 'baseline_eval_n') }}
            as score_diff_variance,
        {{ welch_df('stddev_score', 'eval_n', 'baseline_stddev_score', 'baseline_eval_n') }} as score_diff_df,
        {{ two_proportion_z('like_n', 'feedback_n', 'baseline_like_n', 'baseline_feedback_n') }} as like_ratio_diff_z,
        -- Newcombe's interval combines the two Wilson intervals at 1 - alpha, the test's level.
        {{ wilson_bound('like_n', 'feedback_n', test_confidence_level(), 'low') }} as like_ratio_test_low,
        {{ wilson_bound('like_n', 'feedback_n', test_confidence_level(), 'high') }} as like_ratio_test_high,
        {{ wilson_bound('baseline_like_n', 'baseline_feedback_n', test_confidence_level(), 'low') }}
            as baseline_like_ratio_test_low,
        {{ wilson_bound('baseline_like_n', 'baseline_feedback_n', test_confidence_level(), 'high') }}
            as baseline_like_ratio_test_high
    from test_inputs
),

with_t_statistics as (
    select
        with_test_statistics.*,
        coalesce(
            diff_critical_values.t_critical_value,
            {{ t_critical_value_large_df('with_test_statistics.score_diff_df', test_confidence_level()) }}
        ) as diff_t_critical_value,
        {{ safe_divide('score_diff', 'sqrt(score_diff_variance)') }} as score_diff_t
    from with_test_statistics
    left join t_critical_values as diff_critical_values
        on
            {{ t_table_df('with_test_statistics.score_diff_df') }} = diff_critical_values.df
            and diff_critical_values.confidence_level = {{ test_confidence_level() }}
),

with_normal_deviates as (
    select
        *,
        {{ t_normal_deviate('score_diff_t', 'score_diff_df') }} as score_diff_deviate,
        -- Welch's interval of the difference, at 1 - alpha.
        diff_t_critical_value * sqrt(score_diff_variance) as score_diff_half_width,
        {{ newcombe_bound(
            'like_ratio', 'like_ratio_test_low', 'like_ratio_test_high',
            'baseline_like_ratio', 'baseline_like_ratio_test_low', 'baseline_like_ratio_test_high', 'low'
        ) }} as like_ratio_diff_low,
        {{ newcombe_bound(
            'like_ratio', 'like_ratio_test_low', 'like_ratio_test_high',
            'baseline_like_ratio', 'baseline_like_ratio_test_low', 'baseline_like_ratio_test_high', 'high'
        ) }} as like_ratio_diff_high
    from with_t_statistics
),

-- A planning barrier on PostgreSQL (macros/planning.sql, cte_materialized).
with_p_values as {{ cte_materialized() }} (
    select
        *,
        {{ t_two_sided_p_value('score_diff_t', 'score_diff_df', 'score_diff_deviate') }} as score_diff_p_value,
        {{ normal_two_sided_p_value('like_ratio_diff_z') }} as like_ratio_diff_p_value
    from with_normal_deviates
),

-- Each week's tested versions are one family per metric: Benjamini–Hochberg as window
-- expressions over the rows.
with_p_value_ranks as (
    select
        *,
        {{ p_value_rank('score_diff_p_value', ['week_start'], ['model_version']) }} as score_diff_p_rank,
        {{ p_value_family_size('score_diff_p_value', ['week_start']) }} as score_diff_test_count,
        {{ p_value_rank('like_ratio_diff_p_value', ['week_start'], ['model_version']) }} as like_ratio_diff_p_rank,
        {{ p_value_family_size('like_ratio_diff_p_value', ['week_start']) }} as like_ratio_diff_test_count
    from with_p_values
),

with_q_values as (
    select
        *,
        {{ benjamini_hochberg_q_value(
            'score_diff_p_value', 'score_diff_p_rank', 'score_diff_test_count', ['week_start']
        ) }} as score_diff_q_value,
        {{ benjamini_hochberg_q_value(
            'like_ratio_diff_p_value', 'like_ratio_diff_p_rank', 'like_ratio_diff_test_count', ['week_start']
        ) }} as like_ratio_diff_q_value
    from with_p_value_ranks
),

final as (
    select
        week_start,
        cast(week_label as {{ dbt.type_string() }}) as week_label,
        is_complete_week,
        cast(model_version as {{ dbt.type_string() }}) as model_version,
        cast(baseline_version as {{ dbt.type_string() }}) as baseline_version,
        cast(baseline_chosen_by as {{ dbt.type_string() }}) as baseline_chosen_by,
        cast({{ test_confidence_level() }} as {{ type_double() }}) as confidence_level,
        cast(eval_count as {{ dbt.type_int() }}) as eval_count,
        cast(avg_score as {{ type_double() }}) as avg_score,
        cast(stddev_score as {{ type_double() }}) as stddev_score,
        cast(baseline_eval_count as {{ dbt.type_int() }}) as baseline_eval_count,
        cast(baseline_avg_score as {{ type_double() }}) as baseline_avg_score,
        cast(baseline_stddev_score as {{ type_double() }}) as baseline_stddev_score,
        cast(score_diff as {{ type_double() }}) as score_diff,
        {{ round_double('score_diff - score_diff_half_width') }} as score_diff_ci_low,
        {{ round_double('score_diff + score_diff_half_width') }} as score_diff_ci_high,
        cast(score_diff_p_value as {{ type_double() }}) as score_diff_p_value,
        cast(score_diff_q_value as {{ type_double() }}) as score_diff_q_value,
        coalesce(score_diff_q_value <= {{ alpha() }}, false) as score_diff_significant,
        cast(like_count as {{ dbt.type_int() }}) as like_count,
        cast(feedback_count as {{ dbt.type_int() }}) as feedback_count,
        cast(like_ratio as {{ type_double() }}) as like_ratio,
        cast(baseline_like_count as {{ dbt.type_int() }}) as baseline_like_count,
        cast(baseline_feedback_count as {{ dbt.type_int() }}) as baseline_feedback_count,
        cast(baseline_like_ratio as {{ type_double() }}) as baseline_like_ratio,
        cast((like_ratio - baseline_like_ratio) * 100 as {{ type_double() }}) as like_ratio_diff_pp,
        {{ round_double('100 * like_ratio_diff_low') }} as like_ratio_diff_ci_low_pp,
        {{ round_double('100 * like_ratio_diff_high') }} as like_ratio_diff_ci_high_pp,
        cast(like_ratio_diff_p_value as {{ type_double() }}) as like_ratio_diff_p_value,
        cast(like_ratio_diff_q_value as {{ type_double() }}) as like_ratio_diff_q_value,
        coalesce(like_ratio_diff_q_value <= {{ alpha() }}, false) as like_ratio_diff_significant,
        -- Low volume: fewer than var('min_n') evaluations or reactions on either side.
        eval_count < {{ min_n() }}
        or feedback_count < {{ min_n() }}
        or baseline_eval_count < {{ min_n() }}
        or baseline_feedback_count < {{ min_n() }} as is_low_volume
    from with_q_values
)

select * from final
