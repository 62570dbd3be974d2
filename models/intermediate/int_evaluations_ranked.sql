-- Valid evaluations, each copy ranked within its evaluation_id: raw delivery is
-- at-least-once, so the same evaluation may arrive more than once (macros/deduplication.sql).
-- Incremental: a run re-ranks the days of the lookback window (macros/incremental.sql).
{{ config(**incremental_by_day('evaluated_date')) }}

with evaluations as (
    select * from {{ ref('stg_conversation_evaluation') }}
    where {{ in_lookback_window('evaluated_date', 'evaluated_at') }}
),

valid_evaluations as (
    select * from evaluations
    where is_valid
),

ranked as (
    select
        *,
        {{ evaluation_copy_rank() }} as copy_rank
    from valid_evaluations
),

final as (
    select * from ranked
)

select * from final
