-- Daily reaction counts: one copy per feedback_id, and per user and message only the
-- latest reaction. Ranked straight from the labelled feedback with the rules of
-- int_feedback_reactions_ranked (macros/deduplication.sql), not read back from that
-- row-level table, for the reason in int_evaluations_aggregated_daily; an incremental run
-- by loaded_at sums its days from that table, as int_evaluations_aggregated_daily does.
{{ config(**incremental_by_day('reacted_date', ['reactions'])) }}
-- depends_on: {{ ref('int_raw_days_fingerprinted') }}
-- depends_on: {{ ref('int_raw_keys_spanning_days') }}
-- depends_on: {{ ref('int_feedback_reactions_ranked') }}

{% if is_load_rebuild() -%}
with latest_reactions as (
    select * from {{ ref('int_feedback_reactions_ranked') }}
    where reaction_rank = 1 and {{ in_rebuild_days('reacted_date') }}
),
{%- else -%}
with labelled_feedback as (
    select * from {{ ref('int_feedback_labelled') }}
),

valid_feedback as (
    select * from labelled_feedback
    where invalid_reason is null and {{ reactions_to_rank(ref('int_feedback_labelled')) }}
),

copies_ranked as (
    select
        feedback_id,
        message_id,
        user_id,
        reacted_at,
        reacted_date,
        label,
        {{ feedback_copy_rank() }} as copy_rank
    from valid_feedback
),

deduplicated as (
    select * from copies_ranked
    where copy_rank = 1
),

reactions_ranked as (
    select
        reacted_date,
        label,
        {{ reaction_rank() }} as reaction_rank
    from deduplicated
),

latest_reactions as (
    select * from reactions_ranked
    where reaction_rank = 1 and {{ in_rebuild_days('reacted_date') }}
),
{%- endif %}

final as (
    select
        reacted_date,
        sum(case when label = 'like' then 1 else 0 end) as like_count,
        sum(case when label = 'dislike' then 1 else 0 end) as dislike_count,
        count(*) as feedback_count
    from latest_reactions
    group by 1
)

select * from final
