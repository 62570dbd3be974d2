-- One row per ISO week and score band: do users' reactions agree with the scores? A
-- response counts in the week it was sent (conversation_log) when it has a valid
-- evaluation and a counted reaction; its mean score puts it in a band, and its likes and
-- dislikes count there. The week's point-biserial correlation pairs each response's mean
-- score with its net reaction, liked (more likes than dislikes) or disliked (more
-- dislikes than likes). Computed from counts and sums; the formulas are macros
-- (macros/stats.sql).
{{ config(pre_hook="{{ statistics_session_settings() }}") }}

with evaluations as (
    select * from {{ ref('int_evaluations_deduplicated') }}
),

latest_reactions as (
    select * from {{ ref('int_feedback_latest_reactions') }}
),

conversation_log as (
    select * from {{ ref('stg_conversation_log') }}
),

-- Rounded as tuning_examples rounds it, so that a mean of 7.9 and 8.1 is in the
-- 8-10 band on every engine, not 7.999999… in the band below.
response_scores as (
    select
        message_id,
        {{ round_double('avg(score)', 4) }} as mean_score
    from evaluations
    where message_id is not null
    group by 1
),

response_reactions as (
    select
        message_id,
        sum(case when is_like then 1 else 0 end) as like_count,
        sum(case when is_dislike then 1 else 0 end) as dislike_count
    from latest_reactions
    where message_id is not null
    group by 1
),

-- A message logged more than once counts in the week of its first copy.
response_days as (
    select
        message_id,
        min(responded_date) as responded_date
    from conversation_log
    where message_id is not null and responded_date is not null
    group by 1
),

scored_responses as (
    select
        {{ iso_week_start('response_days.responded_date') }} as week_start,
        response_scores.mean_score,
        response_reactions.like_count,
        response_reactions.dislike_count,
        -- Bands [0, 2), [2, 4), [4, 6), [6, 8) and [8, 10]: 10 is in the top band.
        cast(least(4, floor(response_scores.mean_score / 2)) as {{ dbt.type_int() }}) as band_index,
        case
            when response_reactions.like_count > response_reactions.dislike_count then 1
            when response_reactions.dislike_count > response_reactions.like_count then 0
        end as is_net_liked
    from response_scores
    inner join response_reactions
        on response_scores.message_id = response_reactions.message_id
    inner join response_days
        on response_scores.message_id = response_days.message_id
),

band_sums as (
    select
        week_start,
        band_index,
        count(*) as response_count,
        sum(like_count) as like_count,
        sum(dislike_count) as dislike_count
    from scored_responses
    group by 1, 2
),

-- The correlation's sums over the responses with a net reaction (x the mean score, y 1
-- when liked): y² = y, so the sum of y is also the sum of its squares.
week_sums as (
    select
        week_start,
        count(is_net_liked) as correlated_response_count,
        sum(case when is_net_liked is not null then mean_score end) as score_sum,
        sum(case when is_net_liked is not null then mean_score * mean_score end) as score_sq_sum,
        sum(is_net_liked) as liked_count,
        sum(is_net_liked * mean_score) as liked_score_sum
    from scored_responses
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
