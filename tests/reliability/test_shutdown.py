"""Graceful shutdown with work in flight: SIGTERM ends every running request in its
own protocol once the grace is over (an SSE error frame, the WebSocket `error`
message, an NDJSON error line, a 503 for a blocking request), every request is on
the books, and the process exits 0 within the grace plus one second."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.sync.connection import Connection

from tests.fakes.upstream import FakeUpstream
from tests.reliability.conftest import ConnectorProcess
from tests.service.helpers import chat_body, ws_url

GRACE = 1.5
SHUTTING_DOWN = "server_shutting_down"


class Client(threading.Thread):
    """Runs one request in a thread; `begun` is set once its stream has started."""

    def __init__(self, run: Callable[[Client], Any]) -> None:
        super().__init__(daemon=True)
        self._run = run
        self.begun = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self._run(self)
        except BaseException as exc:
            self.error = exc

    def outcome(self) -> Any:
        self.join(15)
        assert not self.is_alive(), "the client never saw its request end"
        if self.error is not None:
            raise self.error
        return self.result


def _sse(url: str, path: str, body: dict[str, Any]) -> Callable[[Client], list[Any]]:
    def run(me: Client) -> list[Any]:
        events: list[Any] = []
        with (
            httpx.Client(timeout=30) as client,
            client.stream("POST", url + path, json=body) as response,
        ):
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith("data: "):
                    events.append(line[6:] if line == "data: [DONE]" else json.loads(line[6:]))
                    me.begun.set()
        return events

    return run


def _named_events(url: str, path: str, body: dict[str, Any]) -> Callable[[Client], list[Any]]:
    """(event name, JSON data) pairs of a stream whose events are named (Anthropic's,
    the Responses API's)."""

    def run(me: Client) -> list[Any]:
        events: list[Any] = []
        name = None
        with (
            httpx.Client(timeout=30) as client,
            client.stream("POST", url + path, json=body) as response,
        ):
            assert response.status_code == 200, response.read()
            for line in response.iter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    events.append((name, json.loads(line[6:])))
                    me.begun.set()
        return events

    return run


def _ndjson(url: str, body: dict[str, Any]) -> Callable[[Client], list[Any]]:
    def run(me: Client) -> list[Any]:
        lines: list[Any] = []
        with (
            httpx.Client(timeout=30) as client,
            client.stream("POST", url + "/api/chat", json=body) as response,
        ):
            assert response.status_code == 200, response.read()
            for line in response.iter_lines():
                if line.strip():
                    lines.append(json.loads(line))
                    me.begun.set()
        return lines

    return run


def _blocking(url: str, upstream: FakeUpstream) -> Callable[[Client], httpx.Response]:
    def run(me: Client) -> httpx.Response:
        me.begun.set()  # nothing to see before the end; the upstream count tells
        return httpx.post(url + "/chat/completions", json=chat_body(model="blocking"), timeout=30)

    return run


def _ws_chat(url: str) -> Callable[[Client], tuple[list[Any], int | None]]:
    def run(me: Client) -> tuple[list[Any], int | None]:
        messages: list[Any] = []
        with connect(ws_url(url, "/ws/chat"), open_timeout=10) as ws:
            ws.send(json.dumps({"type": "chat", "id": "w1", "request": chat_body()}))
            try:
                while True:
                    messages.append(json.loads(ws.recv(timeout=20)))
                    me.begun.set()
            except ConnectionClosed:
                pass
            return messages, _close_code(ws)

    return run


def _ws_monitoring(url: str) -> Callable[[Client], tuple[list[Any], int | None]]:
    def run(me: Client) -> tuple[list[Any], int | None]:
        messages: list[Any] = []
        with connect(ws_url(url, "/ws/monitoring"), open_timeout=10) as ws:
            try:
                while True:
                    messages.append(json.loads(ws.recv(timeout=20)))
                    me.begun.set()
            except ConnectionClosed:
                pass
            return messages, _close_code(ws)

    return run


def _close_code(ws: Connection) -> int | None:
    return ws.close_code


def _shutdown_error(event: Any) -> None:
    assert isinstance(event, dict) and event["error"]["code"] == SHUTTING_DOWN, event


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_shutdown_ends_every_request_in_its_protocol(
    connector_process: Callable[..., ConnectorProcess], upstream: FakeUpstream, sig: int
) -> None:
    upstream.scenario = "slow"  # 200 pieces 50 ms apart: still running after the grace
    server = connector_process(CONNECTOR_SHUTDOWN_GRACE=str(GRACE))
    url = server.url
    sse = [Client(_sse(url, "/chat/completions/stream", chat_body())) for _ in range(3)]
    v1 = Client(_sse(url, "/v1/chat/completions", chat_body(provider="openai", stream=True)))
    ndjson = Client(_ndjson(url, {"model": "gpt-oss:20b", "messages": chat_body()["messages"]}))
    messages_body = {"model": "ollama/gpt-oss:20b", "max_tokens": 999, "stream": True}
    anthropic = Client(_named_events(url, "/v1/messages", {**messages_body, **chat_body()}))
    responses = Client(
        _named_events(
            url, "/v1/responses", {"model": "ollama/gpt-oss:20b", "input": "Hi", "stream": True}
        )
    )
    blocking = Client(_blocking(url, upstream))
    ws_chat = Client(_ws_chat(url))
    monitoring = Client(_ws_monitoring(url))
    clients = [*sse, v1, ndjson, anthropic, responses, blocking, ws_chat, monitoring]
    for client in clients:
        client.start()
    for client in clients:
        assert client.begun.wait(20), "a request never started"
    assert upstream.wait_for(
        lambda: any(r.json.get("model") == "blocking" for r in upstream.requests_to("/api/chat"))
    )

    code, seconds = server.stop(sig)

    assert code == 0, server.log()[-3000:]
    assert seconds < GRACE + 1.0, seconds
    for client in [*sse]:
        events = client.outcome()
        assert "[DONE]" not in events
        _shutdown_error(events[-1])
        assert len(events) > 2  # it had been streaming
    _shutdown_error(v1.outcome()[-1])
    lines = ndjson.outcome()
    assert "error" in lines[-1] and "shutting down" in lines[-1]["error"], lines[-1]
    name, data = anthropic.outcome()[-1]
    assert name == "error" and "shutting down" in data["error"]["message"], (name, data)
    named = responses.outcome()
    errors = [data for name, data in named if name == "error"]
    assert errors and "shutting down" in json.dumps(errors[0]), named[-3:]
    assert named[-1][0] == "response.failed"
    response = blocking.outcome()
    assert response.status_code == 503
    assert response.json()["error"]["code"] == SHUTTING_DOWN
    messages, close_code = ws_chat.outcome()
    assert messages[-1]["type"] == "error" and messages[-1]["id"] == "w1"
    _shutdown_error(messages[-1])
    assert close_code == 1012  # "service restart": come back later
    watched, watch_code = monitoring.outcome()
    assert watched[0]["type"] == "snapshot" and watch_code == 1012

    # Every request in flight is on the books, as interrupted by the shutdown.
    records = server.rows("SELECT status, error_type FROM usage_record")
    assert len(records) == len(clients) - 1  # the monitoring socket is not a request
    assert set(records) == {("interrupted", SHUTTING_DOWN)}
    assert server.rows("SELECT count(*) FROM usage_inflight") == [(0,)]


def test_requests_that_finish_within_the_grace_complete(
    connector_process: Callable[..., ConnectorProcess], upstream: FakeUpstream
) -> None:
    upstream.scenario = "slow"
    upstream.slow_chunks = 10  # 0.5 s: well inside the grace
    server = connector_process(CONNECTOR_SHUTDOWN_GRACE="5")
    stream = Client(_sse(server.url, "/chat/completions/stream", chat_body()))
    stream.start()
    assert stream.begun.wait(20)

    code, seconds = server.stop(signal.SIGTERM)

    assert code == 0 and seconds < 5, (code, seconds)
    events = stream.outcome()
    assert events[-1] == "[DONE]" and events[-2]["choices"] == []
    assert server.rows("SELECT status FROM usage_record") == [("ok",)]
