{{ staged_conversation_log(source('raw', 'conversation_log')) }}
