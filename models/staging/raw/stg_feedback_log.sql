-- The staging rules are in macros/staging.sql: the ranked reactions stage the raw rows of
-- arriving reactions with them too.
{{ staged_feedback_log(source('raw', 'feedback_log')) }}
