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

spellings as (
    -- Labels repeat: each spelling is normalised once, not once per row (Unicode
    -- normalisation costs far more than the scan).
    select distinct raw_label from renamed
),

label_keys as (
    select
        raw_label,
        -- The key into the feedback_label_map seed.
        {{ normalize_label('raw_label') }} as normalized_label
    from spellings
),

final as (
    select
        renamed.feedback_id,
        renamed.conversation_id,
        renamed.message_id,
        renamed.user_id,
        renamed.reacted_at,
        {{ to_report_date('renamed.reacted_at') }} as reacted_date,
        renamed.raw_label,
        label_keys.normalized_label,
        renamed.loaded_at
    from renamed
    left join label_keys on renamed.raw_label = label_keys.raw_label
)

select * from final
