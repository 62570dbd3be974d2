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


{#-
    The contracts' string type: varchar, and Spark's string. dbt.type_string() is text on
    PostgreSQL, which an incremental model's schema check takes for a change of type.
-#}
{% macro type_varchar() -%}
    {{ return(adapter.dispatch('type_varchar', 'ai_performance')()) }}
{%- endmacro %}

{% macro default__type_varchar() -%}
    varchar
{%- endmacro %}

{% macro spark__type_varchar() -%}
    string
{%- endmacro %}
