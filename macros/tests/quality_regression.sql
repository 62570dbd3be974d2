{#-
    Fails (warns, by default) when the latest complete week's average score or like ratio
    dropped significantly against the week before (score_change_significant,
    like_ratio_change_significant in weekly_performance). One row per regressed metric.
    Make it gate a deployment with `config: {severity: error}`, or at run time with
    --vars '{quality_regression_severity: error}' where the test is declared that way.
-#}
{% test quality_regression(model, metrics=['score', 'like_ratio']) %}
    {{ config(severity='warn') }}
    {%- set checks = {
        'score': ('avg_score', 'prev_avg_score', 'score_change_significant', 'score_change_p_value'),
        'like_ratio': ('like_ratio', 'prev_like_ratio', 'like_ratio_change_significant', 'like_ratio_change_p_value'),
    } -%}
    {%- for metric in metrics if metric not in checks -%}
        {{ exceptions.raise_compiler_error("quality_regression: unknown metric '" ~ metric ~ "' (score or like_ratio)") }}
    {%- endfor %}
    with latest_complete_week as (
        select *
        from {{ model }}
        where week_start = (select max(week_start) from {{ model }} where is_complete_week)
    ),

    regressions as (
        {%- for metric in metrics %}
            {%- set value, previous, significant, p_value = checks[metric] %}
        select
            week_label,
            '{{ metric }}' as metric,
            {{ previous }} as previous_value,
            {{ value }} as current_value,
            {{ p_value }} as p_value
        from latest_complete_week
        where {{ significant }} and {{ value }} < {{ previous }}
        {{ "union all" if not loop.last }}
        {%- endfor %}
    )

    select * from regressions
{% endtest %}
