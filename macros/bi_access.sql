{#-
    Usage on the marts' schemas for BI tools' read-only role (var bi_reader_role, PostgreSQL
    only; docs/bi_access.md), run once at the end of a run (on-run-end in dbt_project.yml).
    The marts' `grants` config gives the role select on each mart, which PostgreSQL honours
    only with usage on the schema too. Only the marts' schemas that this run built are
    opened: never raw, staging or intermediate. Once, not as a post-hook of each mart: two
    threads granting on one schema at the same time fail ("tuple concurrently updated").
-#}
{% macro grant_bi_reader_schema_usage(built_schemas) -%}
    {%- set role = var('bi_reader_role', '') -%}
    {%- if not execute or target.type != 'postgres' or not role -%}
        {{ return('') }}
    {%- endif -%}
    {%- set marts_schemas = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.fqn[1] == 'marts' -%}
        {%- if role not in (node.config.grants or {}).get('select', []) -%}
            {{ exceptions.raise_compiler_error("var('bi_reader_role') = '" ~ role ~ "' is not in the grants of " ~ node.name ~ ": dbt_project.yml's configs read only --vars, so set it with --vars '{bi_reader_role: " ~ role ~ "}' (or DBT_VARS with `reporter run`), not in the vars block.") }}
        {%- endif -%}
        {%- if node.schema in built_schemas and node.schema not in marts_schemas -%}
            {%- do marts_schemas.append(node.schema) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for schema in marts_schemas %}
    grant usage on schema {{ adapter.quote(schema) }} to {{ role }};
    {%- endfor %}
{%- endmacro %}
