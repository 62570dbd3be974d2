-- One row per raw row that was rejected (quarantined) as it arrived, with the reason:
-- the rows that no figure counts. The one table of them that quarantined_rows, the daily
-- quarantine counts and the data-quality events read, so that a raw row is validated once
-- per run. Incremental: by loaded_at, a run writes again the rows loaded since the last
-- and those whose validity the clock changed (a row from the future come of age), as a
-- rejection concerns its own row only (macros/arrivals.sql); without it, the days whose
-- raw rows changed and the rows without a timestamp (macros/incremental.sql).
{{ config(**incremental_by_day('occurred_date', ['rejected'], undated_rows=true, by_key='rejected')) }}
-- depends_on: {{ ref('int_raw_days_fingerprinted') }}

with evaluations as (
    select * from {{ ref('stg_conversation_evaluation') }}
),

labelled_feedback as (
    select * from {{ ref('int_feedback_labelled') }}
),

rejected_evaluations as (
    select
        'conversation_evaluation' as source_table,
        evaluation_id as record_id,
        evaluated_at as occurred_at,
        evaluated_date as occurred_date,
        invalid_reason as issue,
        {{ dbt.concat(["'score='", "coalesce(cast(score as " ~ dbt.type_string() ~ "), 'null')"]) }} as details,
        loaded_at
    from evaluations
    where
        not is_valid
        and {{ rejected_rows_to_write('conversation_evaluation', 'evaluated_date') }}
),

rejected_feedback as (
    select
        'feedback_log' as source_table,
        feedback_id as record_id,
        reacted_at as occurred_at,
        reacted_date as occurred_date,
        invalid_reason as issue,
        {{ dbt.concat(["'feedback='", "coalesce(raw_label, 'null')"]) }} as details,
        loaded_at
    from labelled_feedback
    where
        invalid_reason is not null
        and {{ rejected_rows_to_write('feedback_log', 'reacted_date') }}
),

batch as (
    select * from rejected_evaluations
    union all
    select * from rejected_feedback
),

final as (
    -- Typed, so an incremental batch matches the table's columns.
    select
        cast(source_table as {{ type_varchar() }}) as source_table,
        cast(record_id as {{ type_varchar() }}) as record_id,
        occurred_at,
        occurred_date,
        cast(issue as {{ type_varchar() }}) as issue,
        cast(details as {{ type_varchar() }}) as details,
        loaded_at
    from batch
)

select * from final
