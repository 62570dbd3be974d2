-- The calendar MetricFlow joins metrics to (the dbt semantic layer, models/semantic/):
-- every day from var('earliest_valid_date'), before which no row counts, to a year past
-- the as-of date, so any day a valid row can fall on is in it.
{% set first_day = "cast('" ~ var('earliest_valid_date', '2000-01-01') ~ "' as date)" %}

with day_numbers as (
    {{ integer_series(5) }}
),

calendar as (
    select {{ add_days(first_day, 'day_numbers.n') }} as calendar_date
    from day_numbers
),

final as (
    select calendar_date
    from calendar
    where calendar_date <= {{ add_days(as_of_date(), 366) }}
)

select * from final
