-- One row per ISO week and segment (a model version or an evaluator) with any valid
-- evaluation or reaction that week. The figures and statistics are the segments' rows of
-- int_weeks_compared, where significance is corrected for the number of segments tested
-- in the week (Benjamini–Hochberg). What is this mart's own is same_rows_as_model_version.
with segment_rows as (
    select
        week_start,
        week_label,
        segment_type,
        segment_value,
        eval_count,
        avg_score,
        stddev_score,
        avg_score_ci_low,
        avg_score_ci_high,
        prev_eval_count,
        prev_avg_score,
        score_change,
        score_change_ci_low,
        score_change_ci_high,
        score_change_p_value,
        score_change_q_value,
        score_change_significant,
        score_mde,
        like_count,
        feedback_count,
        like_ratio,
        like_ratio_ci_low,
        like_ratio_ci_high,
        prev_feedback_count,
        prev_like_ratio,
        like_ratio_change_pp,
        like_ratio_change_ci_low_pp,
        like_ratio_change_ci_high_pp,
        like_ratio_change_p_value,
        like_ratio_change_q_value,
        like_ratio_change_significant,
        like_ratio_mde_pp,
        is_low_volume
    from {{ ref('int_weeks_compared') }}
    where segment_type != 'service'
),

-- An evaluator whose evaluations this week and last week are exactly a model version's
-- (same counts, means and spreads): the two segments hold the same rows, so a report
-- shows the model version once and says so, instead of the same change twice. A self-join
-- of rows read from a table: joining the statistics CTEs themselves made Spark's optimiser
-- fold them into expressions that exhausted its memory.
same_rows as (
    select
        evaluators.week_start,
        evaluators.segment_value as evaluator,
        min(model_versions.segment_value) as model_version
    from segment_rows as evaluators
    inner join segment_rows as model_versions
        on
            evaluators.week_start = model_versions.week_start
            and model_versions.segment_type = 'model_version'
            and evaluators.eval_count = model_versions.eval_count
            and evaluators.prev_eval_count = model_versions.prev_eval_count
    where
        evaluators.segment_type = 'evaluator'
        and evaluators.eval_count > 0
        and coalesce(
            abs(evaluators.avg_score - model_versions.avg_score) < 1e-9,
            evaluators.avg_score is null and model_versions.avg_score is null
        )
        and coalesce(
            abs(evaluators.stddev_score - model_versions.stddev_score) < 1e-9,
            evaluators.stddev_score is null and model_versions.stddev_score is null
        )
        and coalesce(
            abs(evaluators.prev_avg_score - model_versions.prev_avg_score) < 1e-9,
            evaluators.prev_avg_score is null and model_versions.prev_avg_score is null
        )
    group by 1, 2
),

final as (
    select
        segment_rows.*,
        cast(same_rows.model_version as {{ dbt.type_string() }}) as same_rows_as_model_version
    from segment_rows
    left join same_rows
        on
            segment_rows.week_start = same_rows.week_start
            and segment_rows.segment_type = 'evaluator'
            and segment_rows.segment_value = same_rows.evaluator
)

select * from final
