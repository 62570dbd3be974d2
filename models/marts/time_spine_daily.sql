-- The calendar MetricFlow joins metrics to (the dbt semantic layer, models/semantic/):
-- every day from the Monday of the first week with data to a year past the later of the
-- last week with data and the as-of date, so any day a counted row can fall on is in it.
with weeks as (
    select * from {{ ref('weekly_performance') }}
),

bounds as (
    select
        min(week_start) as first_date,
        case
            when max(week_end) > {{ as_of_date() }} then max(week_end)
            else {{ as_of_date() }}
        end as last_data_date
    from weeks
),

day_numbers as (
    {{ integer_series(5) }}
),

calendar as (
    select
        {{ add_days('bounds.first_date', 'day_numbers.n') }} as calendar_date,
        bounds.last_data_date
    from bounds
    cross join day_numbers
),

final as (
    select calendar_date
    from calendar
    where calendar_date <= {{ add_days('last_data_date', 366) }}
)

select * from final
