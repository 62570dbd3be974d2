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


{#- var('power'), checked: the power the minimum detectable changes are computed for (default 0.8). -#}
{% macro power() -%}
    {%- set level = var('power', 0.8) -%}
    {%- if level is string or level is boolean or level is not number or level <= 0 or level >= 1 -%}
        {{ exceptions.raise_compiler_error("var('power') = " ~ level ~ " must be a number between 0 and 1, e.g. 0.8.") }}
    {%- endif -%}
    {{ return(level) }}
{%- endmacro %}


{#- A polynomial in x by Horner's rule, coefficients from the constant term up. -#}
{% macro horner(coefficients, x) -%}
    {%- set ns = namespace(sql="%.17g" | format(coefficients[-1])) -%}
    {%- for coefficient in coefficients[:-1] | reverse -%}
        {%- set ns.sql = "(" ~ ns.sql ~ ") * " ~ x ~ " + " ~ ("%.17g" | format(coefficient)) -%}
    {%- endfor -%}
    ({{ ns.sql }})
{%- endmacro %}


{#-
    The standard normal quantile of a probability p (the inverse CDF; scipy.stats.norm.ppf):
    Wichura's algorithm AS241 (PPND16), relative error about 1e-16, with ln() and sqrt()
    only. NULL outside 0 < p < 1. Meant for constants (var('power')): it repeats p.
-#}
{% macro normal_quantile(p) -%}
    {%- set p = "cast(" ~ p ~ " as " ~ type_double() ~ ")" -%}
    {%- set q = "(" ~ p ~ " - 0.5)" -%}
    {%- set central = "(0.180625 - " ~ q ~ " * " ~ q ~ ")" -%}
    {#- greatest() keeps ln() defined where the branch is not taken (PostgreSQL folds constants). -#}
    {%- set tail = "sqrt(-ln(greatest(least(" ~ p ~ ", 1.0 - " ~ p ~ "), 1e-300)))" -%}
    {%- set near = "(" ~ tail ~ " - 1.6)" -%}
    {%- set far = "(" ~ tail ~ " - 5.0)" -%}
    {%- set tail_value -%}
        case
            when {{ tail }} <= 5.0
                then {{ horner([
                    1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
                    3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
                    2.27238449892691845833e-2, 7.74545014278341407640e-4], near) }}
                / {{ horner([
                    1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
                    1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
                    1.05075007164441684324e-9], near) }}
            else {{ horner([
                    6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
                    2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
                    2.71155556874348757815e-5, 2.01033439929228813265e-7], far) }}
                / {{ horner([
                    1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
                    7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
                    2.04426310338993978564e-15], far) }}
        end
    {%- endset -%}
    case
        when {{ p }} <= 0 or {{ p }} >= 1 then null
        when abs({{ q }}) <= 0.425
            then {{ q }} * {{ horner([
                3.3871328727963666080e0, 1.3314166789178437745e+2, 1.9715909503065514427e+3,
                1.3731693765509461125e+4, 4.5921953931549871457e+4, 6.7265770927008700853e+4,
                3.3430575583588128105e+4, 2.5090809287301226727e+3], central) }}
            / {{ horner([
                1.0, 4.2313330701600911252e+1, 6.8718700749205790830e+2, 5.3941960214247511077e+3,
                2.1213794301586595867e+4, 3.9307895800092710610e+4, 2.8729085735721942674e+4,
                5.2264952788528545610e+3], central) }}
        when {{ q }} < 0 then -({{ tail_value }})
        else {{ tail_value }}
    end
{%- endmacro %}


{#-
    The factor of a minimum detectable change: z(1 - alpha/2) + z(power), the distance in
    standard errors a true change must be for a two-sided test at var('alpha') to find it
    with probability var('power').
-#}
{% macro detectable_change_factor() -%}
    {%- set p = power() -%}
    {%- if (p - 0.5) | abs <= 0.425 -%}
        {#- AS241's central branch needs no logarithm: a constant in the SQL, on every engine. -#}
        {%- set q, r = p - 0.5, 0.180625 - (p - 0.5) * (p - 0.5) -%}
        {%- set ns = namespace(numerator=0.0, denominator=0.0) -%}
        {%- for coefficient in [
            3.3871328727963666080e0, 1.3314166789178437745e+2, 1.9715909503065514427e+3,
            1.3731693765509461125e+4, 4.5921953931549871457e+4, 6.7265770927008700853e+4,
            3.3430575583588128105e+4, 2.5090809287301226727e+3] | reverse -%}
            {%- set ns.numerator = ns.numerator * r + coefficient -%}
        {%- endfor -%}
        {%- for coefficient in [
            1.0, 4.2313330701600911252e+1, 6.8718700749205790830e+2, 5.3941960214247511077e+3,
            2.1213794301586595867e+4, 3.9307895800092710610e+4, 2.8729085735721942674e+4,
            5.2264952788528545610e+3] | reverse -%}
            {%- set ns.denominator = ns.denominator * r + coefficient -%}
        {%- endfor -%}
        {{ "%.17g" | format(normal_critical_value(test_confidence_level()) + q * ns.numerator / ns.denominator) }}
    {%- else -%}
        ({{ normal_critical_value(test_confidence_level()) }} + {{ normal_quantile(p) }})
    {%- endif -%}
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


{#-
    The two-sided p-value of a standard normal statistic z; NULL when z is NULL (least()
    skips NULLs on every engine, so without the case it would say 1.0: "no evidence").
-#}
{% macro normal_two_sided_p_value(z) -%}
    case
        when {{ z }} is not null then least(1.0, 2.0 * ({{ normal_cdf("-abs(" ~ z ~ ")") }}))
    end
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
    {%- set variance = two_proportion_pooled_variance(successes_1, trials_1, successes_2, trials_2) -%}
    case
        when {{ trials_1 }} > 0 and {{ trials_2 }} > 0 and {{ variance }} > 0
            then ({{ successes_1 }} / {{ trials_1 }} - {{ successes_2 }} / {{ trials_2 }}) / sqrt({{ variance }})
    end
{%- endmacro %}


{#- The variance of a difference of two proportions under the null, p(1-p)(1/n1 + 1/n2) with p pooled. -#}
{% macro two_proportion_pooled_variance(successes_1, trials_1, successes_2, trials_2) -%}
    {%- set pooled = "(" ~ successes_1 ~ " + " ~ successes_2 ~ ") / (" ~ trials_1 ~ " + " ~ trials_2 ~ ")" -%}
    {{ return("(" ~ pooled ~ ") * (1.0 - (" ~ pooled ~ ")) * (1.0 / " ~ trials_1 ~ " + 1.0 / " ~ trials_2 ~ ")") }}
{%- endmacro %}


{#-
    The minimum detectable change of a mean, (z(1 - alpha/2) + z(power)) · sqrt(s1²/n1 + s2²/n2):
    the smallest true change Welch's test would find with probability var('power'). NULL
    when the change is untested (below 2 values in either sample, or no spread in both).
-#}
{% macro mean_detectable_change(stddev_1, count_1, stddev_2, count_2) -%}
    {%- set variance = welch_variance(stddev_1, count_1, stddev_2, count_2) -%}
    case
        when {{ variance }} > 0 then {{ detectable_change_factor() }} * sqrt({{ variance }})
    end
{%- endmacro %}


{#-
    The minimum detectable change of a proportion, (z(1 - alpha/2) + z(power)) ·
    sqrt(p(1-p)(1/n1 + 1/n2)) with p pooled; NULL when the change is untested (no trials
    on either side, or every trial had the same outcome).
-#}
{% macro proportion_detectable_change(successes_1, trials_1, successes_2, trials_2) -%}
    {%- set variance = two_proportion_pooled_variance(successes_1, trials_1, successes_2, trials_2) -%}
    case
        when {{ trials_1 }} > 0 and {{ trials_2 }} > 0 and {{ variance }} > 0
            then {{ detectable_change_factor() }} * sqrt({{ variance }})
    end
{%- endmacro %}


{#- Population variance from count, sum and sum of squares (NULL without values). -#}
{% macro population_variance_from_sums(value_count, value_sum, value_sq_sum) -%}
    {%- set value_count, value_sum, value_sq_sum = "(" ~ value_count ~ ")", "(" ~ value_sum ~ ")", "(" ~ value_sq_sum ~ ")" -%}
    case
        when {{ value_count }} > 0
            then greatest(
                cast(0 as {{ type_double() }}),
                {{ value_sq_sum }} / {{ value_count }} - ({{ value_sum }} / {{ value_count }}) * ({{ value_sum }} / {{ value_count }})
            )
    end
{%- endmacro %}


{#- Sample variance from count, sum and sum of squares (NULL below 2 values). -#}
{% macro sample_variance_from_sums(value_count, value_sum, value_sq_sum) -%}
    {%- set value_count, value_sum, value_sq_sum = "(" ~ value_count ~ ")", "(" ~ value_sum ~ ")", "(" ~ value_sq_sum ~ ")" -%}
    case
        when {{ value_count }} > 1
            then greatest(
                cast(0 as {{ type_double() }}),
                ({{ value_sq_sum }} - {{ value_sum }} * {{ value_sum }} / {{ value_count }}) / ({{ value_count }} - 1.0)
            )
    end
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
    Quadratic weighted kappa in its aggregate form, weighted by the scores' values (not by
    a label's position in a sorted list): 1 - mean((x - y)²) / (var_pop(x) + var_pop(y)
    + (mean(x) - mean(y))²), which is Lin's concordance correlation. NULL when the
    denominator is 0 (both raters gave one and the same score throughout).
-#}
{% macro quadratic_weighted_kappa(mean_squared_difference, variance_1, variance_2, mean_1, mean_2) -%}
    {%- set expected -%}
        ({{ variance_1 }} + {{ variance_2 }} + ({{ mean_1 }} - {{ mean_2 }}) * ({{ mean_1 }} - {{ mean_2 }}))
    {%- endset -%}
    case
        when {{ expected }} > 0 then 1.0 - {{ mean_squared_difference }} / {{ expected }}
    end
{%- endmacro %}


{#-
    Krippendorff's alpha for interval data, two raters, every unit rated by both:
    1 - mean((x - y)²) / (2 · var_samp of all x and y values pooled). NULL without spread.
-#}
{% macro krippendorff_interval_alpha(mean_squared_difference, pooled_variance) -%}
    case
        when {{ pooled_variance }} > 0 then 1.0 - {{ mean_squared_difference }} / (2.0 * {{ pooled_variance }})
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
    A family's p-values numbered from the smallest, a window expression: 1..m over the rows
    whose p_value is not NULL, NULL where it is (an untested row is in no family).
    partition_by names the family's columns; tie_breakers order equal p-values (ties get
    equal q-values either way). Feed benjamini_hochberg_q_value.
-#}
{% macro p_value_rank(p_value, partition_by, tie_breakers) -%}
    case
        when {{ p_value }} is not null then row_number() over (
            partition by {{ partition_by | join(', ') }}
            order by {{ p_value }} nulls last, {{ tie_breakers | join(', ') }}
        )
    end
{%- endmacro %}


{#- The size m of a family of tests: its rows with a p-value, a window expression. -#}
{% macro p_value_family_size(p_value, partition_by) -%}
    count({{ p_value }}) over (partition by {{ partition_by | join(', ') }})
{%- endmacro %}


{#-
    The Benjamini–Hochberg adjusted p-value (q-value) of a family of tests, a window
    expression over the family's rows: q(k) = min over j >= k of p(j) · m / j, at most 1,
    where p_rank numbers the family's p-values from the smallest (p_value_rank) and
    test_count is the family's size m (p_value_family_size). NULL where p_rank is NULL.
    partition_by names the family's columns, as for p_value_rank.
    Equals scipy.stats.false_discovery_control(p, method='bh').
-#}
{% macro benjamini_hochberg_q_value(p_value, p_rank, test_count, partition_by) -%}
    case
        when {{ p_rank }} is not null then least(
            1.0,
            min({{ p_value }} * {{ test_count }} / {{ p_rank }}) over (
                partition by {{ partition_by | join(', ') }}
                order by {{ p_rank }} desc nulls last
                rows between unbounded preceding and current row
            )
        )
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
