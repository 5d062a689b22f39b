"""OpenAI Responses (`/v1/responses`, `/responses`): Codex CLI, the OpenAI Agents SDK
and `client.responses.*` of the openai SDKs.

    ResponsesRequest + earlier items (previous_response_id)
        -> request.to_chat() -> ChatRequest (+ the request's own items, for storage)
    ChatService chunks -> stream.ResponseBuilder -> `event:`/`data:` frames, or the response
    ConnectorError -> OpenAI's error object (openai_chat's one producer)

Stream events follow what the openai SDK (`lib/streaming/responses`) and Codex
(`codex-api/src/sse/responses.rs`) parse: `response.created`, `response.in_progress`,
per output item `response.output_item.added` / `.done`, per content part
`response.content_part.added` / `.done` around its deltas (`response.output_text.*`,
`response.reasoning_text.*`), `response.function_call_arguments.*` for calls, and last
`response.completed`, `response.incomplete` or `response.failed` with the whole
response. Every event carries a `sequence_number`. The model's thinking is a reasoning
item whose `content` holds `reasoning_text`, as OpenAI returns raw reasoning of open
models; the connector has no summariser, so `summary` stays empty.
"""

from __future__ import annotations

from connector.dialects import openai_chat
from connector.dialects.openai_responses.request import Turn, parse_items, to_chat
from connector.dialects.openai_responses.stream import (
    OnFinal,
    ResponseBuilder,
    complete,
    frame,
    sse_events,
)

# OpenAI's error object, from the one producer of it.
error_response = openai_chat.error_response

__all__ = [
    "OnFinal",
    "ResponseBuilder",
    "Turn",
    "complete",
    "error_response",
    "frame",
    "parse_items",
    "sse_events",
    "to_chat",
]
