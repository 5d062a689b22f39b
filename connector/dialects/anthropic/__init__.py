"""Anthropic Messages: `/v1/messages` and `/v1/messages/count_tokens`, the API Claude
Code and the `anthropic` SDKs speak.

    MessagesRequest --to_chat_request--> ChatRequest --ChatService--> chunks
        blocking: ChatCompletion --message_body--> {"type": "message", "content": [...]}
        stream:   chunks --sse_events--> event: message_start, content_block_start,
                  ping, content_block_delta..., content_block_stop, message_delta,
                  message_stop (or, after a failure, event: error)
    ConnectorError --error_response--> {"type": "error", "error": {"type", "message"}}

Mapping choices follow Anthropic's API reference and Ollama's own Anthropic layer
(`anthropic/anthropic.go`): blocks of one message become one chat message, tool
results become `tool` messages placed before the rest of their user turn, earlier
`thinking` becomes `reasoning_content`, and `thinking` / `output_config.effort`
become `reasoning_effort`.
"""

from connector.dialects.anthropic.errors import (
    error_body,
    error_frame,
    error_response,
    model_not_found,
)
from connector.dialects.anthropic.request import reasoning_effort, to_chat_request
from connector.dialects.anthropic.response import message_body, sse_events

__all__ = [
    "error_body",
    "error_frame",
    "error_response",
    "message_body",
    "model_not_found",
    "reasoning_effort",
    "sse_events",
    "to_chat_request",
]
