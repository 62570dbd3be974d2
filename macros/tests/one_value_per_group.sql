{#- Fails on each group (group_by columns) whose rows hold more than one distinct value of column_name. -#}
{% test one_value_per_group(model, column_name, group_by) %}
    select
        {{ group_by | join(", ") }},
        count(distinct {{ column_name }}) as value_count
    from {{ model }}
    group by {{ group_by | join(", ") }}
    having count(distinct {{ column_name }}) > 1
{% endtest %}
