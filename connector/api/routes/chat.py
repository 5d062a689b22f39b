"""Chat completions: blocking JSON, or SSE when `"stream": true`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from connector.api.deps import ChatDep
from connector.api.sse import cancel_on_disconnect, chat_events
from connector.schemas import ChatCompletion, ChatRequest, ErrorResponse, Surface

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 403, 404, 413, 429, 502, 503, 504)
}
# Streaming routes return their own EventSourceResponse (so an error before the first
# chunk keeps its HTTP status); this only documents the media type.
SSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}
}
_STREAM_DOC = 'With `"stream": true` the answer is an SSE stream like `/chat/completions/stream`.'

router = APIRouter(tags=["chat"])


async def _complete(
    body: ChatRequest, request: Request, chat: ChatDep, surface: Surface
) -> Response:
    if body.stream:
        return await chat_events(chat.open(body, "v1" if surface == "v1" else "sse"))
    completion = await cancel_on_disconnect(request, chat.complete(body, surface))
    return Response(completion.model_dump_json(exclude_none=True), media_type="application/json")


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={**ERRORS, 200: {"content": {"text/event-stream": {}}}},
    description=_STREAM_DOC,
)
async def chat_completions(body: ChatRequest, request: Request, chat: ChatDep) -> Response:
    return await _complete(body, request, chat, "rest")


@router.post(
    "/v1/chat/completions",
    response_model=ChatCompletion,
    responses={**ERRORS, 200: {"content": {"text/event-stream": {}}}},
    description=_STREAM_DOC,
)
async def v1_chat_completions(body: ChatRequest, request: Request, chat: ChatDep) -> Response:
    return await _complete(body, request, chat, "v1")


@router.post("/chat/completions/stream", responses={**ERRORS, **SSE_DOC})
async def chat_completions_stream(body: ChatRequest, chat: ChatDep) -> Response:
    """SSE: `chat.completion.chunk` frames, a usage chunk (`choices: []`), `[DONE]`."""
    return await chat_events(chat.open(body, "sse"))
