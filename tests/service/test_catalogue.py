"""connector/providers/catalogue.py: refreshed once at start, then only when a bare
name's lookup finds it older than REFRESH_S, one refresh at a time; a failing refresh
never escapes into the request that triggered it."""

from __future__ import annotations

import asyncio
import time

from connector.providers import catalogue as catalogue_module
from connector.providers.catalogue import Catalogue


def test_refreshes_at_start_then_only_when_stale() -> None:
    async def scenario() -> list[int]:
        calls: list[int] = []
        gate = asyncio.Event()

        async def refresh() -> None:
            calls.append(len(calls))
            await gate.wait()

        cat = Catalogue(wait_s=1.0)
        cat.start(refresh)
        await asyncio.sleep(0)
        for _ in range(5):  # stale or not, one refresh runs at a time
            cat.refreshed_at = 0.0
            cat.maybe_refresh()
        gate.set()
        await asyncio.sleep(0.01)
        cat.refreshed_at = time.monotonic()
        cat.maybe_refresh()  # fresh: nothing
        await asyncio.sleep(0.01)
        counted = len(calls)
        cat.refreshed_at = time.monotonic() - catalogue_module.REFRESH_S - 1
        cat.maybe_refresh()
        await asyncio.sleep(0.01)
        await cat.stop()
        return [counted, len(calls)]

    assert asyncio.run(scenario()) == [1, 2]


def test_a_failing_refresh_is_logged_not_raised() -> None:
    async def scenario() -> bool:
        async def refresh() -> None:
            raise RuntimeError("upstream gone")

        cat = Catalogue(wait_s=1.0)
        cat.start(refresh)
        await asyncio.sleep(0.01)
        cat.refreshed_at = 0.0
        cat.maybe_refresh()  # the earlier failure did not wedge it
        await asyncio.sleep(0.01)
        await cat.stop()
        return cat.refreshed_at > 0

    assert asyncio.run(scenario())
