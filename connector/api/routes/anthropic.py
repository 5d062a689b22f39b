"""Anthropic Messages: `POST /v1/messages` (Claude Code adds `?beta=true`) and
`POST /v1/messages/count_tokens`. The translation is `connector.dialects.anthropic`."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from connector.api.deps import ChatDep
from connector.api.routing import DocumentedRoute
from connector.api.sse import cancel_on_disconnect, open_stream
from connector.dialects import anthropic
from connector.dialects.base import dumps
from connector.errors import ModelNotFoundError
from connector.schemas.anthropic import (
    CountTokensRequest,
    ErrorBody,
    MessageBody,
    MessagesRequest,
    TokenCountBody,
)
from connector.services import tokens
from connector.services.callers import Caller

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (400, 401, 403, 404, 413, 429, 500, 504, 529)
}
_BETA = Query(False, description="Sent by Claude Code; accepted and ignored.")

router = APIRouter(tags=["anthropic"], route_class=DocumentedRoute)


@router.post(
    "/v1/messages",
    responses={**ERRORS, 200: {"model": MessageBody, "content": {"text/event-stream": {}}}},
)
async def create_message(
    body: MessagesRequest, request: Request, chat: ChatDep, beta: bool = _BETA
) -> Response:
    """A message from the chosen model (`ollama/NAME`, `openai/NAME`, or a bare name for
    the default provider). With `"stream": true`, Anthropic's SSE events."""
    chat_request = anthropic.to_chat_request(body)
    caller = Caller.of(request, "anthropic")
    try:
        if body.stream:
            stream = chat.open(chat_request, caller)
            encode = partial(
                anthropic.sse_events,
                model=body.model,
                input_estimate=tokens.estimate(chat_request),
            )
            return await open_stream(stream.chunks, encode)
        completion = await cancel_on_disconnect(request, chat.complete(chat_request, caller))
    except ModelNotFoundError as exc:
        raise anthropic.model_not_found(exc, body.model) from exc
    return Response(
        dumps(anthropic.message_body(completion, body.model)), media_type="application/json"
    )


@router.post("/v1/messages/count_tokens", responses=ERRORS)
async def count_tokens(
    body: CountTokensRequest, chat: ChatDep, beta: bool = _BETA
) -> TokenCountBody:
    """Input tokens of a request: the upstream's own count where it can give one
    (llama.cpp's server), else an estimate (see docs/API.md)."""
    count = await tokens.count_input_tokens(chat, anthropic.to_chat_request(body))
    return {"input_tokens": count.input_tokens}
