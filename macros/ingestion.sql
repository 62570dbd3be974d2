{#-
    The raw contract's ingestion time: when a row landed in the warehouse (UTC), in the
    column named by var('loaded_at_column'), e.g. Fivetran's _fivetran_synced or Airbyte's
    _airbyte_extracted_at. Optional: without the column, loaded_at is NULL.
-#}
{% macro loaded_at(source_relation) -%}
    {%- set column = var('loaded_at_column', 'loaded_at') -%}
    {%- if execute -%}
        {%- if column | lower in raw_column_names(source_relation) -%}
            {{ return("cast(" ~ adapter.quote(column) ~ " as " ~ dbt.type_timestamp() ~ ")") }}
        {%- endif -%}
    {%- endif -%}
    {{ return("cast(null as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}


{#-
    The lower-case column names of a raw table, looked up once per dbt command: no model
    writes a raw table, and about twenty macros of every incremental model ask (whether the
    raw tables carry loaded_at), each lookup a catalog query and about 10 ms of dbt's own
    work. The memo lives in the command's graph, which dbt builds anew for each command.
-#}
{% macro raw_column_names(relation) -%}
    {%- set memo = graph.setdefault('ai_performance__raw_column_names', {}) -%}
    {%- set key = relation | string -%}
    {%- if key not in memo -%}
        {%- do memo.update({key: adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list}) -%}
    {%- endif -%}
    {{ return(memo[key]) }}
{%- endmacro %}
