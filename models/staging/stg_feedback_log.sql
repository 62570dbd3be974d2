with source as (
    select * from {{ source('raw', 'feedback_log') }}
),

renamed as (
    select
        {{ blank_as_null('cast(feedback_id as ' ~ dbt.type_string() ~ ')') }} as feedback_id,
        cast(conversation_id as {{ dbt.type_string() }}) as conversation_id,
        {{ blank_as_null('cast(message_id as ' ~ dbt.type_string() ~ ')') }} as message_id,
        {{ blank_as_null('cast(user_id as ' ~ dbt.type_string() ~ ')') }} as user_id,
        cast(created_at as {{ dbt.type_timestamp() }}) as reacted_at,
        cast(feedback as {{ dbt.type_string() }}) as raw_label,
        {{ loaded_at(source('raw', 'feedback_log')) }} as loaded_at
    from source
),

final as (
    select
        feedback_id,
        conversation_id,
        message_id,
        user_id,
        reacted_at,
        {{ to_report_date('reacted_at') }} as reacted_date,
        raw_label,
        -- The key into the feedback_label_map seed.
        {{ normalize_label('raw_label') }} as normalized_label,
        loaded_at
    from renamed
)

select * from final
