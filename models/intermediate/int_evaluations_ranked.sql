-- Valid evaluations, each copy ranked within its evaluation_id: raw delivery is
-- at-least-once, so the same evaluation may arrive more than once (macros/deduplication.sql).
-- Incremental: a run ranks again every copy of the arriving evaluations (by loaded_at,
-- macros/arrivals.sql), or without loaded_at the days whose raw rows changed and every copy
-- of their evaluations wherever it lies (macros/incremental.sql).
{{ config(**incremental_by_day('evaluated_date', ['evaluations'], by_key='evaluations')) }}
-- depends_on: {{ ref('int_raw_days_fingerprinted') }}
-- depends_on: {{ ref('int_raw_keys_spanning_days') }}

with evaluations as (
    {{ rows_to_rank('evaluations', ref('stg_conversation_evaluation')) }}
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
    where {{ ranked_rows_to_write('evaluations', 'evaluated_date') }}
)

select * from final
