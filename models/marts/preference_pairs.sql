-- Pairs of a good and a bad answer to the same prompt in the same conversation. The best
-- good answer meets the worst bad answer first; var('max_pairs_per_response') caps how
-- often any answer is used, so one great answer does not dominate the data set.
with labelled_responses as (
    select * from {{ ref('tuning_examples') }}
),

good_responses as (
    select
        *,
        row_number() over (
            partition by conversation_id, user_message
            order by mean_score desc, message_id asc
        ) as good_rank
    from labelled_responses
    where label = 'good'
),

bad_responses as (
    select
        *,
        row_number() over (
            partition by conversation_id, user_message
            -- Worst first. Bad by dislikes alone (no score) ranks as if scored bad_score, before
            -- a well-scored but disliked answer, which rarely scores below a good one.
            order by coalesce(mean_score, {{ tuning_score_threshold('bad') }}) asc, message_id asc
        ) as bad_rank
    from labelled_responses
    where label = 'bad'
),

candidate_pairs as (
    -- Good answer g meets bad answers g .. g + max - 1, so each good answer is in at most
    -- max pairs, and each bad answer b meets good answers b - max + 1 .. b: at most max too.
    select
        good_responses.conversation_id,
        good_responses.user_message as prompt,
        good_responses.message_id as chosen_message_id,
        bad_responses.message_id as rejected_message_id,
        good_responses.ai_response as chosen,
        bad_responses.ai_response as rejected,
        good_responses.mean_score as chosen_score,
        bad_responses.mean_score as rejected_score,
        good_responses.model_version as chosen_model_version,
        bad_responses.model_version as rejected_model_version,
        good_responses.responded_date as chosen_responded_date,
        bad_responses.responded_date as rejected_responded_date,
        good_responses.split
    from good_responses
    inner join bad_responses
        on
            good_responses.conversation_id = bad_responses.conversation_id
            and good_responses.user_message = bad_responses.user_message
            and good_responses.good_rank <= bad_responses.bad_rank
            and good_responses.good_rank + {{ max_pairs_per_response() }} > bad_responses.bad_rank
),

useful_pairs as (
    -- A pair teaches nothing when both answers are the same text, and misleads when
    -- the rejected answer was rated higher (it is bad by its dislikes).
    select * from candidate_pairs
    where
        chosen <> rejected
        and (rejected_score is null or chosen_score > rejected_score)
),

final as (
    select
        {{ dbt.concat(['chosen_message_id', "'~'", 'rejected_message_id']) }} as pair_id,
        conversation_id,
        prompt,
        chosen,
        rejected,
        chosen_message_id,
        rejected_message_id,
        cast(chosen_score as {{ type_double() }}) as chosen_score,
        cast(rejected_score as {{ type_double() }}) as rejected_score,
        chosen_model_version,
        rejected_model_version,
        greatest(chosen_responded_date, rejected_responded_date) as responded_date,
        split
    from useful_pairs
)

select * from final
