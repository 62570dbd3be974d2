with data_quality_events as (
    select * from {{ ref('int_data_quality_events') }}
),

final as (
    select
        occurred_date as quality_date,
        source_table,
        issue,
        is_quarantined,
        cast(count(*) as {{ dbt.type_int() }}) as row_count
    from data_quality_events
    group by 1, 2, 3, 4
)

select * from final
