-- One row per AI response whose scores and users disagree: scored high but disliked, or
-- scored low but liked. The hard examples a team reviews. The text is as logged: the
-- dataset export masks e-mail addresses and phone numbers when it writes them
-- (reporter/dataset.py), and this mart is tagged tuning with the other marts that hold it.
with labelled_responses as (
    select * from {{ ref('tuning_examples') }}
),

classified as (
    select
        *,
        case
            when
                mean_score >= {{ tuning_score_threshold('good') }}
                and dislike_count > like_count
                then 'high_score_disliked'
            when
                mean_score <= {{ tuning_score_threshold('bad') }}
                and like_count > dislike_count
                then 'low_score_liked'
        end as disagreement
    from labelled_responses
),

final as (
    select
        message_id,
        conversation_id,
        model_version,
        cast(disagreement as {{ dbt.type_string() }}) as disagreement,
        responded_at,
        responded_date,
        {{ iso_week_start('responded_date') }} as week_start,
        user_message,
        ai_response,
        cast(eval_count as {{ dbt.type_int() }}) as eval_count,
        cast(mean_score as {{ type_double() }}) as mean_score,
        cast(like_count as {{ dbt.type_int() }}) as like_count,
        cast(dislike_count as {{ dbt.type_int() }}) as dislike_count,
        split
    from classified
    where disagreement is not null
)

select * from final
