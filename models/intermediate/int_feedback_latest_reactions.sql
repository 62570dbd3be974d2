-- The reactions that count: one per feedback_id, and per user and message only the latest.
with ranked_reactions as (
    select * from {{ ref('int_feedback_reactions_ranked') }}
),

final as (
    select
        feedback_id,
        conversation_id,
        message_id,
        user_id,
        reacted_at,
        reacted_date,
        label,
        label = 'like' as is_like,
        label = 'dislike' as is_dislike
    from ranked_reactions
    where reaction_rank = 1
)

select * from final
