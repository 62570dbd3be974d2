{#- Fails on rows where the boolean SQL expression is false (NULL counts as true unless strict). -#}
{% test expression_is_true(model, expression, where_clause=none) %}
    select *
    from {{ model }}
    where not ({{ expression }})
    {% if where_clause %}
        and ({{ where_clause }})
    {% endif %}
{% endtest %}
