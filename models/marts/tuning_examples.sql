with labelled_responses as (
    select * from {{ ref('int_responses_labelled') }}
),

final as (
    select
        message_id,
        conversation_id,
        model_version,
        responded_at,
        responded_date,
        user_message,
        ai_response,
        cast(eval_count as {{ dbt.type_int() }}) as eval_count,
        cast(mean_score as {{ type_double() }}) as mean_score,
        cast(mean_accuracy as {{ type_double() }}) as mean_accuracy,
        cast(mean_consistency as {{ type_double() }}) as mean_consistency,
        cast(mean_emotion_match as {{ type_double() }}) as mean_emotion_match,
        cast(like_count as {{ dbt.type_int() }}) as like_count,
        cast(dislike_count as {{ dbt.type_int() }}) as dislike_count,
        label,
        split
    from labelled_responses
)

select * from final
