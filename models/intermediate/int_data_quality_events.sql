-- One row per raw row that did not count as it arrived: rejected rows (quarantined,
-- with a reason) and rows that were set aside by rule (duplicate copies, superseded
-- reactions) or repaired (a dimension score out of range became NULL).
with rejected_rows as (
    select * from {{ ref('int_rejected_rows') }}
),

ranked_evaluations as (
    select * from {{ ref('int_evaluations_ranked') }}
),

ranked_reactions as (
    select * from {{ ref('int_feedback_reactions_ranked') }}
),

quarantined as (
    select
        source_table,
        record_id,
        occurred_at,
        occurred_date,
        issue,
        true as is_quarantined,
        details
    from rejected_rows
),

duplicate_evaluations as (
    select
        'conversation_evaluation' as source_table,
        evaluation_id as record_id,
        evaluated_at as occurred_at,
        evaluated_date as occurred_date,
        'duplicate_evaluation_id' as issue,
        false as is_quarantined,
        cast(null as {{ dbt.type_string() }}) as details
    from ranked_evaluations
    where copy_rank > 1
),

repaired_evaluations as (
    select
        'conversation_evaluation' as source_table,
        evaluation_id as record_id,
        evaluated_at as occurred_at,
        evaluated_date as occurred_date,
        'dimension_out_of_range' as issue,
        false as is_quarantined,
        cast(null as {{ dbt.type_string() }}) as details
    from ranked_evaluations
    where copy_rank = 1 and has_dimension_out_of_range
),

set_aside_feedback as (
    select
        'feedback_log' as source_table,
        feedback_id as record_id,
        reacted_at as occurred_at,
        reacted_date as occurred_date,
        case
            when copy_rank > 1 then 'duplicate_feedback_id'
            else 'superseded_reaction'
        end as issue,
        false as is_quarantined,
        cast(null as {{ dbt.type_string() }}) as details
    from ranked_reactions
    where copy_rank > 1 or reaction_rank > 1
),

final as (
    select * from quarantined
    union all
    select * from duplicate_evaluations
    union all
    select * from repaired_evaluations
    union all
    select * from set_aside_feedback
)

select * from final
