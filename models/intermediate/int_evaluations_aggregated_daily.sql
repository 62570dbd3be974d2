-- Additive daily aggregates (counts, sums, sums of squares), so that any coarser grain
-- weighs every evaluation the same instead of averaging daily averages.
-- Ranked straight from staging with the rule of int_evaluations_ranked
-- (macros/deduplication.sql), not read back from that row-level table: the weekly figures
-- need only these sums, and writing every row first costs several times the ranking
-- itself (docs/performance.md). An incremental run by loaded_at (macros/arrivals.sql)
-- sums the days of the arriving evaluations from int_evaluations_ranked instead: a few
-- days of a narrow table cost less than ranking them again.
{{ config(**incremental_by_day('evaluated_date', ['evaluations'])) }}
-- depends_on: {{ ref('int_raw_days_fingerprinted') }}
-- depends_on: {{ ref('int_raw_keys_spanning_days') }}
-- depends_on: {{ ref('int_evaluations_ranked') }}

{% if is_load_rebuild() -%}
with deduplicated as (
    select * from {{ ref('int_evaluations_ranked') }}
    where copy_rank = 1 and {{ in_rebuild_days('evaluated_date') }}
),
{%- else -%}
with evaluations as (
    select * from {{ ref('stg_conversation_evaluation') }}
),

valid_evaluations as (
    select * from evaluations
    where is_valid and {{ evaluations_to_rank(ref('stg_conversation_evaluation')) }}
),

ranked as (
    select
        evaluated_date,
        score,
        accuracy,
        consistency,
        emotion_match,
        {{ evaluation_copy_rank() }} as copy_rank
    from valid_evaluations
),

deduplicated as (
    select * from ranked
    where copy_rank = 1 and {{ in_rebuild_days('evaluated_date') }}
),
{%- endif %}

final as (
    select
        evaluated_date,
        count(*) as eval_count,
        sum(score) as score_sum,
        sum(score * score) as score_sq_sum,
        count(accuracy) as accuracy_count,
        sum(accuracy) as accuracy_sum,
        count(consistency) as consistency_count,
        sum(consistency) as consistency_sum,
        count(emotion_match) as emotion_match_count,
        sum(emotion_match) as emotion_match_sum
    from deduplicated
    group by 1
)

select * from final
