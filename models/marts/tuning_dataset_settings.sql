-- The vars the tuning marts were built with, so an export can cite its thresholds.
with settings as (
    select
        cast({{ tuning_score_threshold('good') }} as {{ type_double() }}) as good_score,
        cast({{ tuning_score_threshold('bad') }} as {{ type_double() }}) as bad_score,
        cast({{ max_pairs_per_response() }} as {{ dbt.type_int() }}) as max_pairs_per_response,
        cast({{ eval_share() }} as {{ type_double() }}) as eval_share
),

final as (
    select * from settings
)

select * from final
