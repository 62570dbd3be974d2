-- One row per raw row that was rejected (quarantined) as it arrived, with the reason:
-- the rows that no figure counts.
with evaluations as (
    select * from {{ ref('stg_conversation_evaluation') }}
),

labelled_feedback as (
    select * from {{ ref('int_feedback_labelled') }}
),

rejected_evaluations as (
    select
        'conversation_evaluation' as source_table,
        evaluation_id as record_id,
        evaluated_at as occurred_at,
        evaluated_date as occurred_date,
        invalid_reason as issue,
        {{ dbt.concat(["'score='", "coalesce(cast(score as " ~ dbt.type_string() ~ "), 'null')"]) }} as details
    from evaluations
    where not is_valid
),

rejected_feedback as (
    select
        'feedback_log' as source_table,
        feedback_id as record_id,
        reacted_at as occurred_at,
        reacted_date as occurred_date,
        invalid_reason as issue,
        {{ dbt.concat(["'feedback='", "coalesce(raw_label, 'null')"]) }} as details
    from labelled_feedback
    where invalid_reason is not null
),

final as (
    select * from rejected_evaluations
    union all
    select * from rejected_feedback
)

select * from final
