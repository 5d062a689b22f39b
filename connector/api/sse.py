"""Serialising chat streams as Server-Sent Events, and tying request lifetimes to
the client's connection so a disconnect cancels the upstream request at once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

import anyio
from fastapi import Request
from fastapi.sse import EventSourceResponse
from starlette.types import Receive, Scope, Send

from connector.api.errors import error_body
from connector.errors import ConnectorError
from connector.services.chat import ChatStream

T = TypeVar("T")
DONE = b"data: [DONE]\n\n"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def frame(payload: str | bytes) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return b"data: " + data + b"\n\n"


class StreamingEvents(EventSourceResponse):
    """An SSE response that watches for the client going away even while the
    upstream is silent (a model loading, a long think), and then cancels it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as group:

            async def stream() -> None:
                try:
                    await self.stream_response(send)
                except OSError:
                    pass
                finally:
                    group.cancel_scope.cancel()

            group.start_soon(stream)
            await self.listen_for_disconnect(receive)
            group.cancel_scope.cancel()


async def chat_events(stream: ChatStream) -> StreamingEvents:
    """Start the stream before answering, so errors that happen before the first
    chunk (model not found, upstream down) keep their HTTP status."""
    chunks = stream.chunks
    try:
        first = await anext(chunks)
    except StopAsyncIteration:
        first = None

    async def body() -> AsyncIterator[bytes]:
        try:
            if first is not None:
                yield frame(first.model_dump_json())
            async for chunk in chunks:
                yield frame(chunk.model_dump_json())
            yield DONE
        except ConnectorError as exc:
            yield frame(_json(error_body(exc)))
        finally:
            await chunks.aclose()

    return StreamingEvents(body(), headers=SSE_HEADERS)


def events_from(items: AsyncIterator[dict[str, Any]]) -> StreamingEvents:
    """SSE of plain JSON objects (pull progress), `[DONE]` at the end."""

    async def body() -> AsyncIterator[bytes]:
        try:
            async for item in items:
                yield frame(_json(item))
            yield DONE
        except ConnectorError as exc:
            yield frame(_json(error_body(exc)))

    return StreamingEvents(body(), headers=SSE_HEADERS)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


async def cancel_on_disconnect(request: Request, work: Awaitable[T]) -> T:
    """Await `work` in this task, cancelling it if the client disconnects first."""
    current = asyncio.current_task()
    assert current is not None

    async def watch() -> None:
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                current.cancel()
                return

    watcher = asyncio.create_task(watch())
    try:
        return await work
    finally:
        watcher.cancel()
