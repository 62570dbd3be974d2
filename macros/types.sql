{#-
    The column types that differ between engines, by name, from vars type_double and
    type_varchar in dbt_project.yml: the one home they share with the marts' contracts,
    which are YAML and cannot call a macro.

    type_double: an 8-byte float. dbt.type_float() is 'float', 4 bytes on DuckDB and Spark:
    8.3 would come back as 8.300000190734863.
    type_varchar: the contracts' string type. dbt.type_string() is text on PostgreSQL, which
    an incremental model's schema check takes for a change of type.
-#}
{% macro type_double() -%}
    {{ return(var('type_double')[target.type]) }}
{%- endmacro %}

{% macro type_varchar() -%}
    {{ return(var('type_varchar')[target.type]) }}
{%- endmacro %}
