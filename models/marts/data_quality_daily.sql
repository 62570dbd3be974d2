-- Incremental by day; the rows of undated raw rows (quality_date NULL) are rebuilt with
-- every batch.
{{ config(**incremental_by_day('quality_date', undated_rows=true)) }}

with data_quality_events as (
    select * from {{ ref('int_data_quality_events') }}
),

dated_events as (
    select * from data_quality_events
    where
        occurred_at is not null
        and {{ in_lookback_window('occurred_date', 'occurred_at', this_day_column='quality_date') }}
),

undated_events as (
    select * from data_quality_events
    where occurred_at is null
),

batch as (
    select * from dated_events
    union all
    select * from undated_events
),

final as (
    select
        occurred_date as quality_date,
        -- The contract's types, so an incremental batch matches the table's columns.
        cast(source_table as {{ type_varchar() }}) as source_table,
        cast(issue as {{ type_varchar() }}) as issue,
        is_quarantined,
        cast(count(*) as {{ dbt.type_int() }}) as row_count
    from batch
    group by 1, 2, 3, 4
)

select * from final
