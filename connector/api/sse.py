"""Streaming responses (SSE, and NDJSON for the Ollama dialect), and tying request
lifetimes to the client's connection so a disconnect cancels the upstream request at
once. What goes into each frame is the dialect's business (`connector.dialects`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from connector.dialects import openai_chat
from connector.dialects.base import dumps
from connector.errors import ConnectorError

T = TypeVar("T")
SSE_MEDIA_TYPE = "text/event-stream"
NDJSON_MEDIA_TYPE = "application/x-ndjson"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
# How long a blocking answer runs before a watcher looks for its client leaving.
WATCH_AFTER_S = 0.01


class StreamingEvents(StreamingResponse):
    """A streamed response that watches for the client going away even while the
    upstream is silent (a model loading, a long think), and then cancels it.

    The stream runs in the request's own task and the watcher beside it: an anyio
    task group (Starlette's way) cost about 0.1 ms a stream in task and cancel-scope
    bookkeeping, before the first byte. However the stream ends (done, the client
    gone, an error), its body and then `close` (the source the body reads) are closed
    here, not left to the garbage collector."""

    def __init__(
        self,
        content: AsyncIterator[bytes],
        *,
        media_type: str,
        close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(content, media_type=media_type, headers=SSE_HEADERS)
        self._close = close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        current = asyncio.current_task()
        assert current is not None
        gone = False

        async def watch() -> None:
            nonlocal gone
            await self.listen_for_disconnect(receive)
            gone = True
            current.cancel()

        watcher = asyncio.create_task(watch())
        try:
            await self.stream_response(send)
        except OSError:
            pass
        except asyncio.CancelledError:
            if not gone:
                raise
            # The client left: the cancel was ours, and the stream has ended with it.
            current.uncancel()
        finally:
            watcher.cancel()
            body = self.body_iterator
            if isinstance(body, AsyncGenerator):
                await body.aclose()
            if self._close is not None:
                await self._close()


class _Replay(AsyncIterator[T]):
    """The chunk `open_stream` read ahead, then the rest of the source. An iterator
    rather than a generator: every later chunk is the source's own step, with no
    generator step of its own in between (a few microseconds on every token)."""

    __slots__ = ("_first", "_rest")

    def __init__(self, first: list[T], rest: AsyncIterator[T]) -> None:
        self._first = first
        self._rest = rest

    def __anext__(self) -> Awaitable[T]:
        if self._first:
            ready: asyncio.Future[T] = asyncio.get_running_loop().create_future()
            ready.set_result(self._first.pop())
            return ready
        return self._rest.__anext__()


async def open_stream(
    chunks: AsyncGenerator[T, None],
    encode: Callable[[AsyncIterator[T]], AsyncIterator[bytes]],
    media_type: str = SSE_MEDIA_TYPE,
) -> StreamingEvents:
    """Start the stream before answering, so errors that happen before the first
    chunk (model not found, upstream down) keep their HTTP status and reach the
    client in its dialect; after that, `encode` frames chunks and errors alike."""
    try:
        first: list[T] = [await anext(chunks)]
    except StopAsyncIteration:
        first = []
    except BaseException:
        await chunks.aclose()
        raise
    return StreamingEvents(
        encode(_Replay(first, chunks)), media_type=media_type, close=chunks.aclose
    )


def events_from(items: AsyncIterator[dict[str, Any]]) -> StreamingEvents:
    """SSE of plain JSON objects (pull progress), `[DONE]` at the end."""

    async def body() -> AsyncIterator[bytes]:
        try:
            async for item in items:
                yield openai_chat.frame(dumps(item))
            yield openai_chat.DONE
        except ConnectorError as exc:
            yield openai_chat.error_frame(exc)

    return StreamingEvents(body(), media_type=SSE_MEDIA_TYPE)


async def cancel_on_disconnect(request: Request, work: Awaitable[T]) -> T:
    """Await `work` in this task, cancelling it if the client disconnects first.

    The watcher starts only once `work` has run for `WATCH_AFTER_S`: most blocking
    answers are done sooner, and a task made, run and cancelled for each cost about
    10 us. A client that leaves earlier is noticed then (its disconnect waits for the
    watcher's first receive)."""
    current = asyncio.current_task()
    assert current is not None
    loop = current.get_loop()
    watcher: asyncio.Task[None] | None = None

    async def watch() -> None:
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                current.cancel()
                return

    def start() -> None:
        nonlocal watcher
        watcher = loop.create_task(watch())

    timer = loop.call_later(WATCH_AFTER_S, start)
    try:
        return await work
    finally:
        timer.cancel()
        if watcher is not None:
            watcher.cancel()
