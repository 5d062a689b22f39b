"""The listening socket, bound before the server starts.

Binding here (instead of letting uvicorn bind) closes the race between "is the port
free?" and "take it", and tells us the real port before the app is built, so the
settings the app reports (`listen.port`) are the truth.
"""

from __future__ import annotations

import errno
import socket
import sys


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
        if not fallback or exc.errno not in (errno.EADDRINUSE, errno.EACCES, 10048, 10013):
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
