-- Incremental by day: a run rebuilds the days whose rejected rows changed, and the rows
-- without a timestamp (macros/incremental.sql), copied from int_rejected_rows.
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
    select
        source_table,
        record_id,
        occurred_at,
        occurred_date,
        issue as reason,
        details
    from batch
)

select * from final
