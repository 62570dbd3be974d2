with data_quality_events as (
    select * from {{ ref('int_data_quality_events') }}
),

final as (
    select
        source_table,
        record_id,
        occurred_at,
        occurred_date,
        issue as reason,
        details
    from data_quality_events
    where is_quarantined
)

select * from final
