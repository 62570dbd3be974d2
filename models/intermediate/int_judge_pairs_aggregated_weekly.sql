-- The sums of judge_agreement_weekly, per ISO week and segment (the service, each model
-- version): one matched pair per message with at least one valid human evaluation and at
-- least one valid LLM-judge evaluation, each side its mean score for the message, in the
-- week of the message's first judge evaluation. Sums of scores, squares, differences and
-- average ranks, from which the mart computes every statistic. Summed from
-- int_messages_scored, one narrow row per message, which is incremental by message: a table
-- rebuilt whole by every run.
{{ config(materialized='table') }}

with pairs as (
    select
        {{ iso_week_start('judged_date') }} as week_start,
        model_version,
        human_score,
        judge_score
    from {{ ref('int_messages_scored') }}
    where human_score is not null and judge_score is not null
),

segment_pairs as (
    select
        week_start,
        'service' as segment_type,
        'all' as segment_value,
        human_score,
        judge_score
    from pairs
    union all
    select
        week_start,
        'model_version' as segment_type,
        model_version as segment_value,
        human_score,
        judge_score
    from pairs
),

-- The pairs of a week and segment with the same two scores: ranks and sums follow from
-- their count, so the ranking below reads a few rows per score, not a row per pair.
score_cells as (
    select
        week_start,
        segment_type,
        segment_value,
        human_score,
        judge_score,
        count(*) as pair_count
    from segment_pairs
    group by 1, 2, 3, 4, 5
),

{% for side in ['human', 'judge'] -%}
-- Average {{ side }} ranks within the week and segment (ties share the mean of their
-- positions), as Spearman's rho and scipy.stats.spearmanr define them: the pairs with a
-- lower score, plus the mean of the positions 1 to n of the score's n pairs.
{{ side }}_ranks as (
    select
        week_start,
        segment_type,
        segment_value,
        {{ side }}_score,
        cast(sum(pair_count) over (
            partition by week_start, segment_type, segment_value order by {{ side }}_score
            rows between unbounded preceding and current row
        ) - pair_count as {{ type_double() }})
        + (cast(pair_count as {{ type_double() }}) + 1.0) / 2.0 as {{ side }}_rank
    from (
        select
            week_start,
            segment_type,
            segment_value,
            {{ side }}_score,
            cast(sum(pair_count) as {{ dbt.type_bigint() }}) as pair_count
        from score_cells
        group by 1, 2, 3, 4
    ) as levels
),

{% endfor -%}
ranked_cells as (
    select
        score_cells.*,
        score_cells.judge_score - score_cells.human_score as score_difference,
        human_ranks.human_rank,
        judge_ranks.judge_rank
    from score_cells
    inner join human_ranks
        on
            score_cells.week_start = human_ranks.week_start
            and score_cells.segment_type = human_ranks.segment_type
            and score_cells.segment_value = human_ranks.segment_value
            and score_cells.human_score = human_ranks.human_score
    inner join judge_ranks
        on
            score_cells.week_start = judge_ranks.week_start
            and score_cells.segment_type = judge_ranks.segment_type
            and score_cells.segment_value = judge_ranks.segment_value
            and score_cells.judge_score = judge_ranks.judge_score
),

final as (
    select
        week_start,
        cast(segment_type as {{ type_varchar() }}) as segment_type,
        cast(segment_value as {{ type_varchar() }}) as segment_value,
        cast(sum(pair_count) as {{ dbt.type_bigint() }}) as pair_count,
        sum(pair_count * human_score) as human_sum,
        sum(pair_count * human_score * human_score) as human_sq_sum,
        sum(pair_count * judge_score) as judge_sum,
        sum(pair_count * judge_score * judge_score) as judge_sq_sum,
        sum(pair_count * score_difference) as difference_sum,
        sum(pair_count * score_difference * score_difference) as difference_sq_sum,
        sum(pair_count * abs(score_difference)) as abs_difference_sum,
        -- Within one point, with room for the rounding of means such as 8.3 - 7.3.
        cast(
            sum(case when abs(score_difference) <= 1.000000001 then pair_count else 0 end) as {{ dbt.type_bigint() }}
        ) as within_one_point_count,
        sum(pair_count * human_rank) as human_rank_sum,
        sum(pair_count * human_rank * human_rank) as human_rank_sq_sum,
        sum(pair_count * judge_rank) as judge_rank_sum,
        sum(pair_count * judge_rank * judge_rank) as judge_rank_sq_sum,
        sum(pair_count * human_rank * judge_rank) as rank_product_sum
    from ranked_cells
    group by 1, 2, 3
)

select * from final
