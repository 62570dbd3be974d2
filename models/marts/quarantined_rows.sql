with rejected_rows as (
    select * from {{ ref('int_rejected_rows') }}
),

final as (
    select
        source_table,
        record_id,
        occurred_at,
        occurred_date,
        issue as reason,
        details
    from rejected_rows
)

select * from final
