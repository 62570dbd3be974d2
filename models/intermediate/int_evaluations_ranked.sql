-- Valid evaluations, each copy ranked within its evaluation_id: raw delivery is
-- at-least-once, so the same evaluation may arrive more than once.
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
        row_number() over (
            partition by evaluation_id
            order by evaluated_at desc, score desc, model_version desc, evaluator desc
        ) as copy_rank
    from valid_evaluations
),

final as (
    select * from ranked
)

select * from final
