{{ config(**incremental_by_day('reacted_date')) }}

with reactions as (
    select * from {{ ref('int_feedback_latest_reactions') }}
    where {{ in_lookback_window('reacted_date') }}
),

final as (
    select
        reacted_date,
        sum(case when is_like then 1 else 0 end) as like_count,
        sum(case when is_dislike then 1 else 0 end) as dislike_count,
        count(*) as feedback_count
    from reactions
    group by 1
)

select * from final
