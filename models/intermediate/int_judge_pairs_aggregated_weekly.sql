-- The sums of judge_agreement_weekly, per ISO week and segment (the service, each model
-- version): one matched pair per message with at least one valid human evaluation and at
-- least one valid LLM-judge evaluation, each side its mean score for the message, in the
-- week of the message's first judge evaluation. Sums of scores, squares, differences and
-- average ranks, from which the mart computes every statistic. Incremental by week: a run
-- rebuilds the weeks of the messages whose counted evaluations changed (macros/arrivals.sql).
{{ config(**incremental_by_week('week_start', ['evaluations'], weeks_of='judged')) }}
-- depends_on: {{ ref('int_raw_days_fingerprinted') }}
-- depends_on: {{ ref('int_evaluations_ranked') }}

-- Read twice on a rebuild: inlined, so that each read filters the rows as it scans them
-- (macros/planning.sql).
with evaluations as {{ cte_inlined() }} (
    select * from {{ ref('int_evaluations_deduplicated') }}
    where
        message_id is not null
        and evaluator in ('{{ human_evaluator() }}', '{{ judge_evaluator() }}')
),

-- On a rebuild, the messages that can be in its weeks: judged in them.
{% if is_day_rebuild() -%}
rebuilt_messages as (
    select distinct message_id from evaluations
    where
        evaluator = '{{ judge_evaluator() }}'
        and {{ in_rebuild_days(iso_week_start('evaluated_date')) }}
),
{%- endif %}

message_scores as (
    select
        message_id,
        avg(case when evaluator = '{{ human_evaluator() }}' then score end) as human_score,
        avg(case when evaluator = '{{ judge_evaluator() }}' then score end) as judge_score,
        min(case when evaluator = '{{ judge_evaluator() }}' then evaluated_date end) as judged_date,
        -- A message's evaluations name one model version; should they differ, one of them.
        max(coalesce(nullif(model_version, ''), 'unknown')) as model_version
    from evaluations
    {%- if is_day_rebuild() %}
    where message_id in (select message_id from rebuilt_messages)
    {%- endif %}
    group by 1
),

pairs as (
    select
        {{ iso_week_start('judged_date') }} as week_start,
        model_version,
        human_score,
        judge_score,
        judge_score - human_score as score_difference
    from message_scores
    where
        human_score is not null
        and judge_score is not null
        and {{ in_rebuild_days(iso_week_start('judged_date')) }}
),

segment_pairs as (
    select
        week_start,
        'service' as segment_type,
        'all' as segment_value,
        human_score,
        judge_score,
        score_difference
    from pairs
    union all
    select
        week_start,
        'model_version' as segment_type,
        model_version as segment_value,
        human_score,
        judge_score,
        score_difference
    from pairs
),

-- Average ranks within the week and segment (ties share the mean of their positions), as
-- Spearman's rho and scipy.stats.spearmanr define them.
ranked_pairs as (
    select
        *,
        cast(rank() over (
            partition by week_start, segment_type, segment_value order by human_score
        ) as {{ type_double() }})
        + (cast(count(*) over (
            partition by week_start, segment_type, segment_value, human_score
        ) as {{ type_double() }}) - 1.0) / 2.0 as human_rank,
        cast(rank() over (
            partition by week_start, segment_type, segment_value order by judge_score
        ) as {{ type_double() }})
        + (cast(count(*) over (
            partition by week_start, segment_type, segment_value, judge_score
        ) as {{ type_double() }}) - 1.0) / 2.0 as judge_rank
    from segment_pairs
),

final as (
    select
        week_start,
        cast(segment_type as {{ type_varchar() }}) as segment_type,
        cast(segment_value as {{ type_varchar() }}) as segment_value,
        count(*) as pair_count,
        sum(human_score) as human_sum,
        sum(human_score * human_score) as human_sq_sum,
        sum(judge_score) as judge_sum,
        sum(judge_score * judge_score) as judge_sq_sum,
        sum(score_difference) as difference_sum,
        sum(score_difference * score_difference) as difference_sq_sum,
        sum(abs(score_difference)) as abs_difference_sum,
        -- Within one point, with room for the rounding of means such as 8.3 - 7.3.
        sum(case when abs(score_difference) <= 1.000000001 then 1 else 0 end) as within_one_point_count,
        sum(human_rank) as human_rank_sum,
        sum(human_rank * human_rank) as human_rank_sq_sum,
        sum(judge_rank) as judge_rank_sum,
        sum(judge_rank * judge_rank) as judge_rank_sq_sum,
        sum(human_rank * judge_rank) as rank_product_sum
    from ranked_pairs
    group by 1, 2, 3
)

select * from final
