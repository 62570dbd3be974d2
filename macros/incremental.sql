{#-
    Exact incremental models, replaced a whole day at a time.

    The daily job must give exactly what `dbt build --full-refresh` gives, whatever order raw
    rows arrive in (late, replayed, changed weeks later, dated in the future). So a run does
    not guess a window: it compares the raw data with what this model last processed.

    1. int_raw_days_fingerprinted holds, per raw table and day, the row count and a sum of row
       hashes (raw columns, loaded_at and the validity reason, which depends on the clock).
    2. After each build, a post-hook copies those fingerprints next to the model
       (`<model>__processed_days`): what this model has seen.
    3. A run's pre-hook diffs the two: the changed days, wherever in history they are. It
       widens them by the rows that share a key with a changed day's rows (the other copies
       of an evaluation_id or feedback_id, the other reactions of a user to a message), and
       writes the days to rebuild to `<model>__rebuild_days`, then deletes those days from
       the model (Spark: drops their partitions) and from its processed days, so a run that
       dies half way is redone by the next.
    4. The model reads all the rows of those keys, ranks them, and appends the rows of those
       days.

    A day whose row count went down, or that vanished (raw rows were deleted, or moved to
    another day), cannot be mended key by key: every day is then rebuilt, by the same run.
    The per-engine parts are the strategy (appended rows; Spark overwrites partitions) and
    how a day is deleted: `delete_days`.
-#}

{#-
    The config of an incremental model replaced by whole days. `rebuild` names what decides
    its days (see days_to_rebuild). With undated_rows, the model also holds rows without a
    day (raw rows without a timestamp): every run rebuilds them, in a branch of its own.
-#}
{% macro incremental_by_day(day_column, rebuild, undated_rows=false) -%}
    {%- set hooks = {
        'pre_hook': "{{ prepare_day_rebuild('" ~ day_column ~ "', " ~ rebuild ~ ", " ~ undated_rows ~ ") }}",
        'post_hook': "{{ remember_processed_days() }}",
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
    Where-clauses for the rows to rank again: every valid copy of an evaluation that has a
    copy on a day to rebuild (its other copies may be on any day).
-#}
{% macro evaluations_to_rank(evaluations) -%}
    {%- if is_day_rebuild() -%}
        evaluation_id in (
            select evaluation_id from {{ evaluations }}
            where is_valid and {{ in_rebuild_days('evaluated_date') }}
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}


{#-
    Every valid copy of the reactions needed to rank a day's reactions: the copies of its
    feedback_ids, and the copies of every reaction by the same users to the same messages.
-#}
{% macro reactions_to_rank(labelled_feedback) -%}
    {%- if is_day_rebuild() -%}
        feedback_id in (
            select feedback_id from {{ labelled_feedback }}
            where invalid_reason is null and {{ in_rebuild_days('reacted_date') }}
            union all
            select same_pair.feedback_id
            from {{ labelled_feedback }} as same_pair
            inner join (
                select distinct message_id, user_id from {{ labelled_feedback }}
                where invalid_reason is null and {{ in_rebuild_days('reacted_date') }}
            ) as day_pairs
                on
                    same_pair.message_id = day_pairs.message_id
                    and same_pair.user_id = day_pairs.user_id
            where same_pair.invalid_reason is null
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
    The days to rebuild, as a query of one column (rebuild_day), for what the model holds.
    Keys are taken from every row of a changed day, valid or not (a row that became invalid
    no longer competes with its other copies):
      - evaluations: the changed days of conversation_evaluation, and every day with a copy
        of an evaluation_id found on them;
      - reactions: the changed days of feedback_log, and every day with a copy of a
        feedback_id found on them, or with a reaction by the same user to the same message
        as any copy of those;
      - rejected: the changed days of both tables (a rejection concerns its own row only);
      - messages: the days of reactions to the messages of conversation_log's changed days
        (a reaction's model version is its message's).
-#}
{% macro days_to_rebuild(rebuild) -%}
    {%- set parts = [] -%}
    {%- if 'evaluations' in rebuild -%}
        {%- set evaluations = ref('stg_conversation_evaluation') -%}
        {%- do parts.append(changed_days('conversation_evaluation')) -%}
        {%- do parts.append(
            "select evaluated_date from " ~ evaluations ~ " where evaluation_id in ("
            ~ "select evaluation_id from " ~ evaluations
            ~ " where evaluated_date in (" ~ changed_days('conversation_evaluation') ~ "))"
        ) -%}
    {%- endif -%}
    {%- if 'reactions' in rebuild -%}
        {%- set feedback = ref('int_feedback_labelled') -%}
        {%- set changed_ids -%}
            select feedback_id from {{ feedback }}
            where reacted_date in ({{ changed_days('feedback_log') }})
        {%- endset -%}
        {%- do parts.append(changed_days('feedback_log')) -%}
        {%- do parts.append("select reacted_date from " ~ feedback ~ " where feedback_id in (" ~ changed_ids ~ ")") -%}
        {%- set same_pairs -%}
            select same_pair.reacted_date
            from {{ feedback }} as same_pair
            inner join (
                select distinct message_id, user_id from {{ feedback }}
                where feedback_id in ({{ changed_ids }})
            ) as changed_pairs
                on
                    same_pair.message_id = changed_pairs.message_id
                    and same_pair.user_id = changed_pairs.user_id
        {%- endset -%}
        {%- do parts.append(same_pairs) -%}
    {%- endif -%}
    {%- if 'rejected' in rebuild -%}
        {%- do parts.append(changed_days('conversation_evaluation')) -%}
        {%- do parts.append(changed_days('feedback_log')) -%}
    {%- endif -%}
    {%- if 'messages' in rebuild -%}
        {%- set feedback = ref('int_feedback_labelled') -%}
        {%- set messages = ref('stg_conversation_log') -%}
        {%- do parts.append(
            "select reacted_date from " ~ feedback ~ " where message_id in ("
            ~ "select message_id from " ~ messages ~ " where responded_date in ("
            ~ changed_days('conversation_log') ~ "))"
        ) -%}
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
{% macro prepare_day_rebuild(day_column, rebuild, undated_rows=false) -%}
    {%- if is_day_rebuild() -%}
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
{% macro remember_processed_days() -%}
    {%- if execute and this is not none -%}
        {%- do replace_side_table(
            side_relation('processed_days'),
            "select source_table, source_day, row_count, row_fingerprint from " ~ ref('int_raw_days_fingerprinted')
        ) -%}
    {%- endif -%}
{%- endmacro %}


{#- A small table of the model's own, replaced. -#}
{% macro replace_side_table(relation, sql) -%}
    {%- do run_query("drop table if exists " ~ relation) -%}
    {%- do run_query(adapter.dispatch('create_side_table', 'ai_performance')(relation, sql)) -%}
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
        {%- do run_query("drop table if exists " ~ kept) -%}
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
