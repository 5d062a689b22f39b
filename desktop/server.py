"""The connector's uvicorn server in a background thread.

The GUI toolkit owns the main thread (Cocoa and Qt insist), so the server runs beside
it with its own event loop. Stopping is bounded: uvicorn asks open connections
(SSE streams, WebSockets) to finish, waits at most `grace` seconds, then cancels them;
if even that hangs, `force_exit` cuts the wait short.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from desktop.ports import socket_port

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger(__name__)

DEFAULT_GRACE_SECONDS = 3


class ServerStartError(RuntimeError):
    """The server thread ended, or /healthz did not answer, before the deadline."""


class EmbeddedServer:
    """uvicorn on an already-listening socket, in a daemon thread.

    `build` (instead of `app`) makes the app inside the thread: importing and setting
    up the connector then overlaps with the window's start-up, and requests that
    arrive early wait in the socket's backlog until uvicorn accepts them.
    """

    def __init__(
        self,
        app: Any | None,
        sock: socket.socket,
        *,
        build: Callable[[], Any] | None = None,
        grace: int = DEFAULT_GRACE_SECONDS,
        log_level: str = "info",
    ) -> None:
        if (app is None) == (build is None):
            raise ValueError("give either app or build")
        self.sock = sock
        self.host = str(sock.getsockname()[0])
        self.port = socket_port(sock)
        self.grace = grace
        self._log_level = log_level
        self._build: Callable[[], Any] = build if build is not None else (lambda: app)
        self._server: uvicorn.Server | None = None
        self._stop_requested = False
        self._thread = threading.Thread(target=self._run, name="connector-server", daemon=True)
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def _run(self) -> None:
        try:
            # Imported here, in the server's thread: uvicorn (with asyncio and click) is
            # not on the window's path to the screen.
            import uvicorn

            from connector.serving import GracefulServer

            config = uvicorn.Config(
                self._build(),
                host=self.host,
                port=self.port,
                # Logging is configured once by the launcher (rotating file); uvicorn's
                # own dictConfig would replace it and write to a console a GUI app lacks.
                log_config=None,
                log_level=self._log_level,
                timeout_graceful_shutdown=self.grace,
                lifespan="on",
            )
            # Ends running requests in their own protocol before uvicorn closes them.
            self._server = GracefulServer(config)
            if self._stop_requested:
                return
            self._server.run(sockets=[self.sock])
        except BaseException as exc:  # the thread must not die silently
            self._error = exc
            log.exception("server thread crashed")

    def launch(self) -> None:
        """Start the thread without waiting (see wait_ready)."""
        self._thread.start()

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Return once the server runs and /healthz answers 200."""
        deadline = time.monotonic() + timeout
        while self._server is None or not self._server.started:
            if not self._thread.is_alive():
                raise ServerStartError(f"the server stopped during start-up: {self._error!r}")
            if time.monotonic() > deadline:
                raise ServerStartError(f"the server did not start within {timeout:.0f} s")
            time.sleep(0.01)
        wait_healthy(self.base_url, max(0.5, deadline - time.monotonic()))

    def start(self, timeout: float = 30.0) -> None:
        """Start serving and return once /healthz answers 200."""
        self.launch()
        self.wait_ready(timeout)

    def is_running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float | None = None) -> bool:
        """Ask the server to exit and wait for it; True when the thread ended."""
        self._stop_requested = True
        if self._thread.ident is None or not self._thread.is_alive():
            self.sock.close()
            return True
        from connector.serving import drain_grace

        app = self._server.config.app if self._server is not None else None
        limit = self.grace + drain_grace(app) + 2.0 if timeout is None else timeout
        deadline = time.monotonic() + limit
        # Still building the app: wait for uvicorn to exist so it can be told to exit.
        while self._server is None and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread.is_alive() and self._server is not None:
            log.warning("server still running %.1f s after the stop request; forcing", limit)
            self._server.force_exit = True
            self._thread.join(2.0)
        stopped = not self._thread.is_alive()
        if stopped:
            self.sock.close()
        return stopped


def wait_healthy(base_url: str, timeout: float) -> dict[str, Any]:
    """Poll GET /healthz until it answers 200 (bounded by `timeout`)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2.0) as resp:
                if resp.status == 200:
                    body: dict[str, Any] = json.loads(resp.read() or b"{}")
                    return body
        except (OSError, urllib.error.URLError, ValueError) as exc:
            last = exc
        time.sleep(0.05)
    raise ServerStartError(f"{base_url}/healthz did not answer within {timeout:.0f} s: {last!r}")
