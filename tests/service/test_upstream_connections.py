"""The connector keeps its upstream connections alive: sequential requests reuse one
pooled connection instead of paying a new TCP (and, for OpenAI, TLS) handshake each;
and its upstream client is aiohttp alone, without the `openai` SDK or httpx."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from connector.providers.http import KEEPALIVE_CONNECTIONS
from tests.conftest import TEST_OPENAI_KEY
from tests.fakes.server import free_port, wait_healthy
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


def _imports_while_serving(
    tmp_path: Path, settings: dict[str, str], targets: list[dict[str, str]]
) -> set[str]:
    """Every module `python -m connector serve` imported (`-X importtime` lists them)
    while it answered a blocking and a streamed chat for each of `targets` and listed
    its models, with `settings` as its environment."""
    port = free_port()
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CONNECTOR_", "OPENAI_", "OLLAMA_"))
            and k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
        },
        "OPENAI_API_KEY": TEST_OPENAI_KEY,
        "CONNECTOR_DATA_DIR": str(tmp_path),
        "CONNECTOR_KEY_STORE": "memory",
        "CONNECTOR_LOG_LEVEL": "warning",
        **settings,
    }
    log = tmp_path / "stderr.txt"
    with log.open("wb") as stderr:
        cmd = [sys.executable, "-X", "importtime", "-m", "connector", "serve"]
        proc = subprocess.Popen(
            [*cmd, "--host", "127.0.0.1", "--port", str(port)], env=env, stderr=stderr
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, proc, timeout=60)
            for target in targets:
                for stream in (False, True):
                    body = chat_body(**target, stream=stream)
                    reply = httpx.post(f"{url}/chat/completions", json=body, timeout=10)
                    assert reply.status_code == 200, reply.text
            assert httpx.get(f"{url}/v1/models", timeout=10).status_code == 200
        finally:
            proc.terminate()
            proc.wait(10)
    return {
        line.rsplit("|", 1)[-1].strip()
        for line in log.read_text(errors="replace").splitlines()
        if line.startswith("import time:")
    }


def test_the_server_imports_neither_the_sdk_nor_an_http_client_library(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    """Importing the `openai` SDK took over a second and tens of MB at every start; the
    server process answers both kinds of endpoint on plain http (and lists their models)
    through its own HTTP/1.1 client, without the SDK, httpx or aiohttp."""
    imported = _imports_while_serving(
        tmp_path,
        {"OPENAI_BASE_URL": upstream.openai_url, "OLLAMA_BASE_URL": upstream.ollama_url},
        [{"provider": "ollama"}, {"provider": "openai", "model": "gpt-4o-mini"}],
    )
    assert "connector.providers.h1" in imported
    assert not {"openai", "httpx", "aiohttp"} & imported


def test_a_proxy_in_the_environment_carries_the_requests(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    """With HTTP_PROXY set, requests to a plain-http endpoint go to the proxy (through
    aiohttp, which applies it), as they did when every request went through aiohttp:
    the endpoint's own address has nothing listening, so only the proxy can answer."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    imported = _imports_while_serving(
        tmp_path,
        {"OPENAI_BASE_URL": f"{nowhere}/v1", "HTTP_PROXY": upstream.openai_url.removesuffix("/v1")},
        [{"provider": "openai", "model": "gpt-4o-mini"}],
    )
    assert "aiohttp" in imported
    chats = upstream.requests_to("/v1/chat/completions")
    assert len(chats) == 2
