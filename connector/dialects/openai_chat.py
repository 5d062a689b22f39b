"""OpenAI Chat Completions, the connector's own dialect: `/chat/completions`,
`/v1/chat/completions`, the SSE route, the WebSockets and the admin routes.

The request is `ChatRequest` itself; the stream is `data:` frames of
`chat.completion.chunk`, an optional usage chunk (`choices: []`), then `[DONE]`;
errors are OpenAI's error object, built here and nowhere else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

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


async def sse_frames(
    chunks: AsyncIterator[ChatCompletionChunk], *, include_usage: bool
) -> AsyncIterator[bytes]:
    """The chat stream as OpenAI frames it. The usage chunk (`choices: []`) goes out
    only when asked for (`stream_options.include_usage`), as OpenAI does: clients
    that read `chunk.choices[0]` on every chunk break on it otherwise."""
    try:
        async for chunk in chunks:
            if chunk.choices or include_usage:
                yield frame(chunk.model_dump_json())
        yield DONE
    except ConnectorError as exc:
        yield error_frame(exc)
