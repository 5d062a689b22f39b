"""The embedded server thread: ready when /healthz answers, stops within a bounded
time even with open SSE streams and WebSockets."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import httpx
import pytest
import websockets.sync.client as ws_client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from desktop.ports import bind_listen_socket
from desktop.server import DEFAULT_GRACE_SECONDS, EmbeddedServer
from tests.desktop.helpers import port_open

if TYPE_CHECKING:
    from connector.config import Settings

STOP_BOUND = DEFAULT_GRACE_SECONDS + 3.0


async def _healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def _endless_sse(request: Request) -> StreamingResponse:
    async def events() -> AsyncIterator[bytes]:
        while True:
            yield b"data: {}\n\n"
            await asyncio.sleep(0.05)

    return StreamingResponse(events(), media_type="text/event-stream")


async def _endless_ws(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_json({"type": "tick"})
            await asyncio.sleep(0.05)
    except WebSocketDisconnect:
        return


def _app() -> Starlette:
    return Starlette(
        routes=[
            Route("/healthz", _healthz),
            Route("/sse", _endless_sse),
            WebSocketRoute("/ws", _endless_ws),
        ]
    )


def _start(app: object) -> EmbeddedServer:
    server = EmbeddedServer(app, bind_listen_socket("127.0.0.1", 0, fallback=False))
    server.start(timeout=20)
    return server


def test_start_waits_for_healthz_and_stop_closes_the_port() -> None:
    server = _start(_app())
    assert server.is_running()
    assert httpx.get(f"{server.base_url}/healthz", timeout=5).json() == {"status": "ok"}
    assert server.stop()
    assert not server.is_running()
    assert not port_open(server.port)


def test_stop_is_bounded_with_open_stream_and_websocket() -> None:
    server = _start(_app())
    got_sse = threading.Event()
    sse_ended = threading.Event()
    ws_ended = threading.Event()

    def read_sse() -> None:
        try:
            with httpx.stream("GET", f"{server.base_url}/sse", timeout=30) as resp:
                for _ in resp.iter_bytes():
                    got_sse.set()
        except httpx.HTTPError:
            pass
        sse_ended.set()

    def read_ws() -> None:
        try:
            with ws_client.connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=5) as ws:
                while True:
                    ws.recv(timeout=30)
        except Exception:
            pass
        ws_ended.set()

    threads = [
        threading.Thread(target=read_sse, daemon=True),
        threading.Thread(target=read_ws, daemon=True),
    ]
    for t in threads:
        t.start()
    assert got_sse.wait(10)
    time.sleep(0.3)  # the WebSocket is open and ticking too

    started = time.monotonic()
    assert server.stop()
    elapsed = time.monotonic() - started
    assert elapsed < STOP_BOUND, elapsed
    assert sse_ended.wait(5) and ws_ended.wait(5), "clients were not disconnected"
    assert not port_open(server.port)


def test_start_failure_is_reported() -> None:
    async def app(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.failed", "message": "boom"})

    server = EmbeddedServer(app, bind_listen_socket("127.0.0.1", 0, fallback=False))
    with pytest.raises(RuntimeError):
        server.start(timeout=10)
    assert server.stop()


# The real connector app in the embedded server.


def test_real_app_reports_the_port_it_listens_on(make_settings: Callable[..., Settings]) -> None:
    from connector.main import create_app

    sock = bind_listen_socket("127.0.0.1", 0, fallback=False)
    port = int(sock.getsockname()[1])
    settings = make_settings(port=port)
    server = EmbeddedServer(create_app(settings), sock)
    server.start(timeout=30)
    try:
        body = httpx.get(f"{server.base_url}/settings", timeout=10).json()
        assert body["listen"]["port"] == port
    finally:
        assert server.stop()


def test_real_app_stops_in_bounded_time_with_a_chat_stream_and_monitoring_socket(
    make_settings: Callable[..., Settings], upstream: object
) -> None:
    from connector.main import create_app

    upstream.scenario = "slow"  # type: ignore[attr-defined]
    server = _start(create_app(make_settings()))
    streaming = threading.Event()
    done = threading.Event()

    def chat() -> None:
        body = {"model": "gpt-oss:20b", "messages": [{"role": "user", "content": "hi"}]}
        try:
            with httpx.stream(
                "POST", f"{server.base_url}/chat/completions/stream", json=body, timeout=60
            ) as resp:
                for _ in resp.iter_lines():
                    streaming.set()
        except httpx.HTTPError:
            pass
        done.set()

    def monitor() -> None:
        try:
            with ws_client.connect(
                f"ws://127.0.0.1:{server.port}/ws/monitoring", open_timeout=5
            ) as ws:
                while True:
                    ws.recv(timeout=60)
        except Exception:
            pass

    threading.Thread(target=chat, daemon=True).start()
    threading.Thread(target=monitor, daemon=True).start()
    assert streaming.wait(15), "the chat stream did not start"
    started = time.monotonic()
    assert server.stop()
    assert time.monotonic() - started < STOP_BOUND
    assert done.wait(5)
    assert not port_open(server.port)
