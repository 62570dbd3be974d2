-- Incremental by day: a run rebuilds the days whose raw rows changed, and the rows without
-- a timestamp (macros/incremental.sql).
{{ config(**incremental_by_day('occurred_date', ['rejected'], undated_rows=true)) }}
-- depends_on: {{ ref('int_raw_days_fingerprinted') }}

with rejected_rows as (
    select * from {{ ref('int_rejected_rows') }}
),

dated_rows as (
    select * from rejected_rows
    where occurred_at is not null and {{ in_rebuild_days('occurred_date') }}
),

undated_rows as (
    select * from rejected_rows
    where occurred_at is null
),

batch as (
    select * from dated_rows
    union all
    select * from undated_rows
),

final as (
    -- Cast to the contract's types, so an incremental batch matches the table's columns.
    select
        cast(source_table as {{ type_varchar() }}) as source_table,
        cast(record_id as {{ type_varchar() }}) as record_id,
        occurred_at,
        occurred_date,
        cast(issue as {{ type_varchar() }}) as reason,
        cast(details as {{ type_varchar() }}) as details
    from batch
)

select * from final
