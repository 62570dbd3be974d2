{#-
    The grain test of a model whose rows are another relation's rows, one for one: raw rows,
    which have no key (a repeated delivery is an identical copy). Fails when the counts
    differ: a join fanned out, a filter dropped rows, an incremental run doubled a batch.
    `parent_where` filters the parent; the test's `where` config filters the model.
-#}
{% test one_row_per_row_of(model, parent, parent_where=none) %}
    with model_rows as (
        select count(*) as row_count from {{ model }}
    ),

    parent_rows as (
        select count(*) as row_count from {{ parent }}
        {% if parent_where %}where {{ parent_where }}{% endif %}
    )

    select
        model_rows.row_count as model_row_count,
        parent_rows.row_count as parent_row_count
    from model_rows
    cross join parent_rows
    where model_rows.row_count <> parent_rows.row_count
{% endtest %}
