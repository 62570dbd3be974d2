{#-
    The tuning datasets' rules that are not plain SQL: the train/eval split by
    conversation, and the checks on the vars that drive labels and pairs.
-#}

{#-
    An integer in 0 .. 16^hex_digits - 1 from the first hex digits of md5(expr).
    md5 exists on every engine (dbt.hash); the hex digits become a number through
    position() in '0123456789abcdef', which is portable, unlike each engine's hex parser.
    Python gets the same number: int(hashlib.md5(value.encode()).hexdigest()[:6], 16).
-#}
{% macro hash_bucket(expr, hex_digits=6) -%}
    {{ return(adapter.dispatch('hash_bucket', 'ai_performance')(expr, hex_digits)) }}
{%- endmacro %}

{% macro default__hash_bucket(expr, hex_digits) -%}
    {%- set digest = dbt.hash(expr) -%}
    (
        {%- for i in range(hex_digits) %}
        ({{ dbt.position("substring(" ~ digest ~ ", " ~ (i + 1) ~ ", 1)", "'0123456789abcdef'") }} - 1)
            * {{ 16 ** (hex_digits - 1 - i) }}{{ " +" if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}


{#- var('eval_share'), checked: a number in [0, 1]. -#}
{% macro eval_share() -%}
    {%- set share = var('eval_share', 0.1) -%}
    {%- if share is string or share is boolean or share is not number or share < 0 or share > 1 -%}
        {{ exceptions.raise_compiler_error("var('eval_share') = " ~ share ~ " must be a number from 0 to 1 (0.1 puts 10% of conversations in the eval split).") }}
    {%- endif -%}
    {{ return(share) }}
{%- endmacro %}


{#-
    'eval' or 'train' for a conversation, the same on every engine and every run:
    the conversation's hash bucket against var('eval_share') of the 16^6 buckets.
-#}
{% macro tuning_split(conversation_id) -%}
    {%- set hex_digits = 6 -%}
    {%- set eval_buckets = (eval_share() * 16 ** hex_digits) | round | int -%}
    case
        when {{ hash_bucket(conversation_id, hex_digits) }} < {{ eval_buckets }} then 'eval'
        else 'train'
    end
{%- endmacro %}


{#- The label thresholds, checked: numbers with good_score above bad_score. -#}
{% macro tuning_score_threshold(name) -%}
    {%- set good = var('good_score', 8) -%}
    {%- set bad = var('bad_score', 4) -%}
    {%- if good is not number or bad is not number or good is boolean or bad is boolean or good <= bad -%}
        {{ exceptions.raise_compiler_error("var('good_score') = " ~ good ~ " and var('bad_score') = " ~ bad ~ " must be numbers with good_score > bad_score.") }}
    {%- endif -%}
    {{ return(good if name == 'good' else bad) }}
{%- endmacro %}


{#- var('max_pairs_per_response'), checked: a whole number of at least 1. -#}
{% macro max_pairs_per_response() -%}
    {%- set limit = var('max_pairs_per_response', 1) -%}
    {%- if limit is not number or limit is boolean or limit != limit | int or limit < 1 -%}
        {{ exceptions.raise_compiler_error("var('max_pairs_per_response') = " ~ limit ~ " must be a whole number of at least 1.") }}
    {%- endif -%}
    {{ return(limit | int) }}
{%- endmacro %}
