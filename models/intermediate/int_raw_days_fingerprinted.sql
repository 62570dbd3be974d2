-- What each raw table holds per day, as a row count and a sum of row hashes: the state an
-- incremental model compares with what it last processed, to find the changed days
-- (macros/incremental.sql). A row's hash covers its values, its loaded_at and the reason
-- it is rejected, which can change with the clock (a row from the future comes of age).
-- Rows without a timestamp have no day: the models rebuild them with every run.
-- A table: every incremental model reads it a few times per run.
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

hashed_rows as (
    select
        'conversation_evaluation' as source_table,
        evaluated_date as source_day,
        {{ row_fingerprint([
            'evaluation_id', 'conversation_id', 'message_id', 'evaluated_at', 'score',
            'accuracy', 'consistency', 'emotion_match', 'has_dimension_out_of_range',
            'evaluator', 'model_version', 'loaded_at', 'invalid_reason',
        ]) }} as row_hash
    from evaluations
    where evaluated_date is not null

    union all

    select
        'feedback_log' as source_table,
        reacted_date as source_day,
        {{ row_fingerprint([
            'feedback_id', 'conversation_id', 'message_id', 'user_id', 'reacted_at',
            'raw_label', 'label', 'loaded_at', 'invalid_reason',
        ]) }} as row_hash
    from labelled_feedback
    where reacted_date is not null

    union all

    select
        'conversation_log' as source_table,
        responded_date as source_day,
        {{ row_fingerprint(['message_id', 'responded_at', 'model_version', 'loaded_at']) }} as row_hash
    from messages
    where responded_date is not null
),

final as (
    select
        source_table,
        source_day,
        count(*) as row_count,
        sum(row_hash) as row_fingerprint
    from hashed_rows
    group by 1, 2
)

select * from final
{%- if arrivals_by_load() %}
-- Every raw table has loaded_at: the incremental models find their arrivals by it
-- (macros/arrivals.sql), and this table is not read.
where 1 = 0
{%- endif %}
