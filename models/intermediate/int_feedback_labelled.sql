-- Every feedback row with its label from the label map and, when unusable, the reason.
-- The rules are in macros/staging.sql: the ranked reactions label the raw rows of arriving
-- reactions with them too.
{{ labelled_feedback(ref('stg_feedback_log'), ref('feedback_label_map')) }}
