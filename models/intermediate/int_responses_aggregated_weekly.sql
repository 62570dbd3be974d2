-- The sums of feedback_score_agreement_weekly, per ISO week and score band: a response
-- counts in the week it was first sent (conversation_log) when it has a valid evaluation
-- and a counted reaction; its mean score puts it in a band. Counts of responses, likes and
-- dislikes, and the sums of the week's point-biserial correlation over the responses with
-- a net reaction. Incremental by week: a run rebuilds the weeks of the responses whose
-- counted evaluations or reactions changed, or that were logged again (macros/arrivals.sql).
{{ config(**incremental_by_week('week_start', ['evaluations', 'reactions', 'messages'], weeks_of='responded')) }}
-- depends_on: {{ ref('int_raw_days_fingerprinted') }}
-- depends_on: {{ ref('int_evaluations_ranked') }}
-- depends_on: {{ ref('int_feedback_reactions_ranked') }}

with evaluations as (
    select * from {{ ref('int_evaluations_deduplicated') }}
),

latest_reactions as (
    select * from {{ ref('int_feedback_latest_reactions') }}
),

-- Read twice on a rebuild: inlined, so that each read filters the log's rows as it scans them
-- (macros/planning.sql).
conversation_log as {{ cte_inlined() }} (
    select
        message_id,
        responded_date
    from {{ ref('stg_conversation_log') }}
    where message_id is not null and responded_date is not null
),

-- On a rebuild, the responses that can be in its weeks: logged in them.
{% if is_day_rebuild() -%}
rebuilt_messages as (
    select distinct message_id from conversation_log
    where {{ in_rebuild_days(iso_week_start('responded_date')) }}
),
{%- endif %}

-- A message logged more than once counts in the week of its first copy.
response_days as (
    select
        message_id,
        min(responded_date) as responded_date
    from conversation_log
    {%- if is_day_rebuild() %}
    where message_id in (select message_id from rebuilt_messages)
    {%- endif %}
    group by 1
),

rebuilt_responses as (
    select * from response_days
    where {{ in_rebuild_days(iso_week_start('responded_date')) }}
),

-- Rounded as tuning_examples rounds it, so that a mean of 7.9 and 8.1 is in the
-- 8-10 band on every engine, not 7.999999… in the band below.
response_scores as (
    select
        message_id,
        {{ round_double('avg(score)', 4) }} as mean_score
    from evaluations
    where
        message_id is not null
        and {{ 'message_id in (select message_id from rebuilt_responses)' if is_day_rebuild() else '1 = 1' }}
    group by 1
),

response_reactions as (
    select
        message_id,
        sum(case when is_like then 1 else 0 end) as like_count,
        sum(case when is_dislike then 1 else 0 end) as dislike_count
    from latest_reactions
    where
        message_id is not null
        and {{ 'message_id in (select message_id from rebuilt_responses)' if is_day_rebuild() else '1 = 1' }}
    group by 1
),

scored_responses as (
    select
        {{ iso_week_start('rebuilt_responses.responded_date') }} as week_start,
        response_scores.mean_score,
        response_reactions.like_count,
        response_reactions.dislike_count,
        -- Bands [0, 2), [2, 4), [4, 6), [6, 8) and [8, 10]: 10 is in the top band.
        cast(least(4, floor(response_scores.mean_score / 2)) as {{ dbt.type_int() }}) as band_index,
        case
            when response_reactions.like_count > response_reactions.dislike_count then 1
            when response_reactions.dislike_count > response_reactions.like_count then 0
        end as is_net_liked
    from response_scores
    inner join response_reactions
        on response_scores.message_id = response_reactions.message_id
    inner join rebuilt_responses
        on response_scores.message_id = rebuilt_responses.message_id
),

-- The correlation's sums over the responses with a net reaction (x the mean score, y 1
-- when liked): y² = y, so the sum of y is also the sum of its squares.
final as (
    select
        week_start,
        band_index,
        count(*) as response_count,
        sum(like_count) as like_count,
        sum(dislike_count) as dislike_count,
        count(is_net_liked) as correlated_response_count,
        sum(case when is_net_liked is not null then mean_score end) as score_sum,
        sum(case when is_net_liked is not null then mean_score * mean_score end) as score_sq_sum,
        sum(is_net_liked) as liked_count,
        sum(is_net_liked * mean_score) as liked_score_sum
    from scored_responses
    group by 1, 2
)

select * from final
