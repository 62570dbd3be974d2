-- Rejected raw rows per day, for weekly_performance's quarantined_count. Incremental by
-- day like the other daily aggregates, so the weekly mart never rescans all raw rows.
-- A rejected row without a timestamp has no day and is only in quarantined_rows.
{{ config(**incremental_by_day('occurred_date', ['rejected'])) }}
-- depends_on: {{ ref('int_raw_days_fingerprinted') }}

with rejected_rows as (
    select * from {{ ref('int_rejected_rows') }}
    where
        occurred_date is not null
        and {{ in_rebuild_days('occurred_date') }}
),

final as (
    select
        occurred_date,
        count(*) as quarantined_count
    from rejected_rows
    group by 1
)

select * from final
