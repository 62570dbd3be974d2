{#- Division that yields NULL instead of an error or infinity when the divisor is 0 or NULL. -#}
{% macro safe_divide(numerator, denominator) -%}
    case
        when {{ denominator }} is null or {{ denominator }} = 0 then null
        else cast({{ numerator }} as {{ type_double() }}) / {{ denominator }}
    end
{%- endmacro %}


{#- Sample standard deviation from count, sum and sum of squares (NULL below 2 values). -#}
{% macro stddev_from_sums(value_count, value_sum, value_sq_sum) -%}
    case
        when {{ value_count }} > 1
            then sqrt(
                greatest(
                    cast(0 as {{ type_double() }}),
                    ({{ value_sq_sum }} - {{ value_sum }} * {{ value_sum }} / {{ value_count }})
                    / ({{ value_count }} - 1)
                )
            )
    end
{%- endmacro %}
