{#-
    The statistics formulas, from aggregates only (count, sum, sum of squares), in plain
    SQL that runs on every engine. No engine has a portable inverse t or normal CDF:
    critical values of t come from the seed t_critical_values (scipy's), and the normal
    CDF and the t distribution's p-values from well-known approximations. Each is pinned
    against scipy in tests/python/test_stats_formulas.py.

    Arguments are column names, not expressions: the macros repeat their arguments, so a
    model computes each input in an earlier CTE (which also keeps the SQL shallow). Pass
    doubles: PostgreSQL divides integers as integers.
-#}

{#- var('confidence_level'), checked: the level of every confidence interval (default 0.95). -#}
{% macro confidence_level() -%}
    {%- set level = var('confidence_level', 0.95) -%}
    {%- if level is string or level is boolean or level is not number or level not in [0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999] -%}
        {{ exceptions.raise_compiler_error("var('confidence_level') = " ~ level ~ " must be one of 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999 (seeds/t_critical_values.csv).") }}
    {%- endif -%}
    {{ return(level) }}
{%- endmacro %}


{#- var('alpha'), checked: the significance level of every test (default 0.05). -#}
{% macro alpha() -%}
    {%- set level = var('alpha', 0.05) -%}
    {%- if level is string or level is boolean or level is not number or ((1 - level) | round(6)) not in [0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999] -%}
        {{ exceptions.raise_compiler_error("var('alpha') = " ~ level ~ " must be one of 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.001.") }}
    {%- endif -%}
    {{ return(level) }}
{%- endmacro %}


{#- The confidence level that matches alpha: a change interval excludes 0 when the test rejects. -#}
{% macro test_confidence_level() -%}
    {{ return((1 - alpha()) | round(6)) }}
{%- endmacro %}


{#- var('min_n'), checked: below this many evaluations or reactions a week is low volume. -#}
{% macro min_n() -%}
    {%- set limit = var('min_n', 30) -%}
    {%- if limit is not number or limit is boolean or limit != limit | int or limit < 1 -%}
        {{ exceptions.raise_compiler_error("var('min_n') = " ~ limit ~ " must be a whole number of at least 1.") }}
    {%- endif -%}
    {{ return(limit | int) }}
{%- endmacro %}


{#- The standard normal quantiles of the supported two-sided confidence levels. -#}
{% macro normal_critical_value(confidence) -%}
    {%- set quantiles = {
        0.8: 1.2815515655446004, 0.9: 1.6448536269514722, 0.95: 1.959963984540054,
        0.98: 2.3263478740408408, 0.99: 2.5758293035489004, 0.995: 2.807033768343811,
        0.999: 3.2905267314918945,
    } -%}
    {{ return(quantiles[confidence]) }}
{%- endmacro %}


{#-
    The df row of t_critical_values for df degrees of freedom (fractional for Welch):
    whole df below 200 round down, so an interval is never too narrow. NULL from 200 on,
    where t_critical_value_large_df takes over, and below 1 (no interval).
-#}
{% macro t_table_df(df) -%}
    case when {{ df }} >= 1 and {{ df }} < 200 then cast(floor({{ df }}) as {{ dbt.type_int() }}) end
{%- endmacro %}


{#-
    The two-sided critical value of t for df >= 200 (NULL below): the Cornish–Fisher
    expansion in 1/df around the normal quantile, exact to 1e-10 there.
-#}
{% macro t_critical_value_large_df(df, confidence) -%}
    {%- set z = normal_critical_value(confidence) -%}
    {%- set g1 = (z ** 3 + z) / 4 -%}
    {%- set g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96 -%}
    {%- set g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384 -%}
    {%- set g4 = (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / 92160 -%}
    {%- set v = "(" ~ df ~ ")" -%}
    case
        when {{ v }} >= 200
            then {{ z }} + {{ g1 }} / {{ v }} + {{ g2 }} / ({{ v }} * {{ v }})
            + {{ g3 }} / ({{ v }} * {{ v }} * {{ v }}) + {{ g4 }} / ({{ v }} * {{ v }} * {{ v }} * {{ v }})
    end
{%- endmacro %}


{#-
    Standard normal CDF, Zelen & Severo (Abramowitz & Stegun 26.2.17): absolute error
    below 7.5e-8, with exp() only (erf is not portable). The exponent is capped because
    PostgreSQL raises on a double underflow instead of returning 0.
-#}
{% macro normal_cdf(x) -%}
    {%- set k = "1.0 / (1.0 + 0.2316419 * abs(" ~ x ~ "))" -%}
    {%- set upper -%}
        exp(-least({{ x }} * {{ x }} / 2.0, 700.0)) * 0.3989422804014327 * ({{ k }})
        * (0.319381530 + ({{ k }}) * (-0.356563782 + ({{ k }}) * (1.781477937 + ({{ k }})
        * (-1.821255978 + ({{ k }}) * 1.330274429))))
    {%- endset -%}
    case
        when {{ x }} >= 0 then 1.0 - {{ upper }}
        when {{ x }} < 0 then {{ upper }}
    end
{%- endmacro %}


{#-
    Hill's (1970, CACM algorithm 395) normalising transform of a t statistic with df
    degrees of freedom (fractional allowed): a standard normal deviate with the same
    tail probability, to feed normal_cdf. Accurate from df 3 on (see t_two_sided_p_value).
-#}
{% macro t_normal_deviate(t, df) -%}
    {%- set y = "(" ~ df ~ " - 0.5) * ln(1.0 + " ~ t ~ " * " ~ t ~ " / " ~ df ~ ")" -%}
    {%- set b = "48.0 * (" ~ df ~ " - 0.5) * (" ~ df ~ " - 0.5)" -%}
    case
        when {{ df }} >= 2
            then sqrt({{ y }}) * (1.0 + (
                {{ y }} + 3.0
                + (((-0.4 * {{ y }} - 3.3) * {{ y }} - 24.0) * {{ y }} - 85.5)
                / (0.8 * {{ y }} * {{ y }} + 100.0 + {{ b }})
            ) / ({{ b }}))
    end
{%- endmacro %}


{#-
    The two-sided p-value of a t statistic, given its df and its t_normal_deviate. df 1
    and 2 are exact; above, Hill's transform: absolute error below 5e-4 at df 2 to 3,
    5e-5 at df 3 to 5 and 1e-6 beyond. A fractional df below 2 counts as 1 (a larger
    p-value: conservative).
-#}
{% macro t_two_sided_p_value(t, df, deviate) -%}
    case
        when {{ t }} is null or {{ df }} is null or {{ df }} < 1 then null
        when {{ df }} < 2 then 1.0 - 2.0 / pi() * atan(abs({{ t }}))
        when {{ df }} = 2 then 1.0 - abs({{ t }}) / sqrt(2.0 + {{ t }} * {{ t }})
        else least(1.0, 2.0 * (1.0 - ({{ normal_cdf(deviate) }})))
    end
{%- endmacro %}


{#- The two-sided p-value of a standard normal statistic z. -#}
{% macro normal_two_sided_p_value(z) -%}
    least(1.0, 2.0 * ({{ normal_cdf("-abs(" ~ z ~ ")") }}))
{%- endmacro %}


{#- Half the width of the t interval of a mean: NULL below 2 values (no spread, no interval). -#}
{% macro mean_ci_half_width(value_count, stddev, t_critical) -%}
    case
        when {{ value_count }} >= 2 then {{ t_critical }} * {{ stddev }} / sqrt({{ value_count }})
    end
{%- endmacro %}


{#-
    One bound ('low' or 'high') of the Wilson score interval for successes out of trials,
    at a confidence level: NULL without trials; inside [0, 1] even at 0 or all successes.
-#}
{% macro wilson_bound(successes, trials, confidence, side) -%}
    {%- set z = normal_critical_value(confidence) -%}
    {%- set phat = successes ~ " / " ~ trials -%}
    case
        when {{ trials }} > 0
            then (
                {{ phat }} + {{ z * z / 2 }} / {{ trials }}
                {{ "-" if side == "low" else "+" }} {{ z }} * sqrt(
                    greatest(0.0, {{ phat }} * (1.0 - {{ phat }})) / {{ trials }}
                    + {{ z * z / 4 }} / ({{ trials }} * {{ trials }})
                )
            ) / (1.0 + {{ z * z }} / {{ trials }})
    end
{%- endmacro %}


{#- Welch's variance of a difference of two means, s1²/n1 + s2²/n2 (NULL below 2 values each). -#}
{% macro welch_variance(stddev_1, count_1, stddev_2, count_2) -%}
    case
        when {{ count_1 }} >= 2 and {{ count_2 }} >= 2
            then {{ stddev_1 }} * {{ stddev_1 }} / {{ count_1 }} + {{ stddev_2 }} * {{ stddev_2 }} / {{ count_2 }}
    end
{%- endmacro %}


{#- The Welch–Satterthwaite degrees of freedom; NULL when neither sample has spread. -#}
{% macro welch_df(stddev_1, count_1, stddev_2, count_2) -%}
    {%- set v1 = stddev_1 ~ " * " ~ stddev_1 ~ " / " ~ count_1 -%}
    {%- set v2 = stddev_2 ~ " * " ~ stddev_2 ~ " / " ~ count_2 -%}
    case
        when {{ count_1 }} >= 2 and {{ count_2 }} >= 2 and {{ v1 }} + {{ v2 }} > 0
            then ({{ v1 }} + {{ v2 }}) * ({{ v1 }} + {{ v2 }}) / (
                ({{ v1 }}) * ({{ v1 }}) / ({{ count_1 }} - 1.0)
                + ({{ v2 }}) * ({{ v2 }}) / ({{ count_2 }} - 1.0)
            )
    end
{%- endmacro %}


{#-
    The pooled two-proportion z statistic for successes_1/trials_1 against successes_2/trials_2;
    NULL without trials on either side, or when every trial had the same outcome.
-#}
{% macro two_proportion_z(successes_1, trials_1, successes_2, trials_2) -%}
    {%- set pooled = "(" ~ successes_1 ~ " + " ~ successes_2 ~ ") / (" ~ trials_1 ~ " + " ~ trials_2 ~ ")" -%}
    {%- set variance = "(" ~ pooled ~ ") * (1.0 - (" ~ pooled ~ ")) * (1.0 / " ~ trials_1 ~ " + 1.0 / " ~ trials_2 ~ ")" -%}
    case
        when {{ trials_1 }} > 0 and {{ trials_2 }} > 0 and {{ variance }} > 0
            then ({{ successes_1 }} / {{ trials_1 }} - {{ successes_2 }} / {{ trials_2 }}) / sqrt({{ variance }})
    end
{%- endmacro %}


{#-
    A double rounded to a few decimals the same way on every engine (through numeric, as
    PostgreSQL has no round(double, int)), so results agree to the digit everywhere.
-#}
{% macro round_double(expr, digits=6) -%}
    cast(round(cast({{ expr }} as {{ dbt.type_numeric() }}), {{ digits }}) as {{ type_double() }})
{%- endmacro %}


{#-
    A pre-hook for the models that compute the statistics. PostgreSQL's JIT compiler takes
    their many nested expressions for an expensive query and spends about ten seconds
    compiling them to compute a few hundred rows (EXPLAIN ANALYZE: 0.2 s without it).
-#}
{% macro statistics_session_settings() -%}
    {{ return(adapter.dispatch('statistics_session_settings', 'ai_performance')()) }}
{%- endmacro %}

{% macro default__statistics_session_settings() -%}
{%- endmacro %}

{% macro postgres__statistics_session_settings() -%}
    set local jit = off
{%- endmacro %}


{#-
    One bound ('low' or 'high') of Newcombe's hybrid score interval (his method 10) of the
    difference ratio_1 - ratio_2, from each proportion's Wilson bounds (wilson_bound) taken
    at the interval's level: the difference minus (low) or plus (high) the square root of
    the two one-sided distances summed in quadrature. NULL when either ratio is NULL.
-#}
{% macro newcombe_bound(ratio_1, low_1, high_1, ratio_2, low_2, high_2, side) -%}
    {%- if side == 'low' -%}
        ({{ ratio_1 }} - {{ ratio_2 }} - sqrt(
            ({{ ratio_1 }} - {{ low_1 }}) * ({{ ratio_1 }} - {{ low_1 }})
            + ({{ high_2 }} - {{ ratio_2 }}) * ({{ high_2 }} - {{ ratio_2 }})
        ))
    {%- else -%}
        ({{ ratio_1 }} - {{ ratio_2 }} + sqrt(
            ({{ high_1 }} - {{ ratio_1 }}) * ({{ high_1 }} - {{ ratio_1 }})
            + ({{ ratio_2 }} - {{ low_2 }}) * ({{ ratio_2 }} - {{ low_2 }})
        ))
    {%- endif -%}
{%- endmacro %}


{#-
    The Benjamini–Hochberg adjusted p-value (q-value) of a family of tests, a window
    expression: q(k) = min over j >= k of p(j) · m / j, at most 1, where p_rank numbers the
    family's p-values from the smallest (row_number(); ties get equal q-values either way)
    and test_count is the family's size m. partition_by names the family's columns.
    Equals scipy.stats.false_discovery_control(p, method='bh').
-#}
{% macro benjamini_hochberg_q_value(p_value, p_rank, test_count, partition_by) -%}
    least(
        1.0,
        min({{ p_value }} * {{ test_count }} / {{ p_rank }}) over (
            partition by {{ partition_by | join(', ') }}
            order by {{ p_rank }} desc
            rows between unbounded preceding and current row
        )
    )
{%- endmacro %}


{#-
    Pearson's correlation from the count and the sums of x, y, x², y² and xy (over ranks:
    Spearman's). NULL below 2 values or when either side has no spread.
-#}
{% macro correlation_from_sums(value_count, x_sum, y_sum, x_sq_sum, y_sq_sum, xy_sum) -%}
    {%- set xx = "(" ~ value_count ~ " * " ~ x_sq_sum ~ " - " ~ x_sum ~ " * " ~ x_sum ~ ")" -%}
    {%- set yy = "(" ~ value_count ~ " * " ~ y_sq_sum ~ " - " ~ y_sum ~ " * " ~ y_sum ~ ")" -%}
    case
        when {{ value_count }} > 1 and {{ xx }} > 0 and {{ yy }} > 0
            then ({{ value_count }} * {{ xy_sum }} - {{ x_sum }} * {{ y_sum }}) / sqrt({{ xx }} * {{ yy }})
    end
{%- endmacro %}


{#-
    The t statistic of a correlation r over value_count pairs, r · sqrt((n - 2) / (1 - r²)),
    with n - 2 degrees of freedom (feed t_two_sided_p_value): the test of scipy's pearsonr
    and pointbiserialr. NULL below 3 pairs, and at |r| = 1 (a perfect correlation).
-#}
{% macro correlation_t(r, value_count) -%}
    case
        when {{ value_count }} > 2 and {{ r }} * {{ r }} < 1
            then {{ r }} * sqrt(({{ value_count }} - 2.0) / (1.0 - {{ r }} * {{ r }}))
    end
{%- endmacro %}


{#-
    var('baseline_model_version'), checked: the model version every version is compared
    with in model_version_comparison, as a quoted SQL string; none when the var is empty
    or null (each week then picks its own baseline; see that model).
-#}
{% macro baseline_model_version() -%}
    {%- set version = var('baseline_model_version', '') -%}
    {%- if version is none or version == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if version is not string -%}
        {{ exceptions.raise_compiler_error("var('baseline_model_version') = " ~ version ~ " must be a model version name in quotes, or empty for the default baseline.") }}
    {%- endif -%}
    {{ return("'" ~ (version | trim | replace("'", "''")) ~ "'") }}
{%- endmacro %}
