"""ASGI responses for the fakes: a paced stream that notices when its client leaves,
and a stall that holds the request open (for read-timeout tests)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

# One piece of a stream: seconds to wait before sending it, then its bytes.
Piece = tuple[float, bytes]


async def _wait_disconnect(receive: Receive, gone: asyncio.Event) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.set()
            return


class PacedStream(Response):
    """Sends `pieces` with their delays. When the client goes away before the last
    piece, stops sending and calls `on_cancel` (the fake counts it)."""

    def __init__(
        self,
        pieces: Sequence[Piece],
        *,
        media_type: str,
        on_cancel: Callable[[], None],
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.pieces = pieces
        self.stream_type = media_type
        self.on_cancel = on_cancel
        self.status_code = status_code
        self.extra_headers = headers or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gone = asyncio.Event()
        watcher = asyncio.create_task(_wait_disconnect(receive, gone))
        finished = False
        raw_headers = [(b"content-type", self.stream_type.encode())]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in self.extra_headers.items()]
        try:
            await send(
                {"type": "http.response.start", "status": self.status_code, "headers": raw_headers}
            )
            for delay, body in self.pieces:
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(gone.wait(), delay)
                if gone.is_set():
                    break
                await send({"type": "http.response.body", "body": body, "more_body": True})
            else:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                finished = True
        except OSError:
            pass
        finally:
            watcher.cancel()
            if not finished:
                self.on_cancel()


class Stall(Response):
    """Never answers (until the client leaves or `seconds` pass, then a 500)."""

    def __init__(self, seconds: float, on_cancel: Callable[[], None]) -> None:
        self.seconds = seconds
        self.on_cancel = on_cancel

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gone = asyncio.Event()
        watcher = asyncio.create_task(_wait_disconnect(receive, gone))
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gone.wait(), self.seconds)
        finally:
            watcher.cancel()
        if gone.is_set():
            self.on_cancel()
            return
        body = b'{"error": "stalled"}'
        headers: list[Any] = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 500, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
