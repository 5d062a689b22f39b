"""A client that goes away mid-answer stops the model: llama-server's slot stops
processing within seconds and generates far fewer tokens than asked, and the
connector records the request as `cancelled`."""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from websockets.sync.client import connect

from tests.llama.helpers import LONG_PROMPT, body, iter_events, latest_records
from tests.llama.server import LlamaServer
from tests.service.helpers import wait_until, ws_url

# Far more than is generated before the client leaves: a request that ran to its end
# would count MAX_TOKENS generated tokens, a cancelled one stops well short of half.
MAX_TOKENS = 400
STOP_WITHIN = 5.0


def _predicted(llama: LlamaServer) -> float:
    return llama.metrics()["tokens_predicted_total"]


def _assert_generation_stopped(llama: LlamaServer, predicted_before: float) -> None:
    """Every slot idle within STOP_WITHIN, and the request did not run to its end."""
    idle = wait_until(lambda: not llama.busy_slots(), timeout=STOP_WITHIN, step=0.05)
    assert idle, f"llama-server still generating {STOP_WITHIN} s after the client left"
    # Tokens of a stopped task are counted when its slot is released.
    generated = _predicted(llama) - predicted_before
    assert 0 < generated < MAX_TOKENS / 2, generated


def _assert_cancel_recorded(connector: str, surface: str) -> dict[str, Any]:
    def cancelled() -> dict[str, Any] | None:
        records = latest_records(connector)
        return records[0] if records and records[0]["status"] == "cancelled" else None

    record = wait_until(cancelled, timeout=STOP_WITHIN, step=0.1)
    assert record, latest_records(connector)
    assert record["surface"] == surface
    assert record["error_type"] == "cancelled"
    return dict(record)


@pytest.mark.parametrize("path", ["/chat/completions/stream", "/v1/chat/completions"])
def test_sse_client_disconnect_stops_generation(
    connector: str, llama: LlamaServer, path: str
) -> None:
    before = _predicted(llama)
    request = body(LONG_PROMPT, max_tokens=MAX_TOKENS, stream=True)
    with (
        httpx.Client(timeout=60) as client,
        client.stream("POST", f"{connector}{path}", json=request) as response,
    ):
        assert response.status_code == 200
        seen = 0
        busy: list[int] = []
        for event in iter_events(response):
            if isinstance(event, dict) and event.get("choices"):
                seen += bool(event["choices"][0]["delta"].get("content"))
            if seen >= 3:
                busy = llama.busy_slots()
                # Leaving the loop closes httpx's line iterator and with it the
                # connection, body unread: the client is gone from here on.
                break
        assert busy, "the model should still have been generating"
    _assert_generation_stopped(llama, before)
    record = _assert_cancel_recorded(connector, "sse" if path.endswith("stream") else "v1")
    assert record["ttft_ms"] is not None and record["ttft_ms"] > 0


def test_blocking_client_disconnect_stops_generation(connector: str, llama: LlamaServer) -> None:
    before = _predicted(llama)
    payload = json.dumps(body(LONG_PROMPT, max_tokens=MAX_TOKENS)).encode()
    url = urlsplit(connector)
    head = (
        f"POST /chat/completions HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    # A raw socket, so the client leaves exactly while the model is mid-answer,
    # however fast this machine generates.
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(head.encode() + payload)
        assert wait_until(lambda: llama.decoded() >= 3, timeout=30, step=0.02), (
            "generation never started"
        )
    _assert_generation_stopped(llama, before)
    _assert_cancel_recorded(connector, "rest")


def test_ws_cancel_and_socket_close_stop_generation(connector: str, llama: LlamaServer) -> None:
    request = body(LONG_PROMPT, max_tokens=MAX_TOKENS)
    with connect(ws_url(connector, "/ws/chat"), open_timeout=10) as ws:
        # An explicit cancel message: the socket answers `cancelled` and stays usable.
        before = _predicted(llama)
        ws.send(json.dumps({"type": "chat", "id": "a", "request": request}))
        first = json.loads(ws.recv(timeout=60))
        assert (first["type"], first["id"]) == ("chunk", "a"), first
        ws.send(json.dumps({"type": "cancel", "id": "a"}))
        kinds = []
        for _ in range(MAX_TOKENS):
            message = json.loads(ws.recv(timeout=30))
            kinds.append(message["type"])
            if message["type"] != "chunk":
                break
        assert kinds[-1] == "cancelled", kinds
        _assert_generation_stopped(llama, before)
        _assert_cancel_recorded(connector, "ws")

        # Then the client closes the socket while a second request runs.
        before = _predicted(llama)
        ws.send(json.dumps({"type": "chat", "id": "b", "request": request}))
        assert json.loads(ws.recv(timeout=60))["type"] == "chunk"
    _assert_generation_stopped(llama, before)
    _assert_cancel_recorded(connector, "ws")
    assert [r["status"] for r in latest_records(connector)] == ["cancelled", "cancelled"]
