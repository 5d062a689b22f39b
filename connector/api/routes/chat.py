"""Chat completions: blocking JSON, or SSE when `"stream": true`."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from connector.api.deps import ChatDep
from connector.api.routing import DocumentedRoute
from connector.api.sse import cancel_on_disconnect, open_stream
from connector.dialects import openai_chat
from connector.schemas import ChatCompletion, ChatRequest, ErrorResponse, Surface
from connector.services.callers import Caller

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 403, 404, 413, 429, 502, 503, 504)
}
# Streaming routes return their own streaming response (so an error before the first
# chunk keeps its HTTP status); this only documents the media type.
SSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}
}
_STREAM_DOC = 'With `"stream": true` the answer is an SSE stream like `/chat/completions/stream`.'

router = APIRouter(tags=["chat"], route_class=DocumentedRoute)


async def _complete(
    body: ChatRequest, request: Request, chat: ChatDep, surface: Surface
) -> Response:
    if body.stream:
        # The drop-in routes send the usage chunk only when asked, as OpenAI does.
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        stream = chat.open(body, Caller.of(request, "v1" if surface == "v1" else "sse"))
        return await open_stream(
            stream.chunks, partial(openai_chat.sse_frames, include_usage=include_usage)
        )
    completion = await cancel_on_disconnect(
        request, chat.complete(body, Caller.of(request, surface))
    )
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
async def chat_completions_stream(body: ChatRequest, request: Request, chat: ChatDep) -> Response:
    """SSE: `chat.completion.chunk` frames, a usage chunk (`choices: []`), `[DONE]`."""
    stream = chat.open(body, Caller.of(request, "sse"))
    return await open_stream(stream.chunks, partial(openai_chat.sse_frames, include_usage=True))
