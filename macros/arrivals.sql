{#-
    Arrivals by loaded_at: the daily job's work follows the rows that arrived, not the days
    they touch (docs/performance.md, "rebuild by key"). Used when every raw table carries
    the loaded_at column and the engine can delete rows (not Spark, which replaces day
    partitions); otherwise the fingerprint diff of macros/incremental.sql finds the days.

    Each incremental model keeps, per raw table, what it has processed
    (`<model>__processed_loads`): the highest loaded_at, the table's row count then, the
    clock (rows after it were quarantined as from the future) and the settings that decide
    a row's validity. A run's arrivals are the rows loaded since, and the rows whose validity
    the clock changed. The count check: the rows at or below the watermark must be the rows
    counted last time; when they are not (rows deleted, or committed late with an old
    loaded_at), or a setting changed, the model rebuilds every day, by itself.

    The ranked tables (int_evaluations_ranked, int_feedback_reactions_ranked) replace the
    rows of the arriving keys. The models that read them replace the days of those keys,
    summed from the ranked tables, and take their state from them: they process what the
    ranked tables have processed, so a model never reads a ranked table behind it.
-#}

{#- The raw tables: the staging relation that reads each, and its time and day columns. -#}
{% macro raw_table_columns() -%}
    {{ return({
        'conversation_evaluation': {'staging': 'stg_conversation_evaluation', 'time': 'evaluated_at', 'day': 'evaluated_date'},
        'feedback_log': {'staging': 'stg_feedback_log', 'time': 'reacted_at', 'day': 'reacted_date'},
        'conversation_log': {'staging': 'stg_conversation_log', 'time': 'responded_at', 'day': 'responded_date'},
    }) }}
{%- endmacro %}


{#- A model or seed of this project, by name, from the graph (no ref: no new dependency). -#}
{% macro graph_relation(name) -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.name == name and node.resource_type in ('model', 'seed') -%}
            {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias)) }}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("no model or seed named " ~ name) }}
{%- endmacro %}


