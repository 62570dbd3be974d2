{#-
    Exact incremental models, replaced a whole day at a time. Where every raw table carries
    loaded_at (and the engine deletes rows), the arrivals are found by it instead, and the
    ranked tables are replaced key by key: macros/arrivals.sql. What follows is the method
    without loaded_at, and the parts both share.

    The daily job must give exactly what `dbt build --full-refresh` gives, whatever order raw
    rows arrive in (late, replayed, changed weeks later, dated in the future). So a run does
    not guess a window: it compares the raw data with what this model last processed.

    1. int_raw_days_fingerprinted holds, per raw table and day, the row count and a sum of row
       hashes (raw columns, loaded_at and the validity reason, which depends on the clock).
    2. After each build, a post-hook copies those fingerprints next to the model
       (`<model>__processed_days`): what this model has seen.
    3. A run's pre-hook diffs the two: the changed days, wherever in history they are. It
       widens them by the keys a changed day shares with other days (the other copies of an
       evaluation_id or feedback_id, the other reactions of a user to a message), which
       int_raw_keys_spanning_days lists, so no run rescans every raw row to find them. It
       writes the days to rebuild to `<model>__rebuild_days`, then deletes those days from
       the model (Spark: drops their partitions) and from its processed days, so a run that
       dies half way is redone by the next.
    4. The model reads the rows of those days and every other row of their spanning keys,
       ranks them, and appends the rows of those days.

    A day whose row count went down, or that vanished (raw rows were deleted, or moved to
    another day), cannot be mended key by key: every day is then rebuilt, by the same run.
    The per-engine parts are the strategy (appended rows; Spark overwrites partitions) and
    how a day is deleted: `delete_days`.
-#}

{#-
    The config of an incremental model replaced by whole days. `rebuild` names what decides
    its days (see days_to_rebuild). With undated_rows, the model also holds rows without a
    day (raw rows without a timestamp): every run rebuilds them, in a branch of its own.
    `by_key` ('evaluations' or 'reactions') marks a ranked table: where arrivals are found by
    loaded_at (macros/arrivals.sql), it replaces the rows of the arriving keys, not days;
    'rejected' marks int_rejected_rows, which there replaces the rows of its arrival windows;
    'messages' marks a table of one row per message (int_messages_scored), which there
    replaces the messages whose counted rows changed, and otherwise every message.
    There, a model that reads a ranked table rebuilds the days whose counted rows changed
    (the winning copy, the latest reaction); `every_copy` marks one that also reports the
    rows set aside (duplicates, superseded reactions), and rebuilds the days of any change.
-#}
{% macro incremental_by_day(day_column, rebuild, undated_rows=false, by_key=none, every_copy=false) -%}
    {%- set key_argument = ("'" ~ by_key ~ "'") if by_key else 'none' -%}
    {%- set hooks = {
        'pre_hook': "{{ prepare_day_rebuild('" ~ day_column ~ "', " ~ rebuild ~ ", " ~ undated_rows ~ ", " ~ key_argument ~ ", " ~ every_copy ~ ") }}",
        'post_hook': "{{ remember_processed_days('" ~ day_column ~ "', " ~ key_argument ~ ") }}",
    } -%}
    {%- set config = adapter.dispatch('incremental_by_day_strategy', 'ai_performance')(day_column) -%}
    {%- do config.update(hooks) -%}
    {{ return(config) }}
{%- endmacro %}


{#-
    The pre-hook has deleted the days to rebuild: the run appends them. A model that gained
    columns (a new version of this project) takes them (contracts allow no more); its old
    days come back through the diff, because a model without processed days rebuilds
    every day.
-#}
{% macro default__incremental_by_day_strategy(day_column) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'append',
        'on_schema_change': 'append_new_columns',
    }) }}
{%- endmacro %}

{#- Partitions by day; the NULL day is a partition the batch overwrites too. -#}
{% macro spark__incremental_by_day_strategy(day_column) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'insert_overwrite',
        'partition_by': [day_column],
        'file_format': 'parquet',
        'on_schema_change': 'append_new_columns',
    }) }}
{%- endmacro %}


