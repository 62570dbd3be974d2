{#-
    The rules that decide which raw rows count, as window expressions, so that the
    row-level ranked tables (for the tuning and data-quality marts) and the daily
    aggregates (for the weekly figures, which rank straight from staging) always agree.
-#}

{#-
    Raw delivery is at-least-once: among the copies of an evaluation_id, 1 is the copy that
    counts (the latest, then the highest score; the rest only make the order total).
-#}
{% macro evaluation_copy_rank() -%}
    row_number() over (
        partition by evaluation_id
        order by evaluated_at desc, score desc, model_version desc, evaluator desc
    )
{%- endmacro %}


{#- Among the copies of a feedback_id, 1 is the copy that counts (the latest). -#}
{% macro feedback_copy_rank() -%}
    row_number() over (
        partition by feedback_id
        order by reacted_at desc, label desc, message_id desc, user_id desc
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
