{#-
    Fails (warns, by default) when the LLM judge's bias against humans changed significantly
    in the latest complete week against the week before (judge_bias_change_significant in
    judge_agreement_weekly: Welch's test, Benjamini–Hochberg over the model versions), in
    either direction: a judge that drifts makes every judged score move without the answers
    changing. One row per drifted segment. Make it gate a deployment with
    `config: {severity: error}`, or at run time with --vars '{judge_drift_severity: error}'
    where the test is declared that way.
-#}
{% test judge_drift(model, segment_types=['service', 'model_version']) %}
    {{ config(severity='warn') }}
    with latest_complete_week as (
        select *
        from {{ model }}
        where week_start = (select max(week_start) from {{ model }} where is_complete_week)
    ),

    drifts as (
        select
            week_label,
            segment_type,
            segment_value,
            prev_judge_bias as previous_value,
            judge_bias as current_value,
            judge_bias_change_p_value as p_value
        from latest_complete_week
        where
            judge_bias_change_significant
            and segment_type in ('{{ segment_types | join("', '") }}')
    )

    select * from drifts
{% endtest %}
