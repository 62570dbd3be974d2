-- The staging rules are in macros/staging.sql: the ranked tables stage the raw rows of
-- arriving evaluations with them too.
{{ staged_conversation_evaluation(source('raw', 'conversation_evaluation')) }}
