"""MonitorHub: fans finished-request records and in-flight counts out to
`/ws/monitoring` subscribers without ever blocking the chat path."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from connector.schemas.ws import MonitorInFlight

log = logging.getLogger(__name__)

_QUEUE_SIZE = 1000


class MonitorHub:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self.in_flight = 0

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=_QUEUE_SIZE)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    @property
    def has_subscribers(self) -> bool:
        return bool(self._subscribers)

    def publish(self, message: dict[str, Any]) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                # A stalled viewer loses messages rather than slowing chats down.
                log.warning("A monitoring subscriber is too slow; a message was dropped.")

    def request_started(self) -> None:
        self.in_flight += 1
        if self._subscribers:  # the message is built only for someone watching
            self.publish(MonitorInFlight(in_flight=self.in_flight).model_dump(mode="json"))

    def request_finished(self) -> None:
        self.in_flight = max(0, self.in_flight - 1)
