with ranked_evaluations as (
    select * from {{ ref('int_evaluations_ranked') }}
),

final as (
    select
        evaluation_id,
        conversation_id,
        message_id,
        evaluated_at,
        evaluated_date,
        score,
        accuracy,
        consistency,
        emotion_match,
        has_dimension_out_of_range,
        evaluator,
        model_version
    from ranked_evaluations
    where copy_rank = 1
)

select * from final
