"""Start-up work that runs while the server answers (the usage totals, the budgets'
spending): what needs its result waits for it, a stop cancels it.

A start must not grow with the books: summing a million usage records took 0.6 s here
(2026-12-04), and every request would otherwise wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any


class StartJob:
    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(self, job: Coroutine[Any, Any, None]) -> None:
        self._task = asyncio.get_running_loop().create_task(job)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def wait(self) -> None:
        """Until the job has ended; a waiter's cancellation leaves the job running."""
        if self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
