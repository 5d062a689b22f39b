"""Run an ASGI app under uvicorn in a background thread on a free loopback port.

Used for the fake upstreams and for the connector itself (the `live_server` fixture),
so every test talks real HTTP over 127.0.0.1.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from types import TracebackType
from typing import Any, Literal

import httpx
import uvicorn

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Poll `url`/healthz until it answers 200. RuntimeError when the server process
    exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server at {url} did not become healthy in {timeout:g} s")


def closed_port_url() -> str:
    """A loopback URL where connections are refused: an upstream that is down."""
    return f"http://{LOOPBACK}:{free_port()}"


class _ThreadServer(uvicorn.Server):
    # Signals belong to the main thread (pytest's); the thread must not claim them.
    def install_signal_handlers(self) -> None:
        return None


class ServerThread:
    """uvicorn serving `app` in a daemon thread. The listening socket is bound before
    the thread starts, so `url` is valid (connections queue) as soon as it returns."""

    def __init__(
        self,
        app: Any,
        *,
        lifespan: Literal["auto", "on", "off"] = "auto",
        loop: str = "auto",
        start_timeout: float = 20.0,
        graceful_timeout: int = 2,
        log_level: str = "warning",
    ) -> None:
        # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections
        # only for sockets whose proto says TCP; with proto 0 every keep-alive response
        # waits ~40 ms for the client's delayed ACK (Nagle).
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((LOOPBACK, 0))
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://{LOOPBACK}:{self.port}"
        config = uvicorn.Config(
            app,
            lifespan=lifespan,
            loop=loop,
            log_config=None,  # leave logging to pytest (caplog) and the app
            log_level=log_level,
            access_log=False,
            timeout_graceful_shutdown=graceful_timeout,
            ws_ping_interval=None,
        )
        self.server = _ThreadServer(config)
        self._start_timeout = start_timeout
        self._thread = threading.Thread(target=self._run, name=f"uvicorn-{self.port}", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self._sock])
        except BaseException as exc:  # surfaced by start()
            self._error = exc

    def start(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + self._start_timeout
        while not self.server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"server on {self.url} failed to start") from self._error
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server on {self.url} did not start in time")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self._thread.join(timeout / 2)
        if self._thread.is_alive():
            self.server.force_exit = True
            self._thread.join(timeout / 2)
        self._sock.close()
        if self._thread.is_alive():
            raise RuntimeError(f"server on {self.url} did not stop")

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
