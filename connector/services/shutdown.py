"""Graceful shutdown: stop taking work, let running requests finish within a grace,
then end each one in its own protocol.

    SIGTERM / SIGINT / window closed
      -> GracefulServer.shutdown (connector/serving.py): listening sockets closed
      -> ShutdownCoordinator.drain(): new chat requests get 503 server_shutting_down;
         running ones get `grace` seconds to finish
      -> still running: ServerShuttingDownError raised inside each ChatService stream,
         so every dialect's own mid-stream error framing writes the final frame
         (SSE error frame, WS `error`, NDJSON error line; a blocking request a 503)
         and the record says `interrupted`
      -> usage records flushed; uvicorn closes the connections; exit 0

Raising "inside" a stream: the task consuming the stream is cancelled and the
stream, seeing it was stopped for shutdown, takes the cancellation back
(`Task.uncancel`) and raises the error instead, so the consumer's normal error path
runs with a live task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Protocol

from connector.errors import ServerShuttingDownError

log = logging.getLogger(__name__)

# After the grace, how long ended streams get to write their final frames and records.
_FINAL_FRAMES_S = 0.5


class Interruptible(Protocol):
    """A running request the coordinator can end (ChatService's ChatStream)."""

    id: str
    task: asyncio.Task[object] | None
    shutting_down: bool


class ShutdownCoordinator:
    def __init__(self, grace: float) -> None:
        self.grace = grace
        self.stopping = False
        self._running: dict[str, Interruptible] = {}
        self._idle: asyncio.Event | None = None

    def check_accepting(self) -> None:
        """Raise for new work once shutdown has begun."""
        if self.stopping:
            raise ServerShuttingDownError()

    def track(self, stream: Interruptible) -> None:
        self._running[stream.id] = stream
        if self._idle is not None:
            self._idle.clear()

    def untrack(self, stream: Interruptible) -> None:
        self._running.pop(stream.id, None)
        if not self._running and self._idle is not None:
            self._idle.set()

    @property
    def running(self) -> int:
        return len(self._running)

    async def _wait_idle(self, wait_s: float) -> bool:
        if not self._running:
            return True
        self._idle = asyncio.Event()
        try:
            await asyncio.wait_for(self._idle.wait(), wait_s)
        except TimeoutError:
            return not self._running
        return True

    async def drain(self, grace: float | None = None) -> int:
        """Refuse new work, wait up to `grace` for running requests, then end the rest.
        Returns how many had to be ended."""
        grace = self.grace if grace is None else grace
        self.stopping = True
        started = time.monotonic()
        if self._running:
            log.info(
                "Shutting down: %d request(s) running, waiting up to %.1f s.",
                len(self._running),
                grace,
            )
        if await self._wait_idle(grace):
            return 0
        ended = list(self._running.values())
        for stream in ended:
            stream.shutting_down = True
            task = stream.task
            if task is not None and not task.done():
                task.cancel()
        await self._wait_idle(_FINAL_FRAMES_S)
        log.warning(
            "Shutdown grace (%.1f s) over: ended %d running request(s) after %.1f s.",
            grace,
            len(ended),
            time.monotonic() - started,
        )
        return len(ended)


def take_back_cancel() -> None:
    """Undo the cancellation the coordinator used to reach a stream's task."""
    task = asyncio.current_task()
    if task is not None:
        with contextlib.suppress(AttributeError):
            task.uncancel()
