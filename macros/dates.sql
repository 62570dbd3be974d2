{#-
    Every timestamp becomes a report date here, and nowhere else.
    Raw timestamps are UTC without a time zone; var('report_timezone') moves the
    day (and so the week) boundaries to local time, e.g. 'Asia/Seoul'.
-#}

{% macro report_timezone() -%}
    {%- set tz = var('report_timezone', 'UTC') -%}
    {%- if tz not in modules.pytz.all_timezones_set -%}
        {{ exceptions.raise_compiler_error("var('report_timezone') = '" ~ tz ~ "' is not an IANA time zone name (for example 'UTC' or 'Asia/Seoul').") }}
    {%- endif -%}
    {{ return(tz) }}
{%- endmacro %}


{% macro to_report_date(utc_timestamp) -%}
    {%- set tz = report_timezone() -%}
    {%- if tz == 'UTC' -%}
        cast({{ utc_timestamp }} as date)
    {%- else -%}
        {{ return(adapter.dispatch('to_report_date', 'ai_performance')(utc_timestamp, tz)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__to_report_date(utc_timestamp, tz) -%}
    cast((({{ utc_timestamp }}) at time zone 'UTC') at time zone '{{ tz }}' as date)
{%- endmacro %}

{% macro duckdb__to_report_date(utc_timestamp, tz) -%}
    cast(timezone('{{ tz }}', timezone('UTC', {{ utc_timestamp }})) as date)
{%- endmacro %}

{% macro spark__to_report_date(utc_timestamp, tz) -%}
    cast(from_utc_timestamp({{ utc_timestamp }}, '{{ tz }}') as date)
{%- endmacro %}


{#- The as-of date, as a date literal: var('as_of_date') or today in the report time zone. -#}
{% macro as_of_date() -%}
    {%- set configured = var('as_of_date', '') -%}
    {%- if configured -%}
        {%- set day = modules.datetime.date.fromisoformat(configured | string) -%}
    {%- else -%}
        {%- set day = modules.datetime.datetime.now(modules.pytz.timezone(report_timezone())).date() -%}
    {%- endif -%}
    cast('{{ day.isoformat() }}' as date)
{%- endmacro %}


{#- Monday of the ISO week that contains a date. -#}
{% macro iso_week_start(date_expr) -%}
    cast({{ dbt.date_trunc('week', date_expr) }} as date)
{%- endmacro %}


{% macro add_days(date_expr, days) -%}
    cast({{ dbt.dateadd('day', days, date_expr) }} as date)
{%- endmacro %}


{#- The ISO year is the calendar year of the week's Thursday: 2025-12-29 is in 2026-W01. -#}
{% macro iso_year(week_start_expr) -%}
    cast(extract(year from {{ add_days(week_start_expr, 3) }}) as {{ dbt.type_int() }})
{%- endmacro %}


{% macro iso_week(date_expr) -%}
    cast(extract(week from {{ date_expr }}) as {{ dbt.type_int() }})
{%- endmacro %}


{% macro iso_week_label(week_start_expr) -%}
    {{ dbt.concat([
        "cast(" ~ iso_year(week_start_expr) ~ " as " ~ dbt.type_string() ~ ")",
        "'-W'",
        "lpad(cast(" ~ iso_week(week_start_expr) ~ " as " ~ dbt.type_string() ~ "), 2, '0')",
    ]) }}
{%- endmacro %}


{#-
    The reason a raw timestamp is impossible, or NULL: later than the build's clock plus
    var('future_tolerance_hours'), or before var('earliest_valid_date'). The clock is the
    start of the dbt invocation, so every model of one build agrees; a row from the future
    is counted by the first build after its time has come.
-#}
{% macro impossible_timestamp_reason(utc_timestamp) -%}
    {%- set hours = var('future_tolerance_hours', 24) -%}
    {%- if hours is not number or hours is boolean or hours < 0 -%}
        {{ exceptions.raise_compiler_error("var('future_tolerance_hours') = " ~ hours ~ " must be a number of hours of at least 0 (24 accepts rows up to a day ahead of the clock).") }}
    {%- endif -%}
    {%- set earliest = var('earliest_valid_date', '2000-01-01') | string -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', earliest) -%}
        {{ exceptions.raise_compiler_error("var('earliest_valid_date') = '" ~ earliest ~ "' must be a date like 2000-01-01.") }}
    {%- endif -%}
    case
        when {{ utc_timestamp }} > cast('{{ valid_through() }}' as {{ dbt.type_timestamp() }})
            then 'created_at_in_future'
        when {{ utc_timestamp }} < cast('{{ earliest }} 00:00:00' as {{ dbt.type_timestamp() }})
            then 'created_at_too_early'
    end
{%- endmacro %}


{#-
    The latest valid timestamp of this build: its clock plus var('future_tolerance_hours'),
    as 'YYYY-MM-DD HH:MM:SS'. A row after it is quarantined as from the future.
-#}
{% macro valid_through() -%}
    {%- set latest = run_started_at.replace(tzinfo=none) + modules.datetime.timedelta(hours=var('future_tolerance_hours', 24)) -%}
    {{ return(latest.strftime("%Y-%m-%d %H:%M:%S")) }}
{%- endmacro %}
