"""WS /ws/chat: several requests on one socket, cancel, bad input, socket survives."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

# `with connect(...)` gives the base Connection (websockets 16 types __enter__ so).
from websockets.sync.client import connect
from websockets.sync.connection import Connection

from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import COLOR_FORMAT, OLLAMA_TEXT, OPENAI_TEXT, chat_body, ws_url


@pytest.fixture
def ws(shared_live_server: str) -> Iterator[Connection]:
    with connect(ws_url(shared_live_server, "/ws/chat"), open_timeout=5, close_timeout=2) as socket:
        yield socket


def _recv(ws: Connection, timeout: float = 10.0) -> dict[str, Any]:
    message = json.loads(ws.recv(timeout=timeout))
    assert isinstance(message, dict)
    return message


def _until(ws: Connection, kind: str, request_id: str | None) -> list[dict[str, Any]]:
    """Messages received up to and including the first `kind` for `request_id`."""
    seen: list[dict[str, Any]] = []
    for _ in range(2000):
        message = _recv(ws)
        seen.append(message)
        if message.get("type") == kind and message.get("id") == request_id:
            return seen
    raise AssertionError(f"no {kind} for {request_id}: {seen[-5:]}")


def _chat(ws: Connection, request_id: str, **request: Any) -> None:
    ws.send(json.dumps({"type": "chat", "id": request_id, "request": chat_body(**request)}))


def test_one_request_streams_chunks_then_done(ws: Connection, upstream: FakeUpstream) -> None:
    _chat(ws, "r1", provider="ollama")
    messages = _until(ws, "done", "r1")
    assert all(m["id"] == "r1" for m in messages)
    chunks = [m for m in messages if m["type"] == "chunk"]
    text = "".join(
        c["chunk"]["choices"][0]["delta"].get("content") or ""
        for c in chunks
        if c["chunk"]["choices"]
    )
    assert text == OLLAMA_TEXT
    done = messages[-1]["response"]
    assert done["object"] == "chat.completion"
    assert done["choices"][0]["message"]["content"] == OLLAMA_TEXT
    assert done["usage"]["total_tokens"] == 308
    assert done["metrics"]["latency_ms"] > 0


def test_two_requests_on_one_socket_cancel_one(ws: Connection, upstream: FakeUpstream) -> None:
    upstream.model_scenarios = {"slow-model": "slow"}
    _chat(ws, "slow", provider="ollama", model="slow-model")
    _chat(ws, "fast", provider="openai", model="gpt-4o-mini")
    messages = _until(ws, "done", "fast")
    fast_done = messages[-1]
    assert fast_done["response"]["choices"][0]["message"]["content"] == OPENAI_TEXT
    # The slow one is still running and its chunks are tagged with its own id.
    if not any(m["id"] == "slow" and m["type"] == "chunk" for m in messages):
        messages += _until(ws, "chunk", "slow")
    assert {m["id"] for m in messages} <= {"slow", "fast"}

    ws.send(json.dumps({"type": "cancel", "id": "slow"}))
    tail = _until(ws, "cancelled", "slow")
    assert not any(m["type"] == "done" for m in tail)
    assert upstream.wait_cancelled(1), "the upstream stream was not cancelled"

    # The socket keeps working after the cancel.
    _chat(ws, "after", provider="ollama")
    assert _until(ws, "done", "after")[-1]["response"]["choices"][0]["message"]["content"]


def test_invalid_json_and_unknown_messages_keep_socket_open(
    ws: Connection, upstream: FakeUpstream
) -> None:
    ws.send("{this is not json")
    error = _recv(ws)
    assert error["type"] == "error" and error["id"] is None and error["status"] == 400
    assert set(error["error"]) == {"message", "type", "param", "code"}

    # A lone surrogate escape is no Unicode text: refused as HTTP bodies are, where it
    # would otherwise break the answers that echo the id.
    ws.send('{"type": "chat", "id": "\\ud800", "request": {"messages": []}}')
    surrogate = _recv(ws)
    assert surrogate["type"] == "error" and surrogate["id"] is None
    assert surrogate["status"] == 400

    ws.send(json.dumps({"type": "dance", "id": "x1"}))
    unknown = _recv(ws)
    assert unknown["type"] == "error" and unknown["status"] == 400

    ws.send(json.dumps({"type": "chat", "id": "bad", "request": {"messages": "nope"}}))
    invalid = _until(ws, "error", "bad")[-1]
    assert invalid["status"] in (400, 422)

    _chat(ws, "ok", provider="ollama")
    assert _until(ws, "done", "ok")[-1]["response"]["choices"][0]["message"]["content"]


def test_upstream_error_is_tagged_error_and_socket_survives(
    ws: Connection, upstream: FakeUpstream
) -> None:
    upstream.scenario = "not_found"
    _chat(ws, "missing", provider="ollama", model="llama3.2:1b")
    error = _until(ws, "error", "missing")[-1]
    assert error["status"] == 404
    assert "ollama pull llama3.2:1b" in error["error"]["message"]

    upstream.scenario = "midstream_error"
    _chat(ws, "broken", provider="ollama")
    broken = _until(ws, "error", "broken")[-1]
    assert broken["status"] == 502

    upstream.scenario = "default"
    _chat(ws, "fine", provider="ollama")
    assert _until(ws, "done", "fine")[-1]["response"]["choices"][0]["message"]["content"]


def test_cancel_unknown_id_does_not_break_socket(ws: Connection, upstream: FakeUpstream) -> None:
    ws.send(json.dumps({"type": "cancel", "id": "never-started"}))
    _chat(ws, "r2", provider="ollama")
    messages = _until(ws, "done", "r2")
    assert messages[-1]["id"] == "r2"


def test_structured_output_over_ws(ws: Connection, upstream: FakeUpstream) -> None:
    _chat(
        ws,
        "s1",
        provider="openai",
        model="gpt-4o-mini",
        response_format=COLOR_FORMAT,
    )
    done = _until(ws, "done", "s1")[-1]
    assert done["response"]["choices"][0]["message"]["parsed"] == {
        "colors": ["red", "green", "blue"]
    }


def test_repeated_cancel_still_closes_the_upstream(
    live_server: str, upstream: FakeUpstream
) -> None:
    """A second `cancel` arriving while the first is unwinding must not leave the
    upstream request open (a double-clicked Stop button)."""
    upstream.scenario = "slow"
    not_closed: list[int] = []
    with connect(ws_url(live_server, "/ws/chat"), open_timeout=5) as sock:
        for n in range(1, 13):
            rid = f"r{n}"
            _chat(sock, rid, **chat_body(provider="ollama"), stream=True)
            chunks = 0
            while chunks < 3:
                if _recv(sock)["type"] == "chunk":
                    chunks += 1
            sock.send(json.dumps({"type": "cancel", "id": rid}))
            time.sleep(0.001 * (n % 5))
            sock.send(json.dumps({"type": "cancel", "id": rid}))
            final = _recv(sock)
            while final["type"] not in ("cancelled", "done", "error"):
                final = _recv(sock)
            assert final["type"] == "cancelled"
            if not upstream.wait_cancelled(n - len(not_closed), timeout=1.0):
                not_closed.append(n)
    assert not not_closed, f"upstream still streaming after cancel for requests {not_closed}"
