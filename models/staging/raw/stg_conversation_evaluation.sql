with source as (
    select * from {{ source('raw', 'conversation_evaluation') }}
),

renamed as (
    select
        {{ blank_as_null('cast(evaluation_id as ' ~ dbt.type_string() ~ ')') }} as evaluation_id,
        cast(conversation_id as {{ dbt.type_string() }}) as conversation_id,
        cast(message_id as {{ dbt.type_string() }}) as message_id,
        cast(created_at as {{ dbt.type_timestamp() }}) as evaluated_at,
        cast(score as {{ type_double() }}) as score,
        cast(accuracy as {{ type_double() }}) as accuracy_raw,
        cast(consistency as {{ type_double() }}) as consistency_raw,
        cast(emotion_match as {{ type_double() }}) as emotion_match_raw,
        lower(trim(cast(evaluator as {{ dbt.type_string() }}))) as evaluator,
        trim(cast(model_version as {{ dbt.type_string() }})) as model_version,
        {{ loaded_at(source('raw', 'conversation_evaluation')) }} as loaded_at
    from source
),

validated as (
    select
        evaluation_id,
        conversation_id,
        message_id,
        evaluated_at,
        {{ to_report_date('evaluated_at') }} as evaluated_date,
        score,
        -- A dimension outside 0–10 is unusable, but the overall score still is.
        case when accuracy_raw between 0 and 10 then accuracy_raw end as accuracy,
        case when consistency_raw between 0 and 10 then consistency_raw end as consistency,
        case when emotion_match_raw between 0 and 10 then emotion_match_raw end as emotion_match,
        (
            (accuracy_raw is not null and not accuracy_raw between 0 and 10)
            or (consistency_raw is not null and not consistency_raw between 0 and 10)
            or (emotion_match_raw is not null and not emotion_match_raw between 0 and 10)
        ) as has_dimension_out_of_range,
        evaluator,
        model_version,
        loaded_at,
        case
            when evaluation_id is null then 'null_evaluation_id'
            when evaluated_at is null then 'null_created_at'
            when {{ impossible_timestamp_reason('evaluated_at') }} is not null
                then {{ impossible_timestamp_reason('evaluated_at') }}
            when score is null then 'null_score'
            when not score between 0 and 10 then 'score_out_of_range'
        end as invalid_reason
    from renamed
),

final as (
    select
        *,
        invalid_reason is null as is_valid
    from validated
)

select * from final
