-- Incremental by day: a run rebuilds the days whose raw rows changed or whose duplicates and
-- superseded reactions moved, and the undated raw rows (quality_date NULL).
{{ config(**incremental_by_day(
    'quality_date', ['rejected', 'evaluations', 'reactions'], undated_rows=true, every_copy=true
)) }}
-- depends_on: {{ ref('int_raw_days_fingerprinted') }}
-- depends_on: {{ ref('int_raw_keys_spanning_days') }}

with data_quality_events as (
    select * from {{ ref('int_data_quality_events') }}
),

dated_events as (
    select * from data_quality_events
    where
        occurred_at is not null
        and {{ in_rebuild_days('occurred_date') }}
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
