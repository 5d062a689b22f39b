"""The connector keeps its upstream connections alive: sequential requests reuse one
pooled connection instead of paying a new TCP (and, for OpenAI, TLS) handshake each."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from connector.providers.base import KEEPALIVE_CONNECTIONS
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import chat_body, wait_until

BURST = 48


def _catalogue_listed(base: str, upstream: FakeUpstream) -> None:
    """Once the connector's first model-catalogue refresh (at start, one listing per
    endpoint) is done, forget its connections: what is counted is the chats'."""
    assert wait_until(
        lambda: all(
            h["checked_at"] for h in httpx.get(f"{base}/endpoints/health", timeout=5).json()
        )
    )
    upstream.peers = set()


@pytest.mark.parametrize(
    "target",
    [
        pytest.param({"provider": "ollama"}, id="ollama"),
        pytest.param({"provider": "openai", "model": "gpt-4o-mini"}, id="openai"),
    ],
)
@pytest.mark.parametrize("stream", [False, True], ids=["blocking", "stream"])
def test_sequential_requests_reuse_upstream_connection(
    live_server: str, upstream: FakeUpstream, target: dict[str, str], stream: bool
) -> None:
    _catalogue_listed(live_server, upstream)
    with httpx.Client(base_url=live_server, timeout=10) as client:
        for _ in range(10):
            response = client.post("/chat/completions", json=chat_body(**target, stream=stream))
            assert response.status_code == 200, response.text
    chats = [r for r in upstream.requests if r.path in ("/api/chat", "/v1/chat/completions")]
    assert len(chats) == 10
    # A few connections are fine (pool warm-up); one per request is not.
    assert len(upstream.peers) <= 2, f"{len(upstream.peers)} upstream connections for 10 requests"


@pytest.mark.parametrize(
    "target",
    [
        pytest.param({"provider": "ollama"}, id="ollama"),
        pytest.param({"provider": "openai", "model": "gpt-4o-mini"}, id="openai"),
    ],
)
def test_a_burst_leaves_a_bounded_idle_pool(
    live_server: str, upstream: FakeUpstream, target: dict[str, str]
) -> None:
    """After a burst the connector keeps at most KEEPALIVE_CONNECTIONS idle upstream
    connections: the HTTP pool probes every idle socket on each request, so a pool
    left with one per burst request would slow every later request."""
    _catalogue_listed(live_server, upstream)
    # Connections of an earlier test's connector may still be closing.
    wait_until(lambda: upstream.open_connections() == 0, timeout=2)
    before = upstream.open_connections()
    upstream.chunk_delay = 0.03  # streams long enough to overlap

    async def burst() -> None:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=live_server, timeout=30, limits=limits) as client:
            replies = await asyncio.gather(
                *(
                    client.post("/chat/completions", json=chat_body(**target, stream=True))
                    for _ in range(BURST)
                )
            )
        assert all(r.status_code == 200 for r in replies)

    asyncio.run(burst())
    assert len(upstream.peers) > KEEPALIVE_CONNECTIONS + 8, "the burst did not overlap"
    # Well inside the 5 s keep-alive expiry: the extra connections were closed at once.
    kept = wait_until(
        lambda: upstream.open_connections() - before <= KEEPALIVE_CONNECTIONS, timeout=1.5
    )
    assert kept, f"{upstream.open_connections() - before} upstream connections left open"
    assert upstream.open_connections() > before, "no connection was kept for reuse"
