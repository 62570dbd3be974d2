-- The vars the tuning marts were built with, so an export can cite its thresholds. It
-- reads no table, but it describes these two marts: built after them, in the same run, it
-- holds the vars that built them (and lineage shows where the card's thresholds belong).
-- depends_on: {{ ref('tuning_examples') }}
-- depends_on: {{ ref('preference_pairs') }}
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
