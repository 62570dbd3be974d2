-- A table rebuilt from the incremental daily aggregates: one row a day, cheap to rewrite.

with daily_evaluations as (
    select * from {{ ref('int_evaluations_aggregated_daily') }}
),

final as (
    select
        evaluated_date as score_date,
        cast(eval_count as {{ dbt.type_int() }}) as eval_count,
        cast({{ safe_divide('score_sum', 'eval_count') }} as {{ type_double() }}) as avg_score,
        cast({{ safe_divide('accuracy_sum', 'accuracy_count') }} as {{ type_double() }}) as avg_accuracy,
        cast({{ safe_divide('consistency_sum', 'consistency_count') }} as {{ type_double() }}) as avg_consistency,
        cast({{ safe_divide('emotion_match_sum', 'emotion_match_count') }} as {{ type_double() }}) as avg_emotion_match,
        cast({{ stddev_from_sums('eval_count', 'score_sum', 'score_sq_sum') }} as {{ type_double() }}) as stddev_score
    from daily_evaluations
)

select * from final
