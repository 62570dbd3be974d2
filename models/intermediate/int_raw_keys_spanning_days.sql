-- The keys whose raw rows lie on more than one day, with each of those days: the other
-- copies of an evaluation or a reaction, the other reactions of a user to a message, and
-- a message's reactions on another day than the response. Most keys have all their rows
-- on one day; these few are what an incremental run follows from a changed day to the
-- other days it must rebuild (macros/incremental.sql), without scanning every row again.
-- A table rebuilt on every run, from every raw row, valid or not.
{{ config(materialized='table') }}

with evaluations as (
    select * from {{ ref('stg_conversation_evaluation') }}
),

labelled_feedback as (
    select * from {{ ref('int_feedback_labelled') }}
),

messages as (
    select * from {{ ref('stg_conversation_log') }}
),

key_days as (
    select distinct
        'conversation_evaluation' as source_table,
        'evaluation_id' as key_type,
        evaluation_id as key_value,
        cast(null as {{ dbt.type_string() }}) as user_id,
        evaluated_date as source_day
    from evaluations
    where evaluation_id is not null and evaluated_date is not null

    union all

    select distinct
        'feedback_log' as source_table,
        'feedback_id' as key_type,
        feedback_id as key_value,
        cast(null as {{ dbt.type_string() }}) as user_id,
        reacted_date as source_day
    from labelled_feedback
    where feedback_id is not null and reacted_date is not null

    union all

    select distinct
        'feedback_log' as source_table,
        'reaction' as key_type,
        message_id as key_value,
        user_id,
        reacted_date as source_day
    from labelled_feedback
    where message_id is not null and user_id is not null and reacted_date is not null

    union all

    select distinct
        'feedback_log' as source_table,
        'message' as key_type,
        message_id as key_value,
        cast(null as {{ dbt.type_string() }}) as user_id,
        reacted_date as source_day
    from labelled_feedback
    where message_id is not null and reacted_date is not null

    union all

    select distinct
        'conversation_log' as source_table,
        'message' as key_type,
        message_id as key_value,
        cast(null as {{ dbt.type_string() }}) as user_id,
        responded_date as source_day
    from messages
    where message_id is not null and responded_date is not null
),

spanning_keys as (
    select
        key_type,
        key_value,
        coalesce(user_id, '') as user_key
    from key_days
    group by 1, 2, 3
    having count(distinct source_day) > 1
),

final as (
    select
        key_days.source_table,
        key_days.key_type,
        key_days.key_value,
        key_days.user_id,
        key_days.source_day
    from key_days
    inner join spanning_keys
        on
            key_days.key_type = spanning_keys.key_type
            and key_days.key_value = spanning_keys.key_value
            and coalesce(key_days.user_id, '') = spanning_keys.user_key
)

select * from final
