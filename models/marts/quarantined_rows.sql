-- Incremental by day (rows without a timestamp are rebuilt with every batch), so the
-- daily job does not rescan every rejected row of history.
{{ config(**incremental_by_day('occurred_date', undated_rows=true)) }}

with rejected_rows as (
    select * from {{ ref('int_rejected_rows') }}
),

dated_rows as (
    select * from rejected_rows
    where occurred_at is not null and {{ in_lookback_window('occurred_date', 'occurred_at') }}
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
