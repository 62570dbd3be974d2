{#-
    The rules that decide which raw rows count, as window expressions, so that the
    row-level ranked tables (for the tuning and data-quality marts) and the daily
    aggregates (for the weekly figures, which rank straight from staging) always agree.
-#}

{#-
    Raw delivery is at-least-once: among the copies of an evaluation_id, 1 is the copy that
    counts (the latest, then the highest score). The rest make the order total, with NULLs
    placed the same on every engine, so that copies which differ in any value the models
    keep are always ranked alike, by a full refresh or by any incremental run.
-#}
{% macro evaluation_copy_rank() -%}
    row_number() over (
        partition by evaluation_id
        order by
            evaluated_at desc, score desc,
            model_version desc nulls last, evaluator desc nulls last,
            accuracy desc nulls last, consistency desc nulls last, emotion_match desc nulls last,
            has_dimension_out_of_range desc, message_id desc nulls last,
            conversation_id desc nulls last, loaded_at desc nulls last
    )
{%- endmacro %}


{#-
    Among the copies of a feedback_id, 1 is the copy that counts (the latest); the rest make
    the order total, as for evaluations.
-#}
{% macro feedback_copy_rank() -%}
    row_number() over (
        partition by feedback_id
        order by
            reacted_at desc, label desc, message_id desc nulls last, user_id desc nulls last,
            conversation_id desc nulls last, raw_label desc nulls last, loaded_at desc nulls last
    )
{%- endmacro %}


{#-
    Among one user's reactions to one message (one copy each), 1 is the latest, the one
    that counts. Without both ids a reaction cannot be matched to an earlier one: it counts.
-#}
{% macro reaction_rank() -%}
    case
        when message_id is null or user_id is null then 1
        else row_number() over (
            partition by message_id, user_id
            order by reacted_at desc, feedback_id desc
        )
    end
{%- endmacro %}
