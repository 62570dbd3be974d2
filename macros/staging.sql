{#-
    The staging rules of the raw tables, one macro per table, each a query: its staging model
    is the query over the whole raw table. The ranked tables use the same macros to stage
    only the raw rows of their arriving keys (`rows`, a query of raw rows: macros/arrivals.sql,
    ranked_rows_to_stage): a filter on a staging view would normalise every raw row first.
-#}

{#- A raw id as staged: text, and NULL when blank. -#}
{% macro staged_key(column) -%}
    {{ blank_as_null('cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ ')') }}
{%- endmacro %}


{#- A raw time as staged: the raw tables' times are UTC timestamps. -#}
{% macro staged_time(column) -%}
    cast({{ column }} as {{ dbt.type_timestamp() }})
{%- endmacro %}


{#- stg_conversation_log over `rows` of the raw table `raw` (all of them by default). -#}
{% macro staged_conversation_log(raw, rows=none) -%}
with source as (
    {{ rows or 'select * from ' ~ raw }}
),

renamed as (
    select
        {{ staged_key('message_id') }} as message_id,
        cast(conversation_id as {{ dbt.type_string() }}) as conversation_id,
        {{ staged_time('created_at') }} as responded_at,
        trim(cast(model_version as {{ dbt.type_string() }})) as model_version,
        cast(user_message as {{ dbt.type_string() }}) as user_message,
        cast(ai_response as {{ dbt.type_string() }}) as ai_response,
        {{ loaded_at(raw) }} as loaded_at
    from source
),

final as (
    select
        *,
        {{ to_report_date('responded_at') }} as responded_date
    from renamed
)

select * from final
{%- endmacro %}


{#- stg_conversation_evaluation over `rows` of the raw table `raw` (all of them by default). -#}
{% macro staged_conversation_evaluation(raw, rows=none) -%}
with source as (
    {{ rows or 'select * from ' ~ raw }}
),

renamed as (
    select
        {{ staged_key('evaluation_id') }} as evaluation_id,
        cast(conversation_id as {{ dbt.type_string() }}) as conversation_id,
        cast(message_id as {{ dbt.type_string() }}) as message_id,
        {{ staged_time('created_at') }} as evaluated_at,
        cast(score as {{ type_double() }}) as score,
        cast(accuracy as {{ type_double() }}) as accuracy_raw,
        cast(consistency as {{ type_double() }}) as consistency_raw,
        cast(emotion_match as {{ type_double() }}) as emotion_match_raw,
        lower(trim(cast(evaluator as {{ dbt.type_string() }}))) as evaluator,
        trim(cast(model_version as {{ dbt.type_string() }})) as model_version,
        {{ loaded_at(raw) }} as loaded_at
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
{%- endmacro %}


{#- stg_feedback_log over `rows` of the raw table `raw` (all of them by default). -#}
{% macro staged_feedback_log(raw, rows=none) -%}
with source as (
    {{ rows or 'select * from ' ~ raw }}
),

-- Read twice (the spellings, the rows): inlined, so that a filter on the view reaches the
-- raw scan (macros/planning.sql).
renamed as {{ cte_inlined() }} (
    select
        {{ staged_key('feedback_id') }} as feedback_id,
        cast(conversation_id as {{ dbt.type_string() }}) as conversation_id,
        {{ staged_key('message_id') }} as message_id,
        {{ staged_key('user_id') }} as user_id,
        {{ staged_time('created_at') }} as reacted_at,
        cast(feedback as {{ dbt.type_string() }}) as raw_label,
        {{ loaded_at(raw) }} as loaded_at
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
{%- endmacro %}


{#-
    int_feedback_labelled over a relation or query of staged feedback: every row with its
    label from the label map and, when unusable, the reason.
-#}
{% macro labelled_feedback(staged, label_map) -%}
with feedback as (
    select * from {{ staged }}
),

label_map as (
    select * from {{ label_map }}
),

labelled as (
    select
        feedback.*,
        label_map.label
    from feedback
    left join label_map
        on feedback.normalized_label = label_map.raw_label
),

final as (
    select
        *,
        case
            when feedback_id is null then 'null_feedback_id'
            when reacted_at is null then 'null_created_at'
            when {{ impossible_timestamp_reason('reacted_at') }} is not null
                then {{ impossible_timestamp_reason('reacted_at') }}
            when label is null then 'unknown_feedback_label'
        end as invalid_reason
    from labelled
)

select * from final
{%- endmacro %}
