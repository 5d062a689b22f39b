"""The listening socket, bound before the server starts.

Binding here (instead of letting uvicorn bind) closes the race between "is the port
free?" and "take it", and tells us the real port before the app is built, so the
settings the app reports (`listen.port`) are the truth.

The window keeps one address across launches, because programs are configured with
it: the configured port; when something else holds that, a free port picked once and
remembered in `<data dir>/desktop-port.json`, which later launches try first.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import sys
from pathlib import Path

PORT_MEMORY_NAME = "desktop-port.json"
_IN_USE = (errno.EADDRINUSE, errno.EACCES, 10048, 10013)

log = logging.getLogger(__name__)


def _new_socket(host: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only when
    # the listening socket says it is TCP, and without it keep-alive responses on the
    # plain asyncio loop (Windows) wait ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if sys.platform == "win32":
        # On Windows SO_REUSEADDR lets another process steal a bound port; this is the
        # option that gives POSIX-like "in use means in use".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)  # type: ignore[attr-defined]
    else:
        # Lets a restarted app rebind while old connections sit in TIME_WAIT; a port
        # with a live listener still refuses.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return sock


def bind_listen_socket(host: str, port: int, *, fallback: bool) -> socket.socket:
    """A listening socket on (host, port). When the port is taken and `fallback` is
    true, a free port chosen by the OS instead; otherwise the OSError propagates."""
    bind_host = host.strip("[]")
    sock = _new_socket(bind_host)
    try:
        sock.bind((bind_host, port))
    except OSError as exc:
        sock.close()
        if not fallback or exc.errno not in _IN_USE:
            raise
        sock = _new_socket(bind_host)
        sock.bind((bind_host, 0))
    sock.listen(2048)
    sock.set_inheritable(False)
    return sock


def socket_port(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def port_is_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on (host, port)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class PortMemory:
    """The port a window picked when its configured one was held by something else."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / PORT_MEMORY_NAME

    def read(self, configured: int) -> int | None:
        """The remembered port, if it was picked for this same configured port."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            port, was = int(raw["port"]), int(raw["configured"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return port if was == configured and 0 < port <= 65535 else None

    def write(self, configured: int, port: int) -> None:
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps({"configured": configured, "port": port}), encoding="utf-8")
        os.replace(tmp, self.path)

    def forget(self) -> None:
        self.path.unlink(missing_ok=True)


def bind_stable_socket(host: str, configured: int, memory: PortMemory) -> socket.socket:
    """The window's socket: the remembered port first, then the configured one, else a
    free one, remembered for next time."""
    remembered = memory.read(configured)
    for port in dict.fromkeys(p for p in (remembered, configured) if p):
        try:
            sock = bind_listen_socket(host, port, fallback=False)
        except OSError as exc:
            if exc.errno not in _IN_USE:
                raise
            log.info("port %d is taken", port)
            continue
        if port == configured:
            memory.forget()
        return sock
    sock = bind_listen_socket(host, 0, fallback=False)
    memory.write(configured, socket_port(sock))
    log.info(
        "port %d is held by another program; using %d, and again at the next launches",
        configured,
        socket_port(sock),
    )
    return sock
