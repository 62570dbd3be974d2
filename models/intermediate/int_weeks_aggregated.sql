-- One row per ISO week and segment, with the same segment's calendar week before: the
-- whole service (segment_type 'service') for every week from its first to its last, empty
-- weeks included, and each model version and evaluator for each week it had data. The one
-- roll-up from days to weeks and the one definition of "previous week"; the statistics on
-- them are int_weeks_compared's. A table of its own, so that an engine plans the roll-up
-- and the statistics apart (on Spark, one plan of both took 14–17 s to compile and warm).
{{ config(materialized='table') }}

with daily_evaluations as (
    select * from {{ ref('int_evaluations_aggregated_daily') }}
),

daily_reactions as (
    select * from {{ ref('int_reactions_aggregated_daily') }}
),

daily_segments as (
    select * from {{ ref('int_segments_aggregated_daily') }}
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
        cast(eval_count as {{ dbt.type_int() }}) as eval_count,
        cast(avg_score as {{ type_double() }}) as avg_score,
        cast(stddev_score as {{ type_double() }}) as stddev_score,
        cast(avg_accuracy as {{ type_double() }}) as avg_accuracy,
        cast(avg_consistency as {{ type_double() }}) as avg_consistency,
        cast(avg_emotion_match as {{ type_double() }}) as avg_emotion_match,
        cast(like_count as {{ dbt.type_int() }}) as like_count,
        cast(dislike_count as {{ dbt.type_int() }}) as dislike_count,
        cast(feedback_count as {{ dbt.type_int() }}) as feedback_count,
        cast(like_ratio as {{ type_double() }}) as like_ratio,
        cast(prev_eval_count as {{ dbt.type_int() }}) as prev_eval_count,
        cast(prev_avg_score as {{ type_double() }}) as prev_avg_score,
        cast(prev_stddev_score as {{ type_double() }}) as prev_stddev_score,
        cast(prev_like_count as {{ dbt.type_int() }}) as prev_like_count,
        cast(prev_feedback_count as {{ dbt.type_int() }}) as prev_feedback_count,
        cast(prev_like_ratio as {{ type_double() }}) as prev_like_ratio
    from with_previous_week
)

select * from final