{#- A raw table, by name, from the graph's sources (none when it is not in the warehouse). -#}
{% macro raw_relation(table) -%}
    {%- for node in graph.sources.values() -%}
        {%- if node.source_name == 'raw' and node.name == table -%}
            {{ return(adapter.get_relation(node.database, node.schema, node.identifier)) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}


{#-
    A raw table's loaded_at as the staging models read it, for the state queries: these read
    the raw tables, not the staging views, which would normalise every row for a count.
-#}
{% macro raw_loaded_at(table) -%}
    {{ return(loaded_at(raw_relation(table))) }}
{%- endmacro %}


{#-
    True when this run finds arrivals by loaded_at: every raw table has the column, and the
    engine deletes rows by key. Decided when the model is compiled, from the raw tables.
-#}
{% macro arrivals_by_load() -%}
    {{ return(adapter.dispatch('arrivals_by_load', 'ai_performance')()) }}
{%- endmacro %}

{% macro default__arrivals_by_load() -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set column = var('loaded_at_column', 'loaded_at') | lower -%}
    {%- for table in raw_table_columns() -%}
        {%- set relation = raw_relation(table) -%}
        {%- if relation is none -%}
            {{ return(false) }}
        {%- endif -%}
        {%- if column not in raw_column_names(relation) -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(true) }}
{%- endmacro %}

{% macro spark__arrivals_by_load() -%}
    {{ return(false) }}
{%- endmacro %}


{#- True while an incremental run of this model finds its arrivals by loaded_at. -#}
{% macro is_load_rebuild() -%}
    {{ return(is_day_rebuild() and arrivals_by_load()) }}
{%- endmacro %}


{#-
    What decides a row's validity besides its own values and the clock: the validity vars,
    the report time zone (a row's day), the loaded_at column, and the label map's content;
    and the two raters judge_agreement_weekly pairs. When it changes, the model rebuilds
    every day.
-#}
{% macro arrival_settings() -%}
    {%- set label_map = graph_relation('feedback_label_map') -%}
    {%- set labels = run_query(
        "select count(*), coalesce(sum(" ~ row_fingerprint(['raw_label', 'label']) ~ "), 0) from " ~ label_map
    ).rows[0] -%}
    {%- set parts = [
        var('earliest_valid_date', '2000-01-01'), var('future_tolerance_hours', 24),
        var('report_timezone', 'UTC'), var('loaded_at_column', 'loaded_at'),
        labels[0], labels[1], human_evaluator(), judge_evaluator(),
    ] -%}
    {{ return(parts | join('|')) }}
{%- endmacro %}


{% macro timestamp_literal(value) -%}
    {%- if value is none -%}
        cast(null as {{ dbt.type_timestamp() }})
    {%- else -%}
        cast('{{ value | string }}' as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}


{#-
    Per raw table, the state a run of this model will have processed: from the raw table
    itself as this run found it at its start (`at_start`: raw_loads_at_start; counted now
    when it has none), or, for a table whose rows the model reads through tables built before it
    (`upstream`: the ranked tables, int_rejected_rows), the state those processed, when they
    all processed the same (none otherwise, or when one has none: the model then rebuilds
    every day and keeps no state for the table, so its next run does too, until they agree).
-#}
{% macro pending_loads(upstream, at_start) -%}
    {%- set settings = arrival_settings() -%}
    {%- set parts = [] -%}
    {%- for table in raw_table_columns() -%}
        {%- if upstream.get(table) -%}
            {%- set states = [] -%}
            {%- for model in upstream[table] -%}
                {%- set built = graph_relation(model) -%}
                {%- do states.append(adapter.get_relation(built.database, built.schema, built.identifier ~ '__processed_loads')) -%}
            {%- endfor -%}
            {%- if none not in states -%}
                {%- set agree = [] -%}
                {%- for other in states[1:] -%}
                    {%- do agree.append(
                        "exists (select 1 from " ~ other ~ " as other where other.source_table = first.source_table"
                        ~ " and " ~ same_value('other.loaded_through', 'first.loaded_through')
                        ~ " and other.row_count = first.row_count"
                        ~ " and " ~ same_value('other.valid_through', 'first.valid_through')
                        ~ " and other.settings = first.settings)"
                    ) -%}
                {%- endfor -%}
                {%- do parts.append(
                    "select source_table, loaded_through, row_count, valid_through, settings from " ~ states[0]
                    ~ " as first where source_table = '" ~ table ~ "'" ~ (" and " ~ agree | join(' and ') if agree else "")
                ) -%}
            {%- endif -%}
        {%- elif at_start.get(table) -%}
            {%- do parts.append(
                "select '" ~ table ~ "' as source_table, " ~ timestamp_literal(at_start[table].loaded_through)
                ~ " as loaded_through, cast(" ~ at_start[table].row_count ~ " as " ~ dbt.type_bigint() ~ ") as row_count, "
                ~ timestamp_literal(valid_through()) ~ " as valid_through, '" ~ settings ~ "' as settings"
            ) -%}
        {%- else -%}
            {%- do parts.append(
                "select '" ~ table ~ "' as source_table, max(" ~ raw_loaded_at(table) ~ ") as loaded_through, "
                ~ "count(*) as row_count, " ~ timestamp_literal(valid_through()) ~ " as valid_through, '"
                ~ settings ~ "' as settings from " ~ raw_relation(table)
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(parts | join(' union all ')) }}
{%- endmacro %}


{#- Both NULL, or equal. -#}
{% macro same_value(left, right) -%}
    ({{ left }} = {{ right }} or ({{ left }} is null and {{ right }} is null))
{%- endmacro %}


{#- The rows of a side table, by source_table. -#}
{% macro loads_by_table(relation) -%}
    {%- set loads = {} -%}
    {%- if relation is not none -%}
        {%- for row in run_query("select source_table, loaded_through, row_count, valid_through, settings from " ~ relation) -%}
            {%- do loads.update({row[0]: {'loaded_through': row[1], 'row_count': row[2], 'valid_through': row[3], 'settings': row[4]}}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(loads) }}
{%- endmacro %}


{#-
    True when what this model processed still stands: a state for every raw table, with the
    same settings, and exactly the rows it counted at or below its watermark.
-#}
{% macro processed_loads_stand(processed, pending, at_start) -%}
    {%- set checks = [] -%}
    {%- for table in raw_table_columns() -%}
        {%- set before = processed.get(table) -%}
        {%- set now = pending.get(table) -%}
        {%- if before is none or now is none or before.settings != now.settings -%}
            {{ return(false) }}
        {%- endif -%}
        {%- set counted = at_start.get(table, {}).get('through', {}) -%}
        {%- set watermark = watermark_key(before.loaded_through) -%}
        {%- if watermark in counted -%}
            {%- if counted[watermark] != before.row_count -%}
                {{ return(false) }}
            {%- endif -%}
        {%- else -%}
            {%- do checks.append(
                "select " ~ before.row_count ~ " - count(*) from " ~ raw_relation(table)
                ~ " where " ~ loaded_through_watermark(table, before.loaded_through)
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for row in (run_query(checks | join(' union all ')) if checks else []) -%}
        {%- if row[0] != 0 -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(true) }}
{%- endmacro %}


{#-
    The raw tables' loads as this run found them at its start, read once for every model of
    the run (on-run-start in dbt_project.yml): per raw table its highest loaded_at and row
    count, and its rows at or below each watermark an incremental model processed, all in one
    statement, so one snapshot. The models take their state (pending_loads) and their check
    (processed_loads_stand) from here instead of each counting every raw row twice
    (PostgreSQL at 10M: about 1 s a count, 21 s of the 100 s of a realistic day). Taken from
    one snapshot, the state still holds what it counted: a row loaded or deleted after the
    start differs from it in the next run's check, which then rebuilds every day. A model
    whose watermark is not here (built on its own since) counts for itself.
-#}
{% macro remember_raw_loads() -%}
    {%- if not execute or flags.WHICH not in ['run', 'build', 'retry'] -%}
        {{ return('') }}
    {%- endif -%}
    {%- set relation = raw_loads_relation() -%}
    {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is not none -%}
        {%- do replace_raw_loads(relation, none) -%}
    {%- endif -%}
    {%- if flags.FULL_REFRESH or not arrivals_by_load() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set processed = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' -%}
        {%- set state = adapter.get_relation(node.database, node.schema, node.alias ~ '__processed_loads') -%}
        {%- if state is not none -%}
            {%- do processed.append("select source_table, loaded_through from " ~ state) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not processed -%}
        {{ return('') }}
    {%- endif -%}
    {%- set watermarks = {} -%}
    {%- for row in run_query("select distinct source_table, loaded_through from (" ~ processed | join(' union all ') ~ ") as states") -%}
        {%- do watermarks.update({row[0]: watermarks.get(row[0], []) + [row[1]]}) -%}
    {%- endfor -%}
    {%- set ctes = [] -%}
    {%- set parts = [] -%}
    {%- for table in raw_table_columns() -%}
        {%- set loaded = raw_loaded_at(table) -%}
        {%- set counts = [] -%}
        {%- for watermark in watermarks.get(table, []) -%}
            {%- do counts.append(
                "count(case when " ~ loaded_through_watermark(table, watermark) ~ " then 1 end) as through_" ~ loop.index
            ) -%}
            {%- do parts.append(
                "select '" ~ table ~ "' as source_table, loaded_through, row_count, " ~ timestamp_literal(watermark)
                ~ " as watermark, through_" ~ loop.index ~ " as row_count_through from " ~ table ~ "_loads"
            ) -%}
        {%- endfor -%}
        {%- if not counts -%}
            {%- do parts.append(
                "select '" ~ table ~ "' as source_table, loaded_through, row_count, " ~ timestamp_literal(none)
                ~ " as watermark, cast(null as " ~ dbt.type_bigint() ~ ") as row_count_through from " ~ table ~ "_loads"
            ) -%}
        {%- endif -%}
        {%- do ctes.append(
            table ~ "_loads as (select max(" ~ loaded ~ ") as loaded_through, count(*) as row_count"
            ~ (", " ~ counts | join(', ') if counts else "") ~ " from " ~ raw_relation(table) ~ ")"
        ) -%}
    {%- endfor -%}
    {%- do replace_raw_loads(
        relation,
        "with " ~ ctes | join(', ') ~ " select '" ~ invocation_id ~ "' as invocation_id, * from ("
        ~ parts | join(' union all ') ~ ") as loads"
    ) -%}
    {{ return('') }}
{%- endmacro %}

{#-
    Drop the raw loads' table and create it from `sql` (none: only drop), committed: the
    models read it on their own connections, and dbt closes the hook's without a commit.
-#}
{% macro replace_raw_loads(relation, sql) -%}
    {%- call statement('replace_raw_loads', auto_begin=true) -%}
        drop table if exists {{ relation }}
    {%- endcall -%}
    {%- do adapter.cache_dropped(relation) -%}
    {%- if sql is not none -%}
        {%- call statement('replace_raw_loads', auto_begin=true) -%}
            {{ adapter.dispatch('create_side_table', 'ai_performance')(relation, sql) }}
        {%- endcall -%}
        {%- do adapter.cache_added(relation) -%}
    {%- endif -%}
    {%- do adapter.commit() -%}
{%- endmacro %}

{#- Where remember_raw_loads keeps them: beside the ranked tables. -#}
{% macro raw_loads_relation() -%}
    {%- set ranked = graph_relation(ranked_tables().evaluations.model) -%}
    {{ return(api.Relation.create(database=ranked.database, schema=ranked.schema, identifier='raw_loads_at_run_start', type='table')) }}
{%- endmacro %}

{#- A where-clause on a raw table: its rows at or below a watermark (and those without loaded_at). -#}
{% macro loaded_through_watermark(table, watermark) -%}
    {%- set loaded = raw_loaded_at(table) -%}
    {{ return("(" ~ loaded ~ " is null or " ~ loaded ~ " <= " ~ timestamp_literal(watermark) ~ ")") }}
{%- endmacro %}

{#- A watermark as a key: its text, or 'none'. -#}
{% macro watermark_key(value) -%}
    {{ return('none' if value is none else value | string) }}
{%- endmacro %}

{#-
    What remember_raw_loads found at the start of this run, by raw table: loaded_through,
    row_count and `through` (the row count at or below each watermark, by watermark_key);
    an empty mapping when it found nothing (another command, a full refresh, no loaded_at).
-#}
{% macro raw_loads_at_start() -%}
    {%- set relation = raw_loads_relation() -%}
    {%- set loads = {} -%}
    {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
        {{ return(loads) }}
    {%- endif -%}
    {%- for row in run_query(
        "select source_table, loaded_through, row_count, watermark, row_count_through from " ~ relation
        ~ " where invocation_id = '" ~ invocation_id ~ "'"
    ) -%}
        {%- if row[0] not in loads -%}
            {%- do loads.update({row[0]: {'loaded_through': row[1], 'row_count': row[2], 'through': {}}}) -%}
        {%- endif -%}
        {%- if row[4] is not none -%}
            {%- do loads[row[0]].through.update({watermark_key(row[3]): row[4]}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(loads) }}
{%- endmacro %}


{#-
    A where-clause on a staging relation of one raw table: the rows that arrived between
    two states (loaded after the first watermark, up to the second), and the rows whose
    validity the clock changed in between (a row from the future come of age). With `raw`,
    on the raw table itself, of its columns as staged (macros/staging.sql).
-#}
{% macro arrived(table, before, now, raw=false) -%}
    {%- set loaded = raw_loaded_at(table) if raw else 'loaded_at' -%}
    ({{ loaded_between(before, now, loaded) }} or {{ came_of_age(table, before, now, raw) }})
{%- endmacro %}

{#- The rows loaded between two states (`loaded`: their loaded_at). -#}
{% macro loaded_between(before, now, loaded='loaded_at') -%}
    (
        {{ loaded }} > {{ timestamp_literal(before.loaded_through) if before.loaded_through is not none else "cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ")" }}
        and {{ loaded }} <= {{ timestamp_literal(now.loaded_through) }}
    )
{%- endmacro %}

{#- The rows whose validity the clock changed between two states. -#}
{% macro came_of_age(table, before, now, raw=false) -%}
    {%- set time_column = staged_time('created_at') if raw else raw_table_columns()[table].time -%}
    {%- set clocks = [before.valid_through, now.valid_through] | sort -%}
    (
        {{ time_column }} > {{ timestamp_literal(clocks[0]) }}
        and {{ time_column }} <= {{ timestamp_literal(clocks[1]) }}
    )
{%- endmacro %}


{#- A query of the keys of one type in a keys relation (see arriving_keys). -#}
{% macro keys_of(keys, key_type) -%}
    select key_value from {{ keys }} where key_type = '{{ key_type }}'
{%- endmacro %}

{#- A where-clause: the row's (message, user) pair is among the pairs P of a keys relation. -#}
{% macro pair_in_keys(keys, message_id='message_id', user_id='user_id') -%}
    ({{ message_id }}, {{ user_id }}) in (select key_value, user_id from {{ keys }} where key_type = 'pair')
{%- endmacro %}


{#-
    The keys whose rows a run ranks again, as a query of (key_type, key_value, user_id), for
    the kinds in `kinds` ('evaluations', 'reactions'):
      - evaluation_id: every arriving evaluation_id;
      - arrived_feedback_id: every arriving feedback_id (F0);
      - pair: the (message, user) pairs of every row of those feedback_ids (P);
      - feedback_id: the feedback_ids of every row of those pairs, and of the rows without a
        pair among F0 (F): the complete copy groups of the reactions ranked again.
    P and F are found among the rows that can be ranked: those of the ranked table (every
    valid row it processed) and the arrivals. A row outside both is invalid, and invalid
    rows are never ranked, so they change no pair's ranking.
-#}
{% macro arriving_keys(kinds, before, now) -%}
    {%- set evaluations = graph_relation('stg_conversation_evaluation') -%}
    {%- set ranked = graph_relation(ranked_tables().reactions.model) -%}
    {%- set null_string = "cast(null as " ~ dbt.type_string() ~ ")" -%}
    {%- set parts = [] -%}
    {%- if 'evaluations' in kinds -%}
        {%- do parts.append(
            "select distinct 'evaluation_id', evaluation_id, " ~ null_string ~ " from " ~ evaluations
            ~ " where evaluation_id is not null and "
            ~ arrived('conversation_evaluation', before['conversation_evaluation'], now['conversation_evaluation'])
        ) -%}
    {%- endif -%}
    {%- if 'reactions' in kinds -%}
        {%- do parts.append("select 'arrived_feedback_id', feedback_id, " ~ null_string ~ " from arrived_feedback") -%}
        {%- do parts.append("select 'pair', message_id, user_id from arriving_pairs") -%}
        {%- do parts.append(
            "select distinct 'feedback_id', feedback_id, " ~ null_string ~ " from of_pairs where feedback_id is not null"
        ) -%}
    {%- endif -%}
    {%- if not parts -%}
        {%- do parts.append("select " ~ null_string ~ ", " ~ null_string ~ ", " ~ null_string ~ " where 1 = 0") -%}
    {%- endif -%}
    {%- if 'reactions' in kinds %}
    with arrived as (
        -- From the raw table: the staging view would read every row for its labels.
        select
            {{ staged_key('feedback_id') }} as feedback_id,
            {{ staged_key('message_id') }} as message_id,
            {{ staged_key('user_id') }} as user_id
        from {{ raw_relation('feedback_log') }}
        where {{ arrived('feedback_log', before['feedback_log'], now['feedback_log'], true) }}
    ),

    arrived_feedback as (
        select distinct feedback_id from arrived where feedback_id is not null
    ),

    -- The rankable rows of F0, ranked before or arriving: one semi-join on one column over
    -- the ranked table (an arriving row with a feedback_id has one of F0).
    of_arrived_feedback as (
        select feedback_id, message_id, user_id from {{ ranked }}
        where feedback_id in (select feedback_id from arrived_feedback)
        union all
        select feedback_id, message_id, user_id from arrived
        where feedback_id is not null
    ),

    arriving_pairs as (
        select distinct message_id, user_id from of_arrived_feedback
        where message_id is not null and user_id is not null
    ),

    -- The rankable rows of the pairs P, and those of F0 without a pair: their feedback_ids
    -- are F. (One condition on the ranked table each: with an OR of two subqueries DuckDB
    -- tests both on every row; 10M rows: 0.74-0.92 s for the keys, against 1.00-1.14 s.)
    -- The arrivals join the ranked rows before the pairs are looked up: PostgreSQL, which
    -- may expect no arrival (the raw table's statistics predate them), would otherwise
    -- join them to the pairs in a nested loop (1M rows: 104 s).
    of_pairs as (
        select feedback_id from (
            select feedback_id, message_id, user_id from {{ ranked }}
            union all
            select feedback_id, message_id, user_id from arrived
        ) as rankable
        where (message_id, user_id) in (select message_id, user_id from arriving_pairs)
        union all
        select feedback_id from of_arrived_feedback
        where message_id is null or user_id is null
    )
    {% endif -%}
    select * from (
        {{ parts | join(' union all ') }}
    ) as keys (key_type, key_value, user_id)
{%- endmacro %}


{#-
    The days of every raw row of the keys of `kinds` in a keys relation: the raw tables still
    hold the keys' old rows, so these are their old days and their new. (A ranked table
    keeps, instead, the days of its own rows of the keys, before and after: the days whose
    ranked rows changed.)
-#}
{% macro key_days(kinds, keys) -%}
    {%- set parts = [] -%}
    {%- if 'evaluations' in kinds -%}
        {%- do parts.append(
            "select evaluated_date from " ~ graph_relation('stg_conversation_evaluation')
            ~ " where evaluation_id in (" ~ keys_of(keys, 'evaluation_id') ~ ")"
        ) -%}
    {%- endif -%}
    {%- if 'reactions' in kinds -%}
        {%- do parts.append(
            "select reacted_date from " ~ graph_relation('stg_feedback_log')
            ~ " where feedback_id in (" ~ keys_of(keys, 'feedback_id') ~ ") or " ~ pair_in_keys(keys)
        ) -%}
    {%- endif -%}
    {{ return(parts) }}
{%- endmacro %}


{#-
    A query of the days whose rows of a ranked table changed in this run, each with whether
    a counted row changed and the message it belongs to (for the weekly models): its rows of the arriving keys before (`__keys_before`) and after,
    compared. A replayed copy changes its own day (a duplicate more), not the counted rows:
    its loaded_at, which only orders identical copies and which no model after the ranked
    tables reads, is left out of the comparison.
-#}
{% macro changed_key_days(day_column, by_key) -%}
    {%- set before = side_relation('keys_before') -%}
    {%- set columns = adapter.get_columns_in_relation(before) | rejectattr('name', 'in', ['loaded_at', 'rowid_before'])
        | map(attribute='quoted') | join(', ') -%}
    with after_run as (
        select {{ columns }} from ({{ rows_where(this, rows_of_keys(by_key, side_relation('rebuild_keys'))) }}) as of_keys
    ),

    changed as (
        (select {{ columns }} from {{ before }} except select {{ columns }} from after_run)
        union all
        (select {{ columns }} from after_run except select {{ columns }} from {{ before }})
    )
    select distinct
        {{ day_column }} as rebuild_day, {{ ranked_tables()[by_key].counted }} as counted, message_id
    from changed
    where {{ day_column }} is not null
{%- endmacro %}


{#-
    The days of the arrivals themselves: of the rejected rows among them (a rejection
    concerns its own row only; a row from the future come of age leaves the quarantine),
    and the days of the counted reactions to arriving messages (a reaction's model version
    is its message's). Those are read from the ranked reactions, brought up to date before
    this model: a reaction counted before this run and not now changed, so its day is among
    the reactions' key days.
-#}
{% macro arrival_days(rebuild, before, now) -%}
    {%- set parts = [] -%}
    {%- set rejected = {
        'conversation_evaluation': ['stg_conversation_evaluation', 'evaluated_date', 'not is_valid'],
        'feedback_log': ['int_feedback_labelled', 'reacted_date', 'invalid_reason is not null'],
    } -%}
    {%- for table, (relation, day, is_rejected) in rejected.items() if 'rejected' in rebuild -%}
        {%- do parts.append(
            "select " ~ day ~ " from " ~ graph_relation(relation) ~ " where ("
            ~ loaded_between(before[table], now[table]) ~ " and " ~ is_rejected ~ ") or "
            ~ came_of_age(table, before[table], now[table])
        ) -%}
    {%- endfor -%}
    {%- if 'messages' in rebuild -%}
        {%- do parts.append(
            "select reacted_date from " ~ graph_relation('int_feedback_latest_reactions')
            ~ " where message_id in (select message_id from " ~ graph_relation('stg_conversation_log') ~ " where "
            ~ arrived('conversation_log', before['conversation_log'], now['conversation_log']) ~ ")"
        ) -%}
    {%- endif -%}
    {{ return(parts) }}
{%- endmacro %}


{#- A query of the distinct days of some queries of one column of days. -#}
{% macro distinct_days(parts) -%}
    select distinct rebuild_day from (
        {{ (parts or ["select cast(null as date) where 1 = 0"]) | join(' union all ') }}
    ) as days (rebuild_day)
    where rebuild_day is not null
{%- endmacro %}


{#-
    What a model rebuilds when its state does not stand: every day of every raw table, and
    every day it holds (a day whose raw rows were all deleted is emptied).
-#}
{% macro every_day_held(day_column) -%}
    {{ return(distinct_days([every_raw_day(), "select " ~ day_column ~ " from " ~ this])) }}
{%- endmacro %}


{#- Every day of every raw table. -#}
{% macro every_raw_day() -%}
    {%- set parts = [] -%}
    {%- for table, columns in raw_table_columns().items() -%}
        {%- do parts.append("select " ~ columns.day ~ " from " ~ graph_relation(columns.staging)) -%}
    {%- endfor -%}
    {{ return(distinct_days(parts)) }}
{%- endmacro %}


{#-
    The ranked tables, by the kind of keys they rank: each finds the arriving keys of its raw
    table once per run, and the days its rows of those keys changed, for the models that
    read it. `counted`: its rows that the daily figures count (the other rows are set aside).
-#}
{% macro ranked_tables() -%}
    {{ return({
        'evaluations': {'model': 'int_evaluations_ranked', 'table': 'conversation_evaluation', 'counted': 'copy_rank = 1'},
        'reactions': {'model': 'int_feedback_reactions_ranked', 'table': 'feedback_log', 'counted': 'reaction_rank = 1'},
    }) }}
{%- endmacro %}


{#-
    The rejected rows: one table (int_rejected_rows) of every raw row that fails validation,
    over the tables whose rows it validates. By loaded_at it appends arrivals rather than
    rebuilding days (a rejection concerns its own row only), and keeps the days whose
    rejected rows changed, for the quarantine models that read it.
-#}
{% macro rejected_table() -%}
    {{ return({'model': 'int_rejected_rows', 'tables': {
        'conversation_evaluation': 'evaluated_at', 'feedback_log': 'reacted_at',
    }}) }}
{%- endmacro %}


{#-
    A where-clause for int_rejected_rows, on the rows of one raw table (its time column, and
    loaded_at): the rows a run writes. By loaded_at, those in the arrival window the
    pre-hook wrote (`__arrival_windows`): loaded since the last run, or whose validity the
    clock changed; every row when what it processed no longer stands. Without loaded_at,
    the rows of the days to rebuild and the rows without a timestamp.
-#}
{% macro rejected_rows_to_write(table, day_column) -%}
    {%- set time_column = rejected_table().tables[table] -%}
    {%- if is_load_rebuild() -%}
        {{ in_arrival_window(table, time_column) }}
    {%- elif is_day_rebuild() -%}
        ({{ time_column }} is null or {{ in_rebuild_days(day_column) }})
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- The same window, on any relation with loaded_at and the time column. -#}
{% macro in_arrival_window(table, time_column) -%}
    (
        {{ arrival_window_value(table, 'every_row') }}
        or (
            loaded_at > {{ arrival_window_value(table, 'loaded_after') }}
            and loaded_at <= {{ arrival_window_value(table, 'loaded_through') }}
        )
        or (
            {{ time_column }} > {{ arrival_window_value(table, 'valid_after') }}
            and {{ time_column }} <= {{ arrival_window_value(table, 'valid_through') }}
        )
    )
{%- endmacro %}


{#-
    One value of this run's arrival window for a raw table (`__arrival_windows`). Elsewhere a
    scalar subquery. On DuckDB a session variable that the pre-hook sets from it: a constant
    to the planner, so the window filters the raw rows before staging validates them (DuckDB
    plans a scalar subquery as a join after the validation of every row: 2.6 s against
    0.01 s at 10M; a guard such as coalesce(getvariable(...), error(...)) is not a constant
    and costs the same). dbt-duckdb runs a model's hooks and body on one connection; were a
    variable unset, the window would find no rows, and the balance of every raw row
    (tests/assert_every_raw_row_is_accounted_for.sql) would fail the build.
-#}
{% macro arrival_window_value(table, column) -%}
    {{ return(adapter.dispatch('arrival_window_value', 'ai_performance')(table, column)) }}
{%- endmacro %}

{% macro default__arrival_window_value(table, column) -%}
    (select {{ column }} from {{ side_relation('arrival_windows') }} where source_table = '{{ table }}')
{%- endmacro %}

{% macro duckdb__arrival_window_value(table, column) -%}
    getvariable('{{ arrival_window_variable(table, column) }}')
{%- endmacro %}

{% macro arrival_window_variable(table, column) -%}
    {{ return(this.identifier ~ '__' ~ table ~ '__' ~ column) }}
{%- endmacro %}

{#- The pre-hook, once it wrote `__arrival_windows`: DuckDB's session variables from it. -#}
{% macro set_arrival_window_variables() -%}
    {{ return(adapter.dispatch('set_arrival_window_variables', 'ai_performance')()) }}
{%- endmacro %}

{% macro default__set_arrival_window_variables() -%}
{%- endmacro %}

{% macro duckdb__set_arrival_window_variables() -%}
    {%- for table in rejected_table().tables -%}
        {%- for column in ['every_row', 'loaded_after', 'loaded_through', 'valid_after', 'valid_through'] -%}
            {#- A missing value (no rows loaded yet) stays NULL, which compares false. -#}
            {%- do run_query(
                "set variable " ~ arrival_window_variable(table, column) ~ " = (select " ~ column ~ " from "
                ~ side_relation('arrival_windows') ~ " where source_table = '" ~ table ~ "')"
            ) -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endmacro %}

{#-
    The arrival windows of int_rejected_rows, one row per raw table: the rows loaded between
    two states, and the rows whose validity the clock changed (came_of_age); with
    `every_row`, all rows.
-#}
{% macro arrival_windows(before, now, every_row) -%}
    {%- set parts = [] -%}
    {%- for table in rejected_table().tables -%}
        {%- set clocks = [before[table].valid_through, now[table].valid_through] | sort if not every_row else [none, none] -%}
        {%- do parts.append(
            "select '" ~ table ~ "' as source_table, " ~ ('true' if every_row else 'false') ~ " as every_row, "
            ~ timestamp_literal(before[table].loaded_through if not every_row and before[table].loaded_through is not none else '1900-01-01') ~ " as loaded_after, "
            ~ timestamp_literal(now[table].loaded_through if not every_row else none) ~ " as loaded_through, "
            ~ timestamp_literal(clocks[0]) ~ " as valid_after, "
            ~ timestamp_literal(clocks[1]) ~ " as valid_through"
        ) -%}
    {%- endfor -%}
    {{ return(parts | join(' union all ')) }}
{%- endmacro %}


{#- The span between two states of one raw table, as text: equal spans, equal arrivals. -#}
{% macro arrival_span(before, now) -%}
    {%- set parts = [] -%}
    {%- for state in [before, now] -%}
        {%- do parts.append([state.loaded_through, state.row_count, state.valid_through, state.settings] | join('|')) -%}
    {%- endfor -%}
    {{ return(parts | join(' to ')) }}
{%- endmacro %}


{#-
    The rows of a ranked table that changed in this run (`<ranked>__key_days`: their days,
    whether they are counted, their messages), when it found its keys over the same span as
    this model's; none otherwise (this model then finds its own).
-#}
{% macro shared_changes(kind, before, now) -%}
    {%- set ranked = ranked_tables()[kind] -%}
    {{ return(shared_changes_of(ranked.model, [ranked.table], before, now)) }}
{%- endmacro %}

{#- The same for any model that keeps its changed days (`__key_days`) and span, over `tables`. -#}
{% macro shared_changes_of(model, tables, before, now) -%}
    {%- set built = graph_relation(model) -%}
    {%- set between = adapter.get_relation(built.database, built.schema, built.identifier ~ '__arrivals_between') -%}
    {%- set changes = adapter.get_relation(built.database, built.schema, built.identifier ~ '__key_days') -%}
    {%- if between is none or changes is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set spans = {} -%}
    {%- for row in run_query("select source_table, span from " ~ between) -%}
        {%- do spans.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {%- for table in tables -%}
        {%- if spans.get(table) != arrival_span(before[table], now[table]) -%}
            {{ return(none) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(changes) }}
{%- endmacro %}


{#-
    The days whose rows of a ranked table changed in this run (with `every_copy`, any row;
    otherwise the counted rows), from shared_changes; none when it has none.
-#}
{% macro shared_key_days(kind, before, now, every_copy) -%}
    {%- set changes = shared_changes(kind, before, now) -%}
    {%- if changes is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return("select rebuild_day from " ~ changes ~ ("" if every_copy else " where counted")) }}
{%- endmacro %}


{#- The evaluator values of the two raters that judge_agreement_weekly pairs. -#}
{% macro human_evaluator() -%}
    {{ return(var('human_evaluator', 'human') | lower | trim) }}
{%- endmacro %}

{% macro judge_evaluator() -%}
    {{ return(var('judge_evaluator', 'llm_judge') | lower | trim) }}
{%- endmacro %}


{#-
    The messages a table of one row per message (by_key 'messages') writes again in a run by
    loaded_at, as a keys relation (key_type 'message_id'): those of the counted rows that
    changed in the ranked tables (before or after the run: a row that moved to another
    message changes both), and those of arriving conversation_log rows (a new first copy).
    None when a ranked table found its keys over another span: then every message.
-#}
{% macro changed_messages(before, now) -%}
    {%- set parts = [] -%}
    {%- for kind in ranked_tables() -%}
        {%- set changes = shared_changes(kind, before, now) -%}
        {%- if changes is none -%}
            {{ return(none) }}
        {%- endif -%}
        {%- do parts.append("select message_id from " ~ changes ~ " where counted") -%}
    {%- endfor -%}
    {%- do parts.append(
        "select message_id from " ~ graph_relation('stg_conversation_log') ~ " where "
        ~ arrived('conversation_log', before['conversation_log'], now['conversation_log'])
    ) -%}
    {{ return(message_keys(parts)) }}
{%- endmacro %}

{#- A keys relation of the distinct messages of some queries of one column of message ids. -#}
{% macro message_keys(parts) -%}
    {%- set null_string = "cast(null as " ~ dbt.type_string() ~ ")" -%}
    {{ return(
        "select distinct 'message_id' as key_type, message_id as key_value, " ~ null_string ~ " as user_id from ("
        ~ parts | join(' union all ') ~ ") as messages (message_id) where message_id is not null"
    ) }}
{%- endmacro %}

{#-
    A where-clause of a table of one row per message (by_key 'messages'): the rows of the
    messages a run by loaded_at writes again; every row otherwise. `message_id`: the column,
    or on a raw row its text (a staged id is its raw text unless blank, and a key is never
    blank, as in of_arriving_keys).
-#}
{% macro of_rebuilt_messages(message_id='message_id') -%}
    {%- if is_load_rebuild() -%}
        {{ message_id }} in ({{ keys_of(side_relation('rebuild_keys'), 'message_id') }})
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}


{#-
    The pre-hook of an incremental run by loaded_at: the state this run will have processed
    (`__pending_loads`, made `__processed_loads` by the post-hook, so a run that dies is
    redone), the keys and days to rebuild, and their rows deleted. For each raw table it
    reads through a ranked table, the model takes that table's state (it processes what the
    ranked table processed) and, over the same span, the days of the keys it found.
    `by_key` (a ranked table: 'evaluations' or 'reactions') deletes the rows of the arriving
    keys, not of days, and keeps them and the span for its post-hook, which finds the days
    they changed for the models that read it. 'messages' (a table of one row per message)
    deletes the rows of the messages whose counted rows changed (changed_messages).
-#}
{% macro prepare_load_rebuild(day_column, rebuild, undated_rows, by_key, every_copy) -%}
    {%- set upstream = {} -%}
    {%- for kind, ranked in ranked_tables().items() if by_key in [none, 'messages'] and kind in rebuild -%}
        {%- do upstream.update({ranked.table: upstream.get(ranked.table, []) + [ranked.model]}) -%}
    {%- endfor -%}
    {%- for table in rejected_table().tables if not by_key and 'rejected' in rebuild -%}
        {%- do upstream.update({table: upstream.get(table, []) + [rejected_table().model]}) -%}
    {%- endfor -%}
    {%- set pending = side_relation('pending_loads') -%}
    {%- set at_start = raw_loads_at_start() -%}
    {%- do replace_side_table(pending, pending_loads(upstream, at_start)) -%}
    {%- if by_key -%}
        {#- Kept only by a run that found them: a full build or a rebuild of every day has none. -#}
        {%- do drop_side_table(side_relation('arrivals_between')) -%}
    {%- endif -%}
    {%- if is_load_rebuild() -%}
        {%- set processed = adapter.get_relation(this.database, this.schema, this.identifier ~ '__processed_loads') -%}
        {%- set before = loads_by_table(processed) -%}
        {%- set now = loads_by_table(pending) -%}
        {%- set keys = side_relation('rebuild_keys') -%}
        {%- set days = side_relation('rebuild_days') -%}
        {%- set stands = processed_loads_stand(before, now, at_start) -%}
        {%- set messages = changed_messages(before, now) if stands and by_key == 'messages' else none -%}
        {%- set stands = stands and (by_key != 'messages' or messages is not none) -%}
        {%- set leaving = none -%}
        {%- set days_deleted = days -%}
        {%- if stands and by_key == 'rejected' -%}
            {%- do replace_side_table(side_relation('arrival_windows'), arrival_windows(before, now, false)) -%}
            {%- do set_arrival_window_variables() -%}
            {%- set leaving = rejected_rows_leaving() -%}
            {%- do replace_side_table(side_relation('keys_before'), "select " ~ day_column ~ " from " ~ this ~ " where " ~ leaving) -%}
            {%- do replace_side_table(side_relation('arrivals_between'), spans_between(rejected_table().tables, before, now)) -%}
            {%- do replace_side_table(days, distinct_days([])) -%}
        {%- elif stands and by_key == 'messages' -%}
            {%- do replace_side_table(keys, messages) -%}
            {%- set leaving = of_rebuilt_messages() -%}
            {%- do replace_side_table(days, distinct_days([])) -%}
        {%- elif stands and by_key -%}
            {%- set table = ranked_tables()[by_key].table -%}
            {%- do replace_side_table(keys, arriving_keys([by_key], before, now)) -%}
            {%- set leaving = keep_rows_before(side_relation('keys_before'), rows_of_keys(by_key, keys), ranked_rows_narrowed(by_key, keys)) -%}
            {%- do replace_side_table(side_relation('arrivals_between'), spans_between([table], before, now)) -%}
            {%- do replace_side_table(days, distinct_days([])) -%}
            {#- No day to delete: the rows kept, alone, by rowid. -#}
            {%- set days_deleted = none -%}
        {%- elif stands -%}
            {%- do replace_side_table(days, days_of_arrivals(rebuild, before, now, every_copy, keys)) -%}
        {%- else -%}
            {{ log(this.identifier ~ ": what it processed no longer stands (rows deleted or loaded with an old loaded_at, a setting changed, or no state yet): every day is rebuilt", info=true) }}
            {%- do replace_side_table(days, every_day_held(day_column)) -%}
            {%- if by_key == 'messages' -%}
                {#- Every message: of a counted evaluation now, or held (its evaluations gone). -#}
                {%- do replace_side_table(keys, message_keys([
                    "select message_id from " ~ graph_relation('int_evaluations_deduplicated'),
                    "select message_id from " ~ this,
                ])) -%}
            {%- else -%}
                {%- do replace_side_table(keys, arriving_keys([], none, none)) -%}
            {%- endif -%}
            {%- if by_key == 'rejected' -%}
                {#- Every row, also of a day no raw row is on any more (its raw rows deleted). -#}
                {%- do replace_side_table(side_relation('arrival_windows'), arrival_windows(before, now, true)) -%}
                {%- do set_arrival_window_variables() -%}
                {%- set leaving = '1 = 1' -%}
            {%- endif -%}
        {%- endif -%}
        {%- if by_key in ranked_tables() -%}
            {%- do set_any_rebuild_day_variable() -%}
        {%- endif -%}
        {%- do delete_rebuilt_rows(day_column, days_deleted, leaving, undated_rows and not (stands and by_key == 'rejected')) -%}
    {%- endif -%}
{%- endmacro %}


{#-
    A ranked table's rows of the arriving keys (`condition`), kept in `keys_before` before
    the run deletes them; returns the where-clause the delete then uses. DuckDB and
    PostgreSQL keep each row's rowid (ctid) too and delete by it, instead of finding the
    rows again among every row of the table (DuckDB at 10M reactions: 0.04 s against
    0.36 s): a row's rowid holds within the model's transaction, and the deleted rows are
    exactly the rows kept. `narrowed` (ranked_rows_narrowed, or none) holds on every row
    the condition keeps, and is tested first.
-#}
{% macro keep_rows_before(keys_before, condition, narrowed=none) -%}
    {{ return(adapter.dispatch('keep_rows_before', 'ai_performance')(keys_before, condition, narrowed)) }}
{%- endmacro %}

{#- The where-clause of the rows kept: `condition`, after `narrowed` when there is one. -#}
{% macro narrowed_condition(condition, narrowed) -%}
    {{ return("(" ~ narrowed ~ ") and " ~ condition if narrowed else condition) }}
{%- endmacro %}

{% macro default__keep_rows_before(keys_before, condition, narrowed) -%}
    {%- do replace_side_table(keys_before, rows_where(this, narrowed_condition(condition, narrowed))) -%}
    {{ return(condition) }}
{%- endmacro %}

{#- PostgreSQL: by ctid, which a TID scan reads without a pass (alone in the where-clause). -#}
{% macro postgres__keep_rows_before(keys_before, condition, narrowed) -%}
    {%- do replace_side_table(
        keys_before,
        "select ctid as rowid_before, * from " ~ this ~ " where " ~ narrowed_condition(condition, narrowed)
    ) -%}
    {{ return("ctid = any(array(select rowid_before from " ~ keys_before ~ "))") }}
{%- endmacro %}

{#-
    DuckDB: the rows `narrowed` selects are found by rowid, reading its column alone, and
    the condition is tested on them (the reactions at 10M: 0.22-0.31 s against
    0.45-0.70 s; both tested together on every row, 0.33-0.35 s).
-#}
{% macro duckdb__keep_rows_before(keys_before, condition, narrowed) -%}
    {%- do replace_side_table(
        keys_before,
        "select rowid as rowid_before, * from " ~ this
        ~ " where rowid in (select rowid from " ~ this ~ " where " ~ (narrowed or condition) ~ ")"
        ~ (" and " ~ condition if narrowed else "")
    ) -%}
    {{ return("rowid in (select rowid_before from " ~ keys_before ~ ")") }}
{%- endmacro %}


{#-
    A where-clause on one column that every row of a ranked table (`by_key`) of the keys a
    run ranks again meets, or none: reactions, a feedback_id of F, which holds the
    feedback_id of every rankable row of the pairs P and of F0, and every ranked reaction
    has one (arriving_keys). It holds on the table's rows as they were when F was found
    (before the run writes), not on rows a run writes from the raw table.
-#}
{% macro ranked_rows_narrowed(by_key, keys) -%}
    {%- if by_key == 'reactions' -%}
        {{ return("feedback_id in (" ~ keys_of(keys, 'feedback_id') ~ ")") }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}


{#-
    The days a model that reads the ranked tables or int_rejected_rows rebuilds, when what
    it processed stands: over the span those tables processed in this run, the days they
    changed; over another, the days of its own arrivals (the days of every raw row of its
    arriving keys, the days of arriving rejected rows), and the days of the counted
    reactions to arriving messages.
-#}
{% macro days_of_arrivals(rebuild, before, now, every_copy, keys) -%}
    {%- set parts = [] -%}
    {%- set shared_rejected = shared_changes_of(rejected_table().model, rejected_table().tables, before, now)
        if 'rejected' in rebuild else none -%}
    {%- if shared_rejected is not none -%}
        {%- do parts.append("select rebuild_day from " ~ shared_rejected) -%}
    {%- endif -%}
    {%- do parts.extend(arrival_days(rebuild | reject('equalto', 'rejected' if shared_rejected is not none else '') | list, before, now)) -%}
    {%- set own = [] -%}
    {%- for kind in ranked_tables() if kind in rebuild -%}
        {%- set shared = shared_key_days(kind, before, now, every_copy) -%}
        {%- if shared is none -%}
            {%- do own.append(kind) -%}
        {%- else -%}
            {%- do parts.append(shared) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if own -%}
        {%- do replace_side_table(keys, arriving_keys(own, before, now)) -%}
        {%- do parts.extend(key_days(own, keys)) -%}
    {%- endif -%}
    {{ return(distinct_days(parts)) }}
{%- endmacro %}


{#- One row per raw table: the span of states a run found its arrivals over. -#}
{% macro spans_between(tables, before, now) -%}
    {%- set parts = [] -%}
    {%- for table in tables -%}
        {%- do parts.append("select '" ~ table ~ "' as source_table, '" ~ arrival_span(before[table], now[table]) ~ "' as span") -%}
    {%- endfor -%}
    {{ return(parts | join(' union all ')) }}
{%- endmacro %}


{#-
    A where-clause on int_rejected_rows: its rows in this run's arrival windows, which the
    run deletes and writes again (so a run that dies half way, or a row loaded while it
    ran, is mended by the next).
-#}
{% macro rejected_rows_leaving() -%}
    {%- set parts = [] -%}
    {%- for table in rejected_table().tables -%}
        {%- do parts.append("(source_table = '" ~ table ~ "' and " ~ in_arrival_window(table, 'occurred_at') ~ ")") -%}
    {%- endfor -%}
    {{ return("(" ~ parts | join(' or ') ~ ")") }}
{%- endmacro %}


{#- Delete the rows a run by loaded_at rebuilds: of its days (none: no day), and those `leaving` selects. -#}
{% macro delete_rebuilt_rows(day_column, days, leaving, undated_rows) -%}
    {%- set conditions = [day_column ~ " in (select rebuild_day from " ~ days ~ ")"] if days is not none else [] -%}
    {%- if undated_rows -%}
        {%- do conditions.append(day_column ~ " is null") -%}
    {%- endif -%}
    {%- if leaving -%}
        {%- do conditions.append(leaving) -%}
    {%- endif -%}
    {%- do run_query("delete from " ~ this ~ " where " ~ conditions | join(' or ')) -%}
{%- endmacro %}


{#-
    A query of the staged rows a ranked table (`by_key`) ranks in a run by loaded_at: every
    raw row of the arriving keys, found on the raw key columns and staged with the rules of
    its staging model (macros/staging.sql), and the rows of `staged`, its staging relation,
    of the days to rebuild (none, or every day when what it processed no longer stands).
    The two parts split the rows by one condition: no row is in both, none is left out.
-#}
{% macro ranked_rows_to_stage(by_key, staged) -%}
    {%- set keys = side_relation('rebuild_keys') -%}
    {%- set ranked = ranked_tables()[by_key] -%}
    {%- set raw = raw_relation(ranked.table) -%}
    {%- set raw_rows = rows_where(raw, of_arriving_keys(by_key, keys, true)) -%}
    {%- if by_key == 'evaluations' -%}
        {%- set of_keys = staged_conversation_evaluation(raw, raw_rows) -%}
    {%- else -%}
        {%- set of_keys = labelled_feedback("(" ~ staged_feedback_log(raw, raw_rows) ~ ") as staged", graph_relation('feedback_label_map')) -%}
    {%- endif -%}
    select * from ({{ of_keys }}) as of_keys
    union all
    select * from {{ staged }}
    where
        {{ any_rebuild_day() }}
        and {{ in_rebuild_days(raw_table_columns()[ranked.table].day) }}
        and not coalesce({{ of_arriving_keys(by_key, keys, false) }}, false)
{%- endmacro %}


{#-
    A where-clause that holds when this run rebuilds any day, a constant to the planner: a
    ranked table's run by loaded_at rebuilds days only when what it processed no longer
    stands, and its staging relation, read for no day, is then not staged at all. Without
    it DuckDB stages every raw row before the semi-join on the days can find there are none
    (the reactions' spellings are a distinct over every row: 1.0 s at 10M, against 0.004 s).
    On DuckDB a session variable the pre-hook sets (set_any_rebuild_day_variable; unset, it
    holds, and the rows are filtered by day as before); elsewhere an uncorrelated EXISTS,
    which PostgreSQL evaluates once, before the scan.
-#}
{% macro any_rebuild_day() -%}
    {{ return(adapter.dispatch('any_rebuild_day', 'ai_performance')()) }}
{%- endmacro %}

{% macro default__any_rebuild_day() -%}
    exists (select 1 from {{ side_relation('rebuild_days') }})
{%- endmacro %}

{% macro duckdb__any_rebuild_day() -%}
    coalesce(getvariable('{{ this.identifier }}__any_rebuild_day'), true)
{%- endmacro %}

{% macro set_any_rebuild_day_variable() -%}
    {{ return(adapter.dispatch('set_any_rebuild_day_variable', 'ai_performance')()) }}
{%- endmacro %}

{% macro default__set_any_rebuild_day_variable() -%}
{%- endmacro %}

{% macro duckdb__set_any_rebuild_day_variable() -%}
    {%- do run_query(
        "set variable " ~ this.identifier ~ "__any_rebuild_day = (select count(*) > 0 from "
        ~ side_relation('rebuild_days') ~ ")"
    ) -%}
{%- endmacro %}


{#-
    A where-clause: the row is of the keys a ranked table (`by_key`) ranks again:
    evaluations, the arriving evaluation_ids; reactions, the feedback_ids F and the pairs P
    (see arriving_keys). On a raw row (`raw`), of its key columns as text: a staged key is
    its raw text, unless blank (then NULL), and a key is never blank, so the clause holds
    on a raw row exactly when it holds on the row staged.
-#}
{% macro of_arriving_keys(by_key, keys, raw) -%}
    {%- set column = {} -%}
    {%- for name in ['evaluation_id', 'feedback_id', 'message_id', 'user_id'] -%}
        {%- do column.update({name: 'cast(' ~ name ~ ' as ' ~ dbt.type_string() ~ ')' if raw else name}) -%}
    {%- endfor -%}
    {%- if by_key == 'evaluations' -%}
        {{ return(column.evaluation_id ~ " in (" ~ keys_of(keys, 'evaluation_id') ~ ")") }}
    {%- endif -%}
    {{ return(
        "(" ~ column.feedback_id ~ " in (" ~ keys_of(keys, 'feedback_id') ~ ") or "
        ~ pair_in_keys(keys, column.message_id, column.user_id) ~ ")"
    ) }}
{%- endmacro %}


{#-
    A where-clause: the rows of a ranked table (`by_key`: evaluations or reactions) that a
    run by keys writes. Evaluations: the arriving evaluation_ids. Reactions: the pairs P,
    and the reactions without a pair among the arriving feedback_ids.
-#}
{% macro rows_of_keys(by_key, keys) -%}
    {%- if by_key == 'evaluations' -%}
        {{ return("evaluation_id in (" ~ keys_of(keys, 'evaluation_id') ~ ")") }}
    {%- endif -%}
    {{ return(
        "(" ~ pair_in_keys(keys) ~ " or ((message_id is null or user_id is null) and feedback_id in ("
        ~ keys_of(keys, 'arrived_feedback_id') ~ ")))"
    ) }}
{%- endmacro %}


{#- The post-hook of a run by loaded_at: what it processed, for the next run. -#}
{% macro remember_processed_loads(day_column, by_key) -%}
    {%- set pending = side_relation('pending_loads') -%}
    {%- set between = side_relation('arrivals_between') -%}
    {%- if by_key and adapter.get_relation(between.database, between.schema, between.identifier) is not none -%}
        {%- if by_key == 'rejected' -%}
            {%- do replace_side_table(side_relation('key_days'),
                "select distinct rebuild_day, true as counted, cast(null as " ~ dbt.type_string() ~ ") as message_id from ("
                ~ "select " ~ day_column ~ " from " ~ side_relation('keys_before') ~ " union all select " ~ day_column
                ~ " from " ~ this ~ " where " ~ rejected_rows_leaving() ~ ") as changed (rebuild_day) where rebuild_day is not null"
            ) -%}
        {%- else -%}
            {%- do replace_side_table(side_relation('key_days'), changed_key_days(day_column, by_key)) -%}
        {%- endif -%}
        {%- do drop_side_table(side_relation('keys_before')) -%}
    {%- endif -%}
    {%- do replace_side_table(side_relation('processed_loads'), "select * from " ~ pending) -%}
    {%- do drop_side_table(side_relation('processed_days')) -%}
{%- endmacro %}
