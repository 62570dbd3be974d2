-- A table rebuilt from the incremental daily aggregates: one row a day, cheap to rewrite.

with daily_reactions as (
    select * from {{ ref('int_reactions_aggregated_daily') }}
),

final as (
    select
        reacted_date as feedback_date,
        cast(like_count as {{ dbt.type_int() }}) as like_count,
        cast(dislike_count as {{ dbt.type_int() }}) as dislike_count,
        cast(feedback_count as {{ dbt.type_int() }}) as feedback_count,
        cast({{ safe_divide('like_count', 'feedback_count') }} as {{ type_double() }}) as like_ratio
    from daily_reactions
)

select * from final
