{#-
    An 8-byte float. dbt.type_float() is 'float', which is 4 bytes on DuckDB and Spark:
    8.3 would come back as 8.300000190734863.
-#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'ai_performance')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{% macro postgres__type_double() -%}
    double precision
{%- endmacro %}
