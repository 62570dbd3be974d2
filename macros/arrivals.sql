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
        {%- set found = [] -%}
        {%- for node in graph.sources.values() -%}
            {%- if node.source_name == 'raw' and node.name == table -%}
                {%- set relation = adapter.get_relation(node.database, node.schema, node.identifier) -%}
                {%- if relation is not none -%}
                    {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
                    {%- if column in names -%}
                        {%- do found.append(table) -%}
                    {%- endif -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if not found -%}
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
    the report time zone (a row's day), the loaded_at column, and the label map's content.
    When it changes, the model rebuilds every day.
-#}
{% macro arrival_settings() -%}
    {%- set label_map = graph_relation('feedback_label_map') -%}
    {%- set labels = run_query(
        "select count(*), coalesce(sum(" ~ row_fingerprint(['raw_label', 'label']) ~ "), 0) from " ~ label_map
    ).rows[0] -%}
    {%- set parts = [
        var('earliest_valid_date', '2000-01-01'), var('future_tolerance_hours', 24),
        var('report_timezone', 'UTC'), var('loaded_at_column', 'loaded_at'),
        labels[0], labels[1],
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
    itself now, or, for a table whose rows the model reads through a ranked table, the state
    that ranked table processed (none when it has none: the model then rebuilds every day
    and keeps no state, so its next run does too).
-#}
{% macro pending_loads(upstream) -%}
    {%- set settings = arrival_settings() -%}
    {%- set parts = [] -%}
    {%- for table, columns in raw_table_columns().items() -%}
        {%- if upstream.get(table) -%}
            {%- set ranked = graph_relation(upstream[table]) -%}
            {%- set state = adapter.get_relation(ranked.database, ranked.schema, ranked.identifier ~ '__processed_loads') -%}
            {%- if state is not none -%}
                {%- do parts.append(
                    "select source_table, loaded_through, row_count, valid_through, settings from " ~ state
                    ~ " where source_table = '" ~ table ~ "'"
                ) -%}
            {%- endif -%}
        {%- else -%}
            {%- do parts.append(
                "select '" ~ table ~ "' as source_table, max(loaded_at) as loaded_through, count(*) as row_count, "
                ~ timestamp_literal(valid_through()) ~ " as valid_through, '" ~ settings ~ "' as settings from "
                ~ graph_relation(columns.staging)
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(parts | join(' union all ')) }}
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
{% macro processed_loads_stand(processed, pending) -%}
    {%- set checks = [] -%}
    {%- for table, columns in raw_table_columns().items() -%}
        {%- set before = processed.get(table) -%}
        {%- set now = pending.get(table) -%}
        {%- if before is none or now is none or before.settings != now.settings -%}
            {{ return(false) }}
        {%- endif -%}
        {%- do checks.append(
            "select " ~ before.row_count ~ " - count(*) from " ~ graph_relation(columns.staging)
            ~ " where loaded_at is null or loaded_at <= " ~ timestamp_literal(before.loaded_through)
        ) -%}
    {%- endfor -%}
    {%- for row in run_query(checks | join(' union all ')) -%}
        {%- if row[0] != 0 -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(true) }}
{%- endmacro %}


{#-
    A where-clause on a staging relation of one raw table: the rows that arrived between
    two states (loaded after the first watermark, up to the second), and the rows whose
    validity the clock changed in between (a row from the future come of age).
-#}
{% macro arrived(table, before, now) -%}
    {%- set time_column = raw_table_columns()[table].time -%}
    {%- set clocks = [before.valid_through, now.valid_through] | sort -%}
    (
        (
            loaded_at > {{ timestamp_literal(before.loaded_through) if before.loaded_through is not none else "cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ")" }}
            and loaded_at <= {{ timestamp_literal(now.loaded_through) }}
        )
        or (
            {{ time_column }} > {{ timestamp_literal(clocks[0]) }}
            and {{ time_column }} <= {{ timestamp_literal(clocks[1]) }}
        )
    )
{%- endmacro %}


{#-
    The keys whose rows a run ranks again, as a query of (key_type, key_value, user_id):
      - evaluation_id: every arriving evaluation_id;
      - arrived_feedback_id: every arriving feedback_id (F0);
      - pair: the (message, user) pairs of every row of those feedback_ids (P);
      - feedback_id: the feedback_ids of every row of those pairs, and of the rows without a
        pair among F0 (F): the complete copy groups of the reactions ranked again.
-#}
{% macro arriving_keys(rebuild, before, now) -%}
    {%- set evaluations = graph_relation('stg_conversation_evaluation') -%}
    {%- set feedback = graph_relation('stg_feedback_log') -%}
    {%- set null_string = "cast(null as " ~ dbt.type_string() ~ ")" -%}
    {%- set parts = [] -%}
    {%- if 'evaluations' in rebuild -%}
        {%- do parts.append(
            "select distinct 'evaluation_id' as key_type, evaluation_id as key_value, " ~ null_string ~ " as user_id from "
            ~ evaluations ~ " where evaluation_id is not null and " ~ arrived('conversation_evaluation', before['conversation_evaluation'], now['conversation_evaluation'])
        ) -%}
    {%- endif -%}
    {%- if 'reactions' in rebuild -%}
        {%- set arrived_ids = "select feedback_id from " ~ feedback ~ " where feedback_id is not null and "
            ~ arrived('feedback_log', before['feedback_log'], now['feedback_log']) -%}
        {%- set pairs = "select distinct message_id, user_id from " ~ feedback
            ~ " where message_id is not null and user_id is not null and feedback_id in (" ~ arrived_ids ~ ")" -%}
        {%- do parts.append("select distinct 'arrived_feedback_id', feedback_id, " ~ null_string ~ " from (" ~ arrived_ids ~ ") as arrived") -%}
        {%- do parts.append("select 'pair', message_id, user_id from (" ~ pairs ~ ") as pairs") -%}
        {%- do parts.append(
            "select distinct 'feedback_id', feedback_id, " ~ null_string ~ " from " ~ feedback
            ~ " where feedback_id is not null and ("
            ~ dbt.concat(["message_id", "'|'", "user_id"]) ~ " in (select " ~ dbt.concat(["message_id", "'|'", "user_id"]) ~ " from (" ~ pairs ~ ") as pairs)"
            ~ " or ((message_id is null or user_id is null) and feedback_id in (" ~ arrived_ids ~ ")))"
        ) -%}
    {%- endif -%}
    {%- if not parts -%}
        {%- do parts.append("select " ~ null_string ~ ", " ~ null_string ~ ", " ~ null_string ~ " where 1 = 0") -%}
    {%- endif -%}
    select * from (
        {{ parts | join(' union all ') }}
    ) as keys (key_type, key_value, user_id)
{%- endmacro %}


{#-
    The days a run rebuilds, as a query of one column: for each kind in `rebuild`, the days
    of every raw row of the arriving keys (the raw tables still hold their old rows, so the
    old days and the new), and for rejected rows the arrivals' own days. `keys` is the
    relation of arriving_keys.
-#}
{% macro arriving_days(rebuild, before, now, keys) -%}
    {%- set evaluations = graph_relation('stg_conversation_evaluation') -%}
    {%- set feedback = graph_relation('stg_feedback_log') -%}
    {%- set messages = graph_relation('stg_conversation_log') -%}
    {%- set parts = [] -%}
    {%- if 'evaluations' in rebuild -%}
        {%- do parts.append(
            "select evaluated_date from " ~ evaluations ~ " where evaluation_id in (select key_value from "
            ~ keys ~ " where key_type = 'evaluation_id')"
        ) -%}
    {%- endif -%}
    {%- if 'reactions' in rebuild -%}
        {%- do parts.append(
            "select reacted_date from " ~ feedback ~ " where feedback_id in (select key_value from "
            ~ keys ~ " where key_type = 'feedback_id') or " ~ dbt.concat(["message_id", "'|'", "user_id"])
            ~ " in (select " ~ dbt.concat(["key_value", "'|'", "user_id"]) ~ " from " ~ keys ~ " where key_type = 'pair')"
        ) -%}
    {%- endif -%}
    {%- if 'rejected' in rebuild -%}
        {%- do parts.append("select evaluated_date from " ~ evaluations ~ " where "
            ~ arrived('conversation_evaluation', before['conversation_evaluation'], now['conversation_evaluation'])) -%}
        {%- do parts.append("select reacted_date from " ~ feedback ~ " where "
            ~ arrived('feedback_log', before['feedback_log'], now['feedback_log'])) -%}
    {%- endif -%}
    {%- if 'messages' in rebuild -%}
        {%- do parts.append(
            "select reacted_date from " ~ feedback ~ " where message_id in (select message_id from " ~ messages
            ~ " where " ~ arrived('conversation_log', before['conversation_log'], now['conversation_log']) ~ ")"
        ) -%}
    {%- endif -%}
    select distinct rebuild_day from (
        {{ parts | join(' union all ') }}
    ) as days (rebuild_day)
    where rebuild_day is not null
{%- endmacro %}


{#- Every day of every raw table: what a model rebuilds when its state does not stand. -#}
{% macro every_raw_day() -%}
    {%- set parts = [] -%}
    {%- for table, columns in raw_table_columns().items() -%}
        {%- do parts.append("select " ~ columns.day ~ " from " ~ graph_relation(columns.staging)) -%}
    {%- endfor -%}
    select distinct rebuild_day from (
        {{ parts | join(' union all ') }}
    ) as days (rebuild_day)
    where rebuild_day is not null
{%- endmacro %}


{#-
    The pre-hook of an incremental run by loaded_at: the state this run will have processed
    (`__pending_loads`, made `__processed_loads` by the post-hook, so a run that dies is
    redone), the keys and days to rebuild, and their rows deleted. For each raw table it
    reads through a ranked table, the model takes that table's state (it processes what the
    ranked table processed); `by_key` (a ranked table: 'evaluations' or 'reactions')
    deletes the rows of the arriving keys as well as those of the days.
-#}
{% macro prepare_load_rebuild(day_column, rebuild, undated_rows, by_key) -%}
    {%- set upstream = {} -%}
    {%- if not by_key and 'evaluations' in rebuild -%}
        {%- do upstream.update({'conversation_evaluation': 'int_evaluations_ranked'}) -%}
    {%- endif -%}
    {%- if not by_key and 'reactions' in rebuild -%}
        {%- do upstream.update({'feedback_log': 'int_feedback_reactions_ranked'}) -%}
    {%- endif -%}
    {%- set pending = side_relation('pending_loads') -%}
    {%- do replace_side_table(pending, pending_loads(upstream)) -%}
    {%- if is_load_rebuild() -%}
        {%- set processed = adapter.get_relation(this.database, this.schema, this.identifier ~ '__processed_loads') -%}
        {%- set before = loads_by_table(processed) -%}
        {%- set now = loads_by_table(pending) -%}
        {%- set keys = side_relation('rebuild_keys') -%}
        {%- set days = side_relation('rebuild_days') -%}
        {%- if processed_loads_stand(before, now) -%}
            {%- do replace_side_table(keys, arriving_keys(rebuild, before, now)) -%}
            {%- if by_key -%}
                {%- do replace_side_table(days, "select rebuild_day from (" ~ every_raw_day() ~ ") as days where 1 = 0") -%}
            {%- else -%}
                {%- do replace_side_table(days, arriving_days(rebuild, before, now, keys)) -%}
            {%- endif -%}
        {%- else -%}
            {{ log(this.identifier ~ ": what it processed no longer stands (rows deleted or loaded with an old loaded_at, a setting changed, or no state yet): every day is rebuilt", info=true) }}
            {%- do replace_side_table(keys, arriving_keys([], none, none)) -%}
            {%- do replace_side_table(days, every_raw_day()) -%}
        {%- endif -%}
        {%- do delete_rebuilt_rows(day_column, days, keys, undated_rows, by_key) -%}
    {%- endif -%}
{%- endmacro %}


{#- Delete the rows a run by loaded_at rebuilds: of its days, and of its keys. -#}
{% macro delete_rebuilt_rows(day_column, days, keys, undated_rows, by_key) -%}
    {%- set conditions = [day_column ~ " in (select rebuild_day from " ~ days ~ ")"] -%}
    {%- if undated_rows -%}
        {%- do conditions.append(day_column ~ " is null") -%}
    {%- endif -%}
    {%- if by_key -%}
        {%- do conditions.append(rows_of_keys(by_key, keys)) -%}
    {%- endif -%}
    {%- do run_query("delete from " ~ this ~ " where " ~ conditions | join(' or ')) -%}
{%- endmacro %}


{#-
    A where-clause: the rows of a ranked table (`by_key`: evaluations or reactions) that a
    run by keys writes. Evaluations: the arriving evaluation_ids. Reactions: the pairs P,
    and the reactions without a pair among the arriving feedback_ids.
-#}
{% macro rows_of_keys(by_key, keys) -%}
    {%- if by_key == 'evaluations' -%}
        {{ return("evaluation_id in (select key_value from " ~ keys ~ " where key_type = 'evaluation_id')") }}
    {%- endif -%}
    {%- set pair = dbt.concat(["message_id", "'|'", "user_id"]) -%}
    {{ return(
        "(" ~ pair ~ " in (select " ~ dbt.concat(["key_value", "'|'", "user_id"]) ~ " from " ~ keys ~ " where key_type = 'pair')"
        ~ " or ((message_id is null or user_id is null) and feedback_id in (select key_value from " ~ keys
        ~ " where key_type = 'arrived_feedback_id')))"
    ) }}
{%- endmacro %}


{#- The post-hook of a run by loaded_at: what it processed, for the next run. -#}
{% macro remember_processed_loads() -%}
    {%- set pending = side_relation('pending_loads') -%}
    {%- do replace_side_table(side_relation('processed_loads'), "select * from " ~ pending) -%}
    {%- do run_query("drop table if exists " ~ side_relation('processed_days')) -%}
{%- endmacro %}
