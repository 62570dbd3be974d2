-- One row per ISO week and score band: do users' reactions agree with the scores? A
-- response counts in the week it was sent (conversation_log) when it has a valid
-- evaluation and a counted reaction; its mean score puts it in a band, and its likes and
-- dislikes count there. The week's point-biserial correlation pairs each response's mean
-- score with its net reaction, liked (more likes than dislikes) or disliked (more
-- dislikes than likes). Computed from the counts and sums of each week and band
-- (int_responses_aggregated_weekly); the formulas are macros (macros/stats.sql).
{{ config(pre_hook="{{ statistics_session_settings() }}") }}

with band_sums as (
    select * from {{ ref('int_responses_aggregated_weekly') }}
),

week_sums as (
    select
        week_start,
        sum(correlated_response_count) as correlated_response_count,
        sum(score_sum) as score_sum,
        sum(score_sq_sum) as score_sq_sum,
        sum(liked_count) as liked_count,
        sum(liked_score_sum) as liked_score_sum
    from band_sums
    group by 1
),

band_numbers as (
    {{ integer_series(1) }}
),

-- Every band of every week, so that an empty band is a row with zero counts.
week_bands as (
    select
        week_sums.week_start,
        band_numbers.n as band_index
    from week_sums
    cross join band_numbers
    where band_numbers.n < 5
),

band_inputs as (
    select
        week_bands.week_start,
        week_bands.band_index,
        coalesce(band_sums.response_count, 0) as response_count,
        coalesce(band_sums.like_count, 0) as like_count,
        coalesce(band_sums.dislike_count, 0) as dislike_count,
        cast(coalesce(band_sums.like_count, 0) as {{ type_double() }}) as like_n,
        cast(coalesce(band_sums.like_count + band_sums.dislike_count, 0) as {{ type_double() }}) as feedback_n
    from week_bands
    left join band_sums
        on
            week_bands.week_start = band_sums.week_start
            and week_bands.band_index = band_sums.band_index
),

correlation_inputs as (
    select
        week_start,
        correlated_response_count,
        cast(correlated_response_count as {{ type_double() }}) as pair_n,
        cast(score_sum as {{ type_double() }}) as score_sum,
        cast(score_sq_sum as {{ type_double() }}) as score_sq_sum,
        cast(liked_count as {{ type_double() }}) as liked_n,
        cast(liked_score_sum as {{ type_double() }}) as liked_score_sum
    from week_sums
),

correlations as (
    select
        week_start,
        correlated_response_count,
        pair_n,
        {{ correlation_from_sums('pair_n', 'score_sum', 'liked_n', 'score_sq_sum', 'liked_n', 'liked_score_sum') }}
            as point_biserial_r
    from correlation_inputs
),

correlation_t_statistics as (
    select
        *,
        {{ correlation_t('point_biserial_r', 'pair_n') }} as point_biserial_t,
        pair_n - 2.0 as point_biserial_df
    from correlations
),

correlation_tests as (
    select
        *,
        {{ t_normal_deviate('point_biserial_t', 'point_biserial_df') }} as point_biserial_deviate
    from correlation_t_statistics
),

correlation_p_values as (
    select
        week_start,
        correlated_response_count,
        point_biserial_r,
        {{ t_two_sided_p_value('point_biserial_t', 'point_biserial_df', 'point_biserial_deviate') }}
            as point_biserial_p_value
    from correlation_tests
),

final as (
    select
        band_inputs.week_start,
        cast({{ iso_week_label('band_inputs.week_start') }} as {{ dbt.type_string() }}) as week_label,
        {{ add_days('band_inputs.week_start', 7) }} <= {{ as_of_date() }} as is_complete_week,
        cast(
            {{ dbt.concat([
                "cast(band_inputs.band_index * 2 as " ~ dbt.type_string() ~ ")",
                "'-'",
                "cast(band_inputs.band_index * 2 + 2 as " ~ dbt.type_string() ~ ")",
            ]) }} as {{ dbt.type_string() }}
        ) as score_band,
        cast(band_inputs.band_index * 2 as {{ type_double() }}) as score_band_low,
        cast(band_inputs.band_index * 2 + 2 as {{ type_double() }}) as score_band_high,
        cast(band_inputs.response_count as {{ dbt.type_int() }}) as response_count,
        cast(band_inputs.like_count as {{ dbt.type_int() }}) as like_count,
        cast(band_inputs.dislike_count as {{ dbt.type_int() }}) as dislike_count,
        cast(band_inputs.like_count + band_inputs.dislike_count as {{ dbt.type_int() }}) as feedback_count,
        cast({{ safe_divide('band_inputs.like_n', 'band_inputs.feedback_n') }} as {{ type_double() }}) as like_ratio,
        {{ round_double(wilson_bound('band_inputs.like_n', 'band_inputs.feedback_n', confidence_level(), 'low')) }}
            as like_ratio_ci_low,
        {{ round_double(wilson_bound('band_inputs.like_n', 'band_inputs.feedback_n', confidence_level(), 'high')) }}
            as like_ratio_ci_high,
        cast({{ confidence_level() }} as {{ type_double() }}) as confidence_level,
        cast(correlation_p_values.correlated_response_count as {{ dbt.type_int() }}) as correlated_response_count,
        {{ round_double('correlation_p_values.point_biserial_r') }} as point_biserial_r,
        cast(correlation_p_values.point_biserial_p_value as {{ type_double() }}) as point_biserial_p_value
    from band_inputs
    inner join correlation_p_values
        on band_inputs.week_start = correlation_p_values.week_start
)

select * from final
