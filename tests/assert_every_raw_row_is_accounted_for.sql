-- Nothing is lost: every raw row counts in the marts, or is a duplicate copy or a
-- superseded reaction set aside by rule, or is quarantined with a reason.
with raw_evaluations as (
    select count(*) as row_count from {{ source('raw', 'conversation_evaluation') }}
),

raw_feedback as (
    select count(*) as row_count from {{ source('raw', 'feedback_log') }}
),

counted_evaluations as (
    select count(*) as row_count from {{ ref('int_evaluations_deduplicated') }}
),

counted_reactions as (
    select count(*) as row_count from {{ ref('int_feedback_latest_reactions') }}
),

set_aside as (
    select
        source_table,
        count(*) as row_count
    from {{ ref('int_data_quality_events') }}
    where issue != 'dimension_out_of_range'
    group by 1
),

balances as (
    select
        'conversation_evaluation' as source_table,
        raw_evaluations.row_count as raw_count,
        counted_evaluations.row_count + coalesce(set_aside.row_count, 0) as accounted_count
    from raw_evaluations
    cross join counted_evaluations
    left join set_aside on set_aside.source_table = 'conversation_evaluation'

    union all

    select
        'feedback_log' as source_table,
        raw_feedback.row_count as raw_count,
        counted_reactions.row_count + coalesce(set_aside.row_count, 0) as accounted_count
    from raw_feedback
    cross join counted_reactions
    left join set_aside on set_aside.source_table = 'feedback_log'
),

final as (
    select * from balances
    where raw_count != accounted_count
)

select * from final
