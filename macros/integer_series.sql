{#-
    The integers 0 .. 10^digits - 1 as a column `n`, from cross joins of ten digits:
    portable to every engine, and cheap (4 digits = 10,000 rows = 190 years of weeks).
-#}
{% macro integer_series(digits=4) -%}
    {%- set ten -%}
        select 0 as d union all select 1 union all select 2 union all select 3
        union all select 4 union all select 5 union all select 6 union all select 7
        union all select 8 union all select 9
    {%- endset -%}
    select
        {% for i in range(digits) -%}
            digit_{{ i }}.d * {{ 10 ** i }}{{ " + " if not loop.last }}
        {%- endfor %} as n
    from
        {% for i in range(digits) -%}
            ({{ ten }}) as digit_{{ i }}{{ "\n        cross join " if not loop.last }}
        {%- endfor %}
{%- endmacro %}
