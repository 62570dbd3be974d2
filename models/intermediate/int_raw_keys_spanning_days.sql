-- The keys whose raw rows lie on more than one day, with each of those days: the other
-- copies of an evaluation or a reaction, the other reactions of a user to a message, and
-- a message's reactions on another day than the response. Most keys have all their rows
-- on one day; these few are what an incremental run follows from a changed day to the
-- other days it must rebuild (macros/incremental.sql), without scanning every row again.
-- A table rebuilt on every run, from every raw row, valid or not.
{{ config(materialized='table') }}

with evaluations as (
    select * from {{ ref('stg_conversation_evaluation') }}
    where evaluation_id is not null and evaluated_date is not null
),

labelled_feedback as (
    select * from {{ ref('int_feedback_labelled') }}
    where reacted_date is not null
),

messages as (
    select * from {{ ref('stg_conversation_log') }}
    where message_id is not null and responded_date is not null
),

-- Each kind of key is grouped on its own columns, and only its few spanning keys are
-- looked up again for their days: one aggregate per kind, no distinct over every row.
evaluation_ids as (
    select evaluation_id
    from evaluations
    group by 1
    having min(evaluated_date) < max(evaluated_date)
),

feedback_ids as (
    select feedback_id
    from labelled_feedback
    where feedback_id is not null
    group by 1
    having min(reacted_date) < max(reacted_date)
),

reactions as (
    select
        message_id,
        user_id
    from labelled_feedback
    where message_id is not null and user_id is not null
    group by 1, 2
    having min(reacted_date) < max(reacted_date)
),

message_days as (
    select
        message_id,
        reacted_date as source_day
    from labelled_feedback
    where message_id is not null

    union all

    select
        message_id,
        responded_date as source_day
    from messages
),

message_ids as (
    select message_id
    from message_days
    group by 1
    having min(source_day) < max(source_day)
),

final as (
    select distinct
        'conversation_evaluation' as source_table,
        'evaluation_id' as key_type,
        evaluation_id as key_value,
        cast(null as {{ dbt.type_string() }}) as user_id,
        evaluated_date as source_day
    from evaluations
    where evaluation_id in (select evaluation_id from evaluation_ids)

    union all

    select distinct
        'feedback_log' as source_table,
        'feedback_id' as key_type,
        feedback_id as key_value,
        cast(null as {{ dbt.type_string() }}) as user_id,
        reacted_date as source_day
    from labelled_feedback
    where feedback_id in (select feedback_id from feedback_ids)

    union all

    select distinct
        'feedback_log' as source_table,
        'reaction' as key_type,
        labelled_feedback.message_id as key_value,
        labelled_feedback.user_id,
        labelled_feedback.reacted_date as source_day
    from labelled_feedback
    inner join reactions
        on
            labelled_feedback.message_id = reactions.message_id
            and labelled_feedback.user_id = reactions.user_id

    union all

    select distinct
        'feedback_log' as source_table,
        'message' as key_type,
        message_id as key_value,
        cast(null as {{ dbt.type_string() }}) as user_id,
        reacted_date as source_day
    from labelled_feedback
    where message_id in (select message_id from message_ids)

    union all

    select distinct
        'conversation_log' as source_table,
        'message' as key_type,
        message_id as key_value,
        cast(null as {{ dbt.type_string() }}) as user_id,
        responded_date as source_day
    from messages
    where message_id in (select message_id from message_ids)
)

select * from final
{%- if arrivals_by_load() %}
-- Every raw table has loaded_at: the incremental models find their arrivals by it
-- (macros/arrivals.sql), and this table is not read.
where 1 = 0
{%- endif %}
