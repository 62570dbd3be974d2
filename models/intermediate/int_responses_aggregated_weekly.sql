-- The sums of feedback_score_agreement_weekly, per ISO week and score band: a response
-- counts in the week it was first sent (conversation_log) when it has a valid evaluation
-- and a counted reaction; its mean score puts it in a band. Counts of responses, likes and
-- dislikes, and the sums of the week's point-biserial correlation over the responses with
-- a net reaction. Summed from int_messages_scored, one narrow row per message, which is
-- incremental by message: a table rebuilt whole by every run.
{{ config(materialized='table') }}

with responses as (
    select * from {{ ref('int_messages_scored') }}
    where responded_date is not null and reaction_count > 0
),

scored_responses as (
    select
        {{ iso_week_start('responded_date') }} as week_start,
        mean_score,
        like_count,
        dislike_count,
        -- Bands [0, 2), [2, 4), [4, 6), [6, 8) and [8, 10]: 10 is in the top band.
        cast(least(4, floor(mean_score / 2)) as {{ dbt.type_int() }}) as band_index,
        case
            when like_count > dislike_count then 1
            when dislike_count > like_count then 0
        end as is_net_liked
    from responses
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
