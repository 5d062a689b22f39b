"""The connector keeps its upstream connections alive: sequential requests reuse one
pooled connection instead of paying a new TCP (and, for OpenAI, TLS) handshake each."""

from __future__ import annotations

import httpx
import pytest

from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import chat_body


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
    with httpx.Client(base_url=live_server, timeout=10) as client:
        for _ in range(10):
            response = client.post("/chat/completions", json=chat_body(**target, stream=stream))
            assert response.status_code == 200, response.text
    chats = [r for r in upstream.requests if r.path in ("/api/chat", "/v1/chat/completions")]
    assert len(chats) == 10
    # A few connections are fine (pool warm-up); one per request is not.
    assert len(upstream.peers) <= 2, f"{len(upstream.peers)} upstream connections for 10 requests"
