with source as (
    select * from {{ source('raw', 'conversation_log') }}
),

renamed as (
    select
        {{ staged_key('message_id') }} as message_id,
        cast(conversation_id as {{ dbt.type_string() }}) as conversation_id,
        {{ staged_time('created_at') }} as responded_at,
        trim(cast(model_version as {{ dbt.type_string() }})) as model_version,
        cast(user_message as {{ dbt.type_string() }}) as user_message,
        cast(ai_response as {{ dbt.type_string() }}) as ai_response,
        {{ loaded_at(source('raw', 'conversation_log')) }} as loaded_at
    from source
),

final as (
    select
        *,
        {{ to_report_date('responded_at') }} as responded_date
    from renamed
)

select * from final
