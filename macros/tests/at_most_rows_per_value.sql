{#- Fails on each value of column_name that appears in more than max_count rows. NULLs are not counted. -#}
{% test at_most_rows_per_value(model, column_name, max_count) %}
    select
        {{ column_name }},
        count(*) as row_count
    from {{ model }}
    where {{ column_name }} is not null
    group by {{ column_name }}
    having count(*) > {{ max_count }}
{% endtest %}
