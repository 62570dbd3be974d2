-- Every feedback row with its label from the label map and, when unusable, the reason.
with feedback as (
    select * from {{ ref('stg_feedback_log') }}
),

label_map as (
    select * from {{ ref('feedback_label_map') }}
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
