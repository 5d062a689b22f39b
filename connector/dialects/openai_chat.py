"""OpenAI Chat Completions, the connector's own dialect: `/chat/completions`,
`/v1/chat/completions`, the SSE route, the WebSockets and the admin routes.

The request is `ChatRequest` itself; the stream is `data:` frames of
`chat.completion.chunk`, an optional usage chunk (`choices: []`), then `[DONE]`;
errors are OpenAI's error object, built here and nowhere else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.responses import JSONResponse

from connector.dialects.base import dumps, public_message
from connector.errors import ConnectorError
from connector.schemas import ChatCompletionChunk, ErrorBody, ErrorResponse

DONE = b"data: [DONE]\n\n"


def error_body(exc: ConnectorError) -> dict[str, Any]:
    """OpenAI's error object for `exc`: the one producer of this envelope."""
    return ErrorResponse(
        error=ErrorBody(
            message=public_message(exc), type=exc.error_type, param=exc.param, code=exc.code
        )
    ).model_dump()


def error_response(exc: ConnectorError) -> JSONResponse:
    return JSONResponse(error_body(exc), status_code=exc.status_code, headers=exc.headers)


def frame(payload: str | bytes) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return b"data: " + data + b"\n\n"


def error_frame(exc: ConnectorError) -> bytes:
    return frame(dumps(error_body(exc)))


def chunk_json(chunk: ChatCompletionChunk) -> bytes:
    """One chunk as JSON, exactly as `chunk.model_dump_json()` writes it. A text or
    reasoning delta (nearly every chunk of a stream) is written straight from its
    fields: the models' serializers cost about 20 us a chunk, paid on every token of
    every open stream. Anything else goes through the models."""
    if len(chunk.choices) != 1 or chunk.usage is not None or chunk.metrics is not None:
        return chunk.model_dump_json().encode()
    choice = chunk.choices[0]
    delta = choice.delta
    if delta.tool_calls is not None or chunk.parsed is not None:
        return chunk.model_dump_json().encode()
    fields: dict[str, Any] = {}
    if delta.role is not None:
        fields["role"] = delta.role
    if delta.content is not None:
        fields["content"] = delta.content
    if delta.reasoning_content is not None:
        fields["reasoning_content"] = delta.reasoning_content
    return orjson.dumps(
        {
            "id": chunk.id,
            "object": chunk.object,
            "created": chunk.created,
            "model": chunk.model,
            "provider": chunk.provider,
            "choices": [
                {"index": choice.index, "delta": fields, "finish_reason": choice.finish_reason}
            ],
            "usage": None,
        }
    )


async def sse_frames(
    chunks: AsyncIterator[ChatCompletionChunk], *, include_usage: bool
) -> AsyncIterator[bytes]:
    """The chat stream as OpenAI frames it. The usage chunk (`choices: []`) goes out
    only when asked for (`stream_options.include_usage`), as OpenAI does: clients
    that read `chunk.choices[0]` on every chunk break on it otherwise. It is the
    stream's last chunk, written with `[DONE]` in one send (each send through the
    server is a system call)."""
    last = b""
    try:
        async for chunk in chunks:
            if chunk.choices:
                yield frame(chunk_json(chunk))
            elif include_usage:
                last += frame(chunk_json(chunk))
        yield last + DONE
    except ConnectorError as exc:
        yield last + error_frame(exc)
