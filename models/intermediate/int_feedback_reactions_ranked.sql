-- Valid reactions, ranked twice: each copy within its feedback_id (at-least-once
-- delivery), then each distinct reaction within (message_id, user_id), newest first,
-- because a user who changes their mind counts once, with their latest reaction
-- (macros/deduplication.sql).
-- Incremental: a run ranks again the arriving reactions' users' reactions to the same
-- messages, with every copy (by loaded_at, macros/arrivals.sql), or without loaded_at the
-- days whose raw rows changed, with every copy and every reaction of the same users to the
-- same messages, wherever it lies (macros/incremental.sql).
{{ config(**incremental_by_day('reacted_date', ['reactions'], by_key='reactions')) }}
-- depends_on: {{ ref('int_raw_days_fingerprinted') }}
-- depends_on: {{ ref('int_raw_keys_spanning_days') }}

with labelled_feedback as (
    {{ rows_to_rank('reactions', ref('int_feedback_labelled')) }}
),

valid_feedback as (
    select * from labelled_feedback
    where invalid_reason is null
),

copies_ranked as (
    select
        *,
        {{ feedback_copy_rank() }} as copy_rank
    from valid_feedback
),

deduplicated as (
    select * from copies_ranked
    where copy_rank = 1
),

duplicate_copies as (
    select
        *,
        cast(null as {{ dbt.type_int() }}) as reaction_rank
    from copies_ranked
    where copy_rank > 1
),

reactions_ranked as (
    select
        *,
        {{ reaction_rank() }} as reaction_rank
    from deduplicated
),

all_copies as (
    select * from reactions_ranked
    union all
    select * from duplicate_copies
),

final as (
    select
        feedback_id,
        conversation_id,
        message_id,
        user_id,
        reacted_at,
        reacted_date,
        raw_label,
        label,
        copy_rank,
        reaction_rank
    from all_copies
    where {{ ranked_rows_to_write('reactions', 'reacted_date') }}
)

select * from final
