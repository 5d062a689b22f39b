"""Cancellation paths (WebSocket close, pull close, mid-stream timeout), remote clients
and settings, provider checks and the conversation store."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from websockets.sync.client import connect

from connector.config import Settings
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import assert_error, chat_body, sse_events, wait_until, ws_url

# uvicorn trusts X-Forwarded-For from 127.0.0.1 by default, which is how a test on
# loopback can appear as the remote client a reverse proxy would forward.
REMOTE = {"X-Forwarded-For": "203.0.113.9"}


def _cancelled_records(url: str) -> list[dict[str, Any]]:
    recent = httpx.get(f"{url}/usage").json()["recent"]
    return [r for r in recent if r["status"] == "cancelled"]


def test_closing_chat_socket_cancels_upstream_and_records(
    live_server: str, upstream: FakeUpstream
) -> None:
    upstream.scenario = "slow"
    with connect(ws_url(live_server, "/ws/chat"), open_timeout=5) as ws:
        ws.send(json.dumps({"type": "chat", "id": "c1", "request": chat_body()}))
        for _ in range(50):
            if json.loads(ws.recv(timeout=10))["type"] == "chunk":
                break
    assert upstream.wait_cancelled(1), "closing the socket left the upstream running"
    records = wait_until(lambda: _cancelled_records(live_server))
    assert records and records[0]["surface"] == "ws"


def test_closing_pull_cancels_upstream_pull(live_server: str, upstream: FakeUpstream) -> None:
    upstream.scenario = "slow"
    with (
        httpx.Client(timeout=10) as client,
        client.stream("POST", f"{live_server}/models/pull", json={"name": "llama3.2"}) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            if '"completed"' in line:
                break
    assert upstream.wait_cancelled(1), "closing the pull request left the upstream pull running"


def test_pull_unknown_model_ends_with_error_frame(live_server: str, upstream: FakeUpstream) -> None:
    upstream.scenario = "not_found"
    response = httpx.post(f"{live_server}/models/pull", json={"name": "nope"}, timeout=10)
    events = sse_events(response)
    assert events[0] == {"status": "pulling manifest"}
    assert "error" in events[-1]
    assert "file does not exist" in events[-1]["error"]["message"]


def test_stall_mid_stream_is_timeout_error_frame(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str], upstream: FakeUpstream
) -> None:
    upstream.scenario = "stall_midstream"
    url = serve(make_settings(read_timeout=0.5))
    started = time.monotonic()
    response = httpx.post(f"{url}/chat/completions/stream", json=chat_body(), timeout=10)
    assert time.monotonic() - started < 5
    events = sse_events(response)
    assert "[DONE]" not in events
    assert events[-1]["error"]["type"] == "upstream_timeout"
    records = wait_until(
        lambda: [r for r in httpx.get(f"{url}/usage").json()["recent"] if r["status"] == "error"]
    )
    assert records


def test_remote_client_cannot_change_settings_without_token(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    url = serve(make_settings())
    assert_error(httpx.post(f"{url}/settings", json={"default_model": "x"}, headers=REMOTE), 403)
    assert httpx.get(f"{url}/settings").json()["default_model"] == "gpt-oss:20b"

    token = "tok-remote-123456"
    guarded = serve(make_settings(api_token=token))
    allowed = httpx.post(
        f"{guarded}/settings",
        json={"default_model": "llama3.2"},
        headers={**REMOTE, "Authorization": f"Bearer {token}"},
    )
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["default_model"] == "llama3.2"


def test_provider_checks(live_server: str, upstream: FakeUpstream) -> None:
    ollama = httpx.post(f"{live_server}/providers/ollama/test").json()
    assert ollama["provider"] == "ollama" and ollama["ok"] is True
    assert "0.12.6" in ollama["detail"]
    assert ollama["latency_ms"] >= 0
    openai = httpx.post(f"{live_server}/providers/openai/test").json()
    assert openai["ok"] is True
    upstream.scenario = "unauthorized"
    failing = httpx.post(f"{live_server}/providers/openai/test")
    body = failing.json()
    if failing.status_code == 200:
        assert body["ok"] is False and body["detail"]
    else:
        assert_error(failing, failing.status_code)


def test_conversations_roundtrip(live_server: str) -> None:
    with httpx.Client(base_url=live_server) as client:
        created = client.post(
            "/conversations", json={"title": "Colors", "provider": "ollama", "model": "llama3.2"}
        )
        assert created.status_code in (200, 201), created.text
        conv = created.json()
        cid = conv["id"]
        assert conv["title"] == "Colors" and conv["message_count"] == 0

        messages = [
            {"role": "user", "content": "List three colors."},
            {
                "role": "assistant",
                "content": '{"colors": ["red", "green", "blue"]}',
                "reasoning_content": "Easy.",
                "parsed": {"colors": ["red", "green", "blue"]},
                "metrics": {"latency_ms": 12.5},
            },
        ]
        put = client.put(f"/conversations/{cid}/messages", json={"messages": messages})
        assert put.status_code == 200, put.text
        detail = client.get(f"/conversations/{cid}").json()
        assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
        assert detail["messages"][1]["parsed"] == {"colors": ["red", "green", "blue"]}
        assert detail["messages"][1]["reasoning_content"] == "Easy."

        patched = client.patch(f"/conversations/{cid}", json={"title": "Renamed"})
        assert patched.status_code == 200 and patched.json()["title"] == "Renamed"
        listed = client.get("/conversations").json()
        assert [(c["id"], c["message_count"]) for c in listed] == [(cid, 2)]

        md = client.get(f"/conversations/{cid}/export", params={"format": "md"})
        assert md.status_code == 200 and "List three colors." in md.text
        assert "attachment" in md.headers.get("content-disposition", "")
        exported = client.get(f"/conversations/{cid}/export", params={"format": "json"}).json()
        assert exported["title"] == "Renamed" and len(exported["messages"]) == 2

        assert client.delete(f"/conversations/{cid}").status_code == 204
        assert_error(client.get(f"/conversations/{cid}"), 404)