{#- The side tables of an incremental model: what it processed, and what this run rebuilds. -#}
{% macro side_relation(suffix) -%}
    {{ return(this.incorporate(path={'identifier': this.identifier ~ '__' ~ suffix})) }}
{%- endmacro %}


{#- True while an incremental run of this model is being built (not in unit tests). -#}
{% macro is_day_rebuild() -%}
    {{ return(execute and this is not none and is_incremental()) }}
{%- endmacro %}


{#-
    A where-clause: the rows of the days this run rebuilds (every row on a full build).
-#}
{% macro in_rebuild_days(day_column) -%}
    {%- if is_day_rebuild() -%}
        {{ day_column }} in (select rebuild_day from {{ side_relation('rebuild_days') }})
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}


{#-
    The keys with rows on more than one day (int_raw_keys_spanning_days) that have a row
    on one of the given days (a query of one column of days): where a day's rows have
    other rows, by key, elsewhere.
-#}
{% macro spanning_keys(key_type, days, columns='key_value') -%}
    select {{ columns }} from {{ ref('int_raw_keys_spanning_days') }}
    where key_type = '{{ key_type }}' and source_day in ({{ days }})
{%- endmacro %}

{#- All the days of those keys. -#}
{% macro spanning_key_days(key_type, days, source_table) -%}
    select linked.source_day
    from {{ ref('int_raw_keys_spanning_days') }} as linked
    inner join (
        select distinct key_value, coalesce(user_id, '') as user_key
        from {{ ref('int_raw_keys_spanning_days') }}
        where key_type = '{{ key_type }}' and source_day in ({{ days }})
    ) as found
        on linked.key_value = found.key_value and coalesce(linked.user_id, '') = found.user_key
    where linked.key_type = '{{ key_type }}' and linked.source_table = '{{ source_table }}'
{%- endmacro %}


{#-
    A where-clause: the rows a ranked table (`by_key`) writes in this run: of the days to
    rebuild, and by loaded_at also of the arriving keys (macros/arrivals.sql).
-#}
{% macro ranked_rows_to_write(by_key, day_column) -%}
    {%- if is_load_rebuild() -%}
        ({{ rows_of_keys(by_key, side_relation('rebuild_keys')) }} or {{ in_rebuild_days(day_column) }})
    {%- else -%}
        {{ in_rebuild_days(day_column) }}
    {%- endif -%}
{%- endmacro %}


{%- macro rebuild_days_query() -%}
    select rebuild_day from {{ side_relation('rebuild_days') }}
{%- endmacro %}


{#-
    A query of the staged rows a ranked table (`by_key`) ranks, from `staged`, its staging
    relation: every row on a full build; without loaded_at, those evaluations_to_rank or
    reactions_to_rank select; by loaded_at, those of ranked_rows_to_stage (macros/arrivals.sql).
-#}
{% macro rows_to_rank(by_key, staged) -%}
    {%- if is_load_rebuild() -%}
        {{ ranked_rows_to_stage(by_key, staged) }}
    {%- else -%}
        select * from {{ staged }}
        where {{ evaluations_to_rank(staged) if by_key == 'evaluations' else reactions_to_rank(staged) }}
    {%- endif -%}
{%- endmacro %}


{#-
    A where-clause for the evaluations to rank again: the rows of the days to rebuild, and
    every copy elsewhere of an evaluation found on them.
-#}
{% macro evaluations_to_rank(evaluations) -%}
    {%- if is_day_rebuild() -%}
        (
            evaluated_date in ({{ rebuild_days_query() }})
            or evaluation_id in ({{ spanning_keys('evaluation_id', rebuild_days_query()) }})
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}


{#-
    A where-clause for the reactions to rank again: the rows of the days to rebuild; every
    copy elsewhere of their feedback_ids; the reactions elsewhere of the same users to the
    same messages; and every copy of those (their copy decides whether they compete).
-#}
{% macro reactions_to_rank(labelled_feedback) -%}
    {%- if is_day_rebuild() -%}
        {%- set pair_days = spanning_key_days('reaction', rebuild_days_query(), 'feedback_log') -%}
        (
            reacted_date in ({{ rebuild_days_query() }})
            or feedback_id in ({{ spanning_keys('feedback_id', rebuild_days_query()) }})
            or feedback_id in ({{ spanning_keys('feedback_id', pair_days) }})
            or {{ dbt.concat(["message_id", "'|'", "user_id"]) }} in (
                {{ spanning_keys('reaction', rebuild_days_query(), dbt.concat(["key_value", "'|'", "user_id"])) }}
            )
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}


{#-
    The changed days of one raw table since this model last processed it: days whose rows
    differ, and days that are gone. When a day lost rows, a key may have lost a copy
    anywhere: then every day counts as changed.
-#}
{% macro changed_days(source_table) -%}
    {%- set current = ref('int_raw_days_fingerprinted') -%}
    {%- set processed = adapter.get_relation(this.database, this.schema, this.identifier ~ '__processed_days') -%}
    {%- if processed is none -%}
        select source_day from {{ current }} where source_table = '{{ source_table }}'
    {%- else -%}
        {%- set shrunk -%}
            exists (
                select 1 from {{ processed }} as processed_days
                left join {{ current }} as current_days
                    on
                        processed_days.source_table = current_days.source_table
                        and processed_days.source_day = current_days.source_day
                where
                    processed_days.source_table = '{{ source_table }}'
                    and (current_days.row_count is null or current_days.row_count < processed_days.row_count)
            )
        {%- endset -%}
        select current_days.source_day
        from {{ current }} as current_days
        where
            current_days.source_table = '{{ source_table }}'
            and (
                not exists (
                    select 1 from {{ processed }} as processed_days
                    where
                        processed_days.source_table = current_days.source_table
                        and processed_days.source_day = current_days.source_day
                        and processed_days.row_count = current_days.row_count
                        and processed_days.row_fingerprint = current_days.row_fingerprint
                )
                or {{ shrunk }}
            )
        union all
        select processed_days.source_day
        from {{ processed }} as processed_days
        where
            processed_days.source_table = '{{ source_table }}'
            and not exists (
                select 1 from {{ current }} as current_days
                where
                    current_days.source_table = processed_days.source_table
                    and current_days.source_day = processed_days.source_day
            )
    {%- endif -%}
{%- endmacro %}


{#-
    The days to rebuild, as a query of one column (rebuild_day), for what the model holds,
    from the changed days of the raw tables and the keys that span days
    (int_raw_keys_spanning_days, every row valid or not):
      - evaluations: the changed days of conversation_evaluation, and every day of an
        evaluation_id found on them;
      - reactions: the changed days of feedback_log, every day of a feedback_id found on
        them, and every day of a user's reactions to a message found on any of those;
      - rejected: the changed days of both tables (a rejection concerns its own row only);
      - messages: the changed days of conversation_log, and the days of the reactions to
        the messages found on them (a reaction's model version is its message's).
-#}
{% macro days_to_rebuild(rebuild) -%}
    {%- set parts = [] -%}
    {%- if 'evaluations' in rebuild -%}
        {%- set changed = changed_days('conversation_evaluation') -%}
        {%- do parts.append(changed) -%}
        {%- do parts.append(spanning_key_days('evaluation_id', changed, 'conversation_evaluation')) -%}
    {%- endif -%}
    {%- if 'reactions' in rebuild -%}
        {%- set changed = changed_days('feedback_log') -%}
        {%- set with_copies = changed ~ " union all " ~ spanning_key_days('feedback_id', changed, 'feedback_log') -%}
        {%- do parts.append(with_copies) -%}
        {%- do parts.append(spanning_key_days('reaction', with_copies, 'feedback_log')) -%}
    {%- endif -%}
    {%- if 'rejected' in rebuild -%}
        {%- do parts.append(changed_days('conversation_evaluation')) -%}
        {%- do parts.append(changed_days('feedback_log')) -%}
    {%- endif -%}
    {%- if 'messages' in rebuild -%}
        {%- set changed = changed_days('conversation_log') -%}
        {%- do parts.append(changed) -%}
        {%- do parts.append(spanning_key_days('message', changed, 'feedback_log')) -%}
    {%- endif -%}
    select distinct rebuild_day from (
        {%- for part in parts %}
        {{ part }}
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ) as days (rebuild_day)
    where rebuild_day is not null
{%- endmacro %}


{#-
    The pre-hook: on an incremental run, write the days to rebuild and delete them (from the
    model and from its processed days). Statements run here, in the model's transaction.
-#}
{% macro prepare_day_rebuild(day_column, rebuild, undated_rows=false, by_key=none, every_copy=false) -%}
    {%- if arrivals_by_load() -%}
        {%- do prepare_load_rebuild(day_column, rebuild, undated_rows, by_key, every_copy) -%}
    {%- elif is_day_rebuild() and by_key == 'messages' -%}
        {#- A message's rows are on any days, and the diff knows days: every message. -#}
        {%- set rebuild_days = side_relation('rebuild_days') -%}
        {%- do replace_side_table(rebuild_days, every_day_held(day_column)) -%}
        {%- do delete_days(this, day_column, rebuild_days, false) -%}
    {%- elif is_day_rebuild() -%}
        {%- set rebuild_days = side_relation('rebuild_days') -%}
        {%- set processed = adapter.get_relation(this.database, this.schema, this.identifier ~ '__processed_days') -%}
        {%- do replace_side_table(rebuild_days, days_to_rebuild(rebuild)) -%}
        {%- if processed is not none -%}
            {%- do delete_days(processed, 'source_day', rebuild_days, false) -%}
        {%- endif -%}
        {%- do delete_days(this, day_column, rebuild_days, undated_rows) -%}
    {%- endif -%}
{%- endmacro %}


{#- The post-hook: the raw days this build has processed. -#}
{% macro remember_processed_days(day_column, by_key=none) -%}
    {%- if arrivals_by_load() -%}
        {%- do remember_processed_loads(day_column, by_key) -%}
    {%- elif execute and this is not none -%}
        {%- do drop_side_table(side_relation('processed_loads')) -%}
        {%- do replace_side_table(
            side_relation('processed_days'),
            "select source_table, source_day, row_count, row_fingerprint from " ~ ref('int_raw_days_fingerprinted')
        ) -%}
    {%- endif -%}
    {%- if execute and this is not none -%}
        {%- do refresh_planner_statistics(this) -%}
    {%- endif -%}
{%- endmacro %}


{#-
    After an incremental model's rows changed: the planner statistics of it, which the models
    after it in the same run plan their reads with. PostgreSQL gathers them by itself only
    when autovacuum is on, and later: without them, the weekly sums at 1M planned a nested
    loop over two scans of every evaluation estimated at 34 rows, and ran for minutes
    instead of seconds. ANALYZE samples a few thousand rows, whatever the table's size.
-#}
{% macro refresh_planner_statistics(relation) -%}
    {{ return(adapter.dispatch('refresh_planner_statistics', 'ai_performance')(relation)) }}
{%- endmacro %}

{% macro default__refresh_planner_statistics(relation) -%}
{%- endmacro %}

{% macro postgres__refresh_planner_statistics(relation) -%}
    {%- do run_query("analyze " ~ relation) -%}
{%- endmacro %}


{#-
    A query of the rows of a relation that meet a where-clause. DuckDB reads every column of
    every row before a semi-join filters them; from a table, here, the clause is evaluated
    on its own columns, and the rows it keeps are then read by rowid (60,000 staged rows of
    12 million raw rows: 2.3 s against 0.5 s). A view (raw data can be a view over files)
    has no rowid: it is filtered as it is.
-#}
{% macro rows_where(relation, condition) -%}
    {{ return(adapter.dispatch('rows_where', 'ai_performance')(relation, condition)) }}
{%- endmacro %}

{% macro default__rows_where(relation, condition) -%}
    select * from {{ relation }} where {{ condition }}
{%- endmacro %}

{% macro duckdb__rows_where(relation, condition) -%}
    {%- if relation.type not in (none, 'table') -%}
        {{ return(default__rows_where(relation, condition)) }}
    {%- endif -%}
    select * from {{ relation }} where rowid in (select rowid from {{ relation }} where {{ condition }})
{%- endmacro %}


{#-
    A small table of the model's own, replaced. The relation cache learns of it, so a model
    later in the same run finds it (a ranked table's state, read by the models after it).
-#}
{% macro replace_side_table(relation, sql) -%}
    {%- set table = relation.incorporate(type='table') -%}
    {%- do drop_side_table(table) -%}
    {%- do run_query(adapter.dispatch('create_side_table', 'ai_performance')(table, sql)) -%}
    {%- do adapter.cache_added(table) -%}
{%- endmacro %}

{% macro drop_side_table(relation) -%}
    {%- set table = relation.incorporate(type='table') -%}
    {%- do run_query("drop table if exists " ~ table) -%}
    {%- do adapter.cache_dropped(table) -%}
{%- endmacro %}

{% macro default__create_side_table(relation, sql) -%}
    create table {{ relation }} as {{ sql }}
{%- endmacro %}

{% macro spark__create_side_table(relation, sql) -%}
    create table {{ relation }} using parquet as {{ sql }}
{%- endmacro %}


{#- Delete the rows of the days listed in `days` (and, with undated_rows, the NULL day). -#}
{% macro delete_days(relation, day_column, days, undated_rows) -%}
    {{ return(adapter.dispatch('delete_days', 'ai_performance')(relation, day_column, days, undated_rows)) }}
{%- endmacro %}

{% macro default__delete_days(relation, day_column, days, undated_rows) -%}
    {%- do run_query(
        "delete from " ~ relation ~ " where " ~ day_column ~ " in (select rebuild_day from " ~ days ~ ")"
        ~ (" or " ~ day_column ~ " is null" if undated_rows else "")
    ) -%}
{%- endmacro %}

{#-
    Parquet tables take no DELETE: drop the day partitions (the NULL day is overwritten by
    the batch). The processed days are a small table, rewritten without those days.
-#}
{% macro spark__delete_days(relation, day_column, days, undated_rows) -%}
    {%- set listed = run_query("select rebuild_day from " ~ days).columns[0].values() -%}
    {%- if relation.identifier.endswith('__processed_days') -%}
        {%- set kept = relation.incorporate(path={'identifier': relation.identifier ~ '_kept'}) -%}
        {%- do replace_side_table(kept, "select * from " ~ relation ~ " where source_day not in (select rebuild_day from " ~ days ~ ")") -%}
        {%- do replace_side_table(relation, "select * from " ~ kept) -%}
        {%- do drop_side_table(kept) -%}
    {%- elif listed | length > 0 -%}
        {%- for batch in listed | batch(200) -%}
            {%- set partitions = [] -%}
            {%- for day in batch -%}
                {%- do partitions.append("partition (" ~ day_column ~ " = date'" ~ (day | string)[:10] ~ "')") -%}
            {%- endfor -%}
            {%- do run_query("alter table " ~ relation ~ " drop if exists " ~ partitions | join(', ')) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}


{#-
    A hash of one row's values, as a whole number below 1000000007, so that a day's sum of
    them fits any engine's bigint. Only compared with itself on the same engine.
-#}
{% macro row_fingerprint(columns) -%}
    {{ return(adapter.dispatch('row_fingerprint', 'ai_performance')(columns)) }}
{%- endmacro %}

{% macro default__row_fingerprint(columns) -%}
    {%- set values = [] -%}
    {%- for column in columns -%}
        {%- do values.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '<null>')") -%}
    {%- endfor -%}
    mod(hashtextextended({{ values | join(" || '|' || ") }}, 0), 1000000007)
{%- endmacro %}

{% macro duckdb__row_fingerprint(columns) -%}
    cast(hash({{ columns | join(', ') }}) % 1000000007 as bigint)
{%- endmacro %}

{% macro spark__row_fingerprint(columns) -%}
    pmod(xxhash64({{ columns | join(', ') }}), 1000000007)
{%- endmacro %}
