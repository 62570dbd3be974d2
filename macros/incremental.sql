{#-
    Incremental day-grain models: every run replaces whole days, from the last processed
    day minus var('lookback_days') on, so late rows and changed reactions inside that
    window are picked up. `dbt run --full-refresh` rebuilds all days.

    The strategy is the one place that knows about engines:
      - DuckDB and PostgreSQL: delete+insert on the day column (the days in the new batch
        are deleted, then the batch is inserted);
      - Spark: insert_overwrite of day partitions (parquet; merge needs Delta or Iceberg).
    Both mean "replace the days that the batch holds", so one model definition gives the
    same rows everywhere.
-#}

{#-
    The config of an incremental model whose rows are replaced a whole day at a time.
    With undated_rows, the model also holds rows without a day (raw rows without a
    timestamp): every batch must include all of them, and they replace the old ones.
-#}
{% macro incremental_by_day(day_column, undated_rows=false) -%}
    {{ return(adapter.dispatch('incremental_by_day', 'ai_performance')(day_column, undated_rows)) }}
{%- endmacro %}

{% macro default__incremental_by_day(day_column, undated_rows=false) -%}
    {%- set config = {
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': day_column,
        'on_schema_change': 'fail',
    } -%}
    {%- if undated_rows -%}
        {#- delete+insert matches days with `=`, which never matches NULL: delete them first. -#}
        {%- do config.update({'pre_hook': "{% if is_incremental() %}delete from {{ this }} where " ~ day_column ~ " is null{% endif %}"}) -%}
    {%- endif -%}
    {{ return(config) }}
{%- endmacro %}

{#- The NULL day is a partition like any other: the batch overwrites it too. -#}
{% macro spark__incremental_by_day(day_column, undated_rows=false) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'insert_overwrite',
        'partition_by': [day_column],
        'file_format': 'parquet',
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}


{#- var('lookback_days'), checked: a whole number of at least 0. -#}
{% macro lookback_days() -%}
    {%- set days = var('lookback_days', 3) -%}
    {%- if days is not number or days is boolean or days != days | int or days < 0 -%}
        {{ exceptions.raise_compiler_error("var('lookback_days') = " ~ days ~ " must be a whole number of at least 0 (3 reprocesses the last processed day and the 3 days before it).") }}
    {%- endif -%}
    {{ return(days | int) }}
{%- endmacro %}


{#-
    The first day an incremental run reprocesses: the latest `this_day_column` already in
    this model minus var('lookback_days'). None on a first or full-refresh build, and when
    the model is still empty.
-#}
{% macro lookback_start(this_day_column) -%}
    {#- A unit test has no `this`: it tests the full-build SQL unless it overrides is_incremental. -#}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set latest = run_query("select max(" ~ this_day_column ~ ") from " ~ this).columns[0].values()[0] -%}
    {%- if latest is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set latest_day = modules.datetime.date.fromisoformat((latest | string)[:10]) -%}
    {{ return(latest_day - modules.datetime.timedelta(days=lookback_days())) }}
{%- endmacro %}


{#-
    A where-clause for an import CTE: only the rows of the days to reprocess (every row on a
    full build). `day_column` is the upstream day; `this_day_column` names it in this model
    when it differs. With `timestamp_column` (the UTC timestamp the day was cut from) the
    filter also bounds the timestamp, a day earlier to allow for any time zone, so the
    engine can skip old data without computing a date for every row. A model configured
    with undated_rows adds its rows without a day to every batch, in a branch of its own
    (`... where <timestamp> is null`): an `or` here would stop the engine skipping old data.
-#}
{% macro in_lookback_window(day_column, timestamp_column=none, this_day_column=none) -%}
    {%- set start_day = lookback_start(this_day_column or day_column) -%}
    {%- if start_day is none -%}
        1 = 1
    {%- else -%}
        {%- if timestamp_column -%}
            {%- set earliest = (start_day - modules.datetime.timedelta(days=1)).isoformat() -%}
            {{ timestamp_column }} >= cast('{{ earliest }} 00:00:00' as {{ dbt.type_timestamp() }}) and {# #}
        {%- endif -%}
        {{ day_column }} >= cast('{{ start_day.isoformat() }}' as date)
    {%- endif -%}
{%- endmacro %}
