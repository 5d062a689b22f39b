"""The upstream HTTP client's streaming: lines as they arrive, however long, blank
ones left out, and the mid-stream idle limit, which counts the upstream's silence
only, never the time a slow consumer takes with a batch of lines."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest
from aiohttp import web

from connector.errors import UpstreamTimeoutError, UpstreamUnavailableError
from connector.providers.http import UpstreamHTTP, idle_limited, lines

TIMEOUTS = {"connect": 2.0, "read": 5.0, "write": 2.0, "pool": 2.0}
IDLE = 0.3


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[str, asyncio.Event]]:
    """/lines: three lines at once, with blank ones between as SSE sends them; /stall:
    one line, then nothing until released."""
    release = asyncio.Event()

    async def three(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"one\n\n" + b"x" * 300_000 + b"\r\n\r\n \nthree")
        await response.write_eof()
        return response

    async def stall(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"first\n")
        await release.wait()
        return response

    app = web.Application()
    app.router.add_get("/lines", three)
    app.router.add_get("/stall", stall)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", release
    release.set()
    await runner.cleanup()


def _client(base: str) -> UpstreamHTTP:
    return UpstreamHTTP(
        "Test",
        TIMEOUTS,
        where=lambda: base,
        unreachable=lambda: UpstreamUnavailableError("down"),
    )


async def test_lines_of_any_length_and_the_last_without_newline(
    upstream: tuple[str, asyncio.Event],
) -> None:
    base, _ = upstream
    http = _client(base)
    async with http.stream("GET", f"{base}/lines") as response:
        got = [line async for batch in lines(response) for line in batch]
    await http.aclose()
    assert got == [b"one", b"x" * 300_000 + b"\r", b"three"]


async def test_a_slow_consumer_is_not_an_idle_upstream(
    upstream: tuple[str, asyncio.Event],
) -> None:
    base, _ = upstream
    http = _client(base)
    got = []
    async with http.stream("GET", f"{base}/lines") as response:
        async for batch in idle_limited(response, IDLE, "Test"):
            got.extend(batch)
            await asyncio.sleep(IDLE * 2)  # the client downstream reads slowly
    await http.aclose()
    assert len(got) == 3


async def test_an_upstream_silent_mid_stream_is_cut_off(
    upstream: tuple[str, asyncio.Event],
) -> None:
    base, _ = upstream
    http = _client(base)
    loop = asyncio.get_running_loop()
    got = []
    with pytest.raises(UpstreamTimeoutError, match="CONNECTOR_IDLE_TIMEOUT"):
        async with http.stream("GET", f"{base}/stall") as response:
            async for batch in idle_limited(response, IDLE, "Test"):
                got.extend(batch)
                started = loop.time()
    assert loop.time() - started < IDLE + 1
    assert got == [b"first"]
    await http.aclose()


async def test_a_stream_and_its_connection_are_freed_without_the_cycle_collector(
    upstream: tuple[str, asyncio.Event],
) -> None:
    """An answer read to its end (its connection kept for reuse) and one left early (its
    connection closed) are freed by reference counting: left in reference cycles, they
    waited for a full collection, which walks every live object with the loop stopped."""
    base, _ = upstream
    http = _client(base)
    gc.disable()
    try:
        for path, whole in (("/lines", True), ("/stall", False)):
            async with http.stream("GET", f"{base}{path}") as response:
                answer = weakref.ref(response)
                conn = weakref.ref(response._conn)  # type: ignore[attr-defined]
                async with aclosing(idle_limited(response, IDLE, "Test")) as batches:
                    async for _ in batches:
                        if not whole:
                            break  # leaving early closes the connection
            del response
            # A connection closed ends, and an async generator left early is closed, on
            # the loop's next rounds: a few turns, not a collection.
            for _ in range(100):
                if answer() is None and (whole or conn() is None):
                    break
                await asyncio.sleep(0)
            assert answer() is None, path
            assert whole or conn() is None, path
    finally:
        gc.enable()
    await http.aclose()
