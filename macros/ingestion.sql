{#-
    The raw contract's ingestion time: when a row landed in the warehouse (UTC), in the
    column named by var('loaded_at_column'), e.g. Fivetran's _fivetran_synced or Airbyte's
    _airbyte_extracted_at. Optional: without the column, loaded_at is NULL.
-#}
{% macro loaded_at(source_relation) -%}
    {%- set column = var('loaded_at_column', 'loaded_at') -%}
    {%- if execute -%}
        {%- set names = adapter.get_columns_in_relation(source_relation) | map(attribute='name') | map('lower') | list -%}
        {%- if column | lower in names -%}
            {{ return("cast(" ~ adapter.quote(column) ~ " as " ~ dbt.type_timestamp() ~ ")") }}
        {%- endif -%}
    {%- endif -%}
    {{ return("cast(null as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}
