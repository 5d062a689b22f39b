"""uvicorn, stopped gracefully: the server the CLI and the desktop app run.

uvicorn on its own closes WebSockets with 1012 at once and, after its grace,
cancels running responses mid-stream, so SSE clients see the connection cut with no
final frame and their records say `cancelled`. `GracefulServer` first stops
accepting, then lets the app's `ShutdownCoordinator` finish or end every running
request in its own protocol, flushes usage, and only then hands over to uvicorn's
own shutdown (which by then has only idle connections left to close).
"""

from __future__ import annotations

import logging
import signal
import socket
from typing import Any

import uvicorn

log = logging.getLogger(__name__)

# What uvicorn itself still waits for once the connector has ended every request.
UVICORN_GRACE_S = 1


class GracefulServer(uvicorn.Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Stop accepting first (uvicorn does it again; closing twice is harmless).
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        services = _services_of(self.config.app)
        if services is not None and not self.force_exit:
            try:
                await services.shutdown.drain()
                await services.usage.flush(1.0)
            except Exception:  # shutting down must go on whatever happened
                log.exception("Draining running requests failed")
        await super().shutdown(sockets)


def _services_of(app: Any) -> Any:
    state = getattr(app, "state", None)
    return getattr(state, "services", None)


def drain_grace(app: Any) -> float:
    """How long `app`'s running requests may take to finish on shutdown (0 for an app
    that is not the connector's)."""
    services = _services_of(app)
    return float(services.shutdown.grace) if services is not None else 0.0


def exit_cleanly_on_signals() -> None:
    """uvicorn re-raises the signal that stopped it once it has shut down, so the
    default action would end a gracefully stopped process with -15 (SIGTERM) or a
    KeyboardInterrupt traceback (SIGINT). A clean shutdown exits 0."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)


def run(app: Any, **config: Any) -> None:
    """`uvicorn.run(app, ...)` with the graceful shutdown above."""
    config.setdefault("timeout_graceful_shutdown", UVICORN_GRACE_S)
    server = GracefulServer(uvicorn.Config(app, **config))
    exit_cleanly_on_signals()
    server.run()
