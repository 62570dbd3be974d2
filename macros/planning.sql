{#-
    Hints to the planner about a CTE, where engines differ. Other engines plan a CTE as they
    see fit and take neither hint.
-#}

{#-
    Where a model's statistics chain needs a planning barrier: PostgreSQL inlines a CTE
    read once into the query that reads it, and a chain of statistics CTEs inlined into one
    another repeats each input in every formula that uses it, an expression tree that grows
    with each step (a unit test of int_weeks_compared planned for over 15 minutes). Write
    `name as {{ cte_materialized() }} (...)`; other engines plan the chain as it is.
-#}
{% macro cte_materialized() -%}
    {{ return(adapter.dispatch('cte_materialized', 'ai_performance')()) }}
{%- endmacro %}

{% macro default__cte_materialized() -%}
{%- endmacro %}

{% macro postgres__cte_materialized() -%}
    materialized
{%- endmacro %}


{#-
    Where a CTE read more than once must not be written out whole: PostgreSQL materializes
    such a CTE before any filter of the query that reads it applies, so a staging view read
    for a few rows (a window of arrivals, the rows of some keys) would stage every raw row
    first. Write `name as {{ cte_inlined() }} (...)`.
-#}
{% macro cte_inlined() -%}
    {{ return(adapter.dispatch('cte_inlined', 'ai_performance')()) }}
{%- endmacro %}

{% macro default__cte_inlined() -%}
{%- endmacro %}

{% macro postgres__cte_inlined() -%}
    not materialized
{%- endmacro %}
