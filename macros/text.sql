{#-
    Text cleaning for raw values that people type or systems pad.
-#}

{#- An id that is empty or only whitespace is no id: NULL, so it is quarantined as such. -#}
{% macro blank_as_null(expr) -%}
    case when {{ strip_whitespace(expr) }} = '' then null else {{ expr }} end
{%- endmacro %}


{#-
    The key of a feedback label into seeds/feedback_label_map: lower case, without any
    whitespace, emoji modifiers (skin tones, the emoji variation selector) or full-width
    forms (ＬＩＫＥ is like): the parts of Unicode NFKC that labels meet (the engines share
    no NFKC function). Characters of the first list without a partner in the second are
    removed.
-#}
{% macro normalize_label(expr) -%}
    lower(translate({{ strip_whitespace(expr) }}, '＋－０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ＿ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ🏻🏼🏽🏾🏿️', '+-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz'))
{%- endmacro %}


{#- Remove every whitespace character (spaces, tabs, newlines). -#}
{% macro strip_whitespace(expr) -%}
    {{ return(adapter.dispatch('strip_whitespace', 'ai_performance')(expr)) }}
{%- endmacro %}

{% macro default__strip_whitespace(expr) -%}
    regexp_replace({{ expr }}, '\s', '', 'g')
{%- endmacro %}

{#- Spark's string literals take backslash escapes: '\\s' is the pattern \s. -#}
{% macro spark__strip_whitespace(expr) -%}
    regexp_replace({{ expr }}, '\\s', '')
{%- endmacro %}
