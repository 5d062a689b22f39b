"""The listening socket: the configured port when free, another one when not."""

from __future__ import annotations

import socket

import pytest

from desktop.ports import bind_listen_socket, socket_port
from tests.fakes.server import free_port


def test_configured_port_is_used_when_free() -> None:
    port = free_port()
    sock = bind_listen_socket("127.0.0.1", port, fallback=True)
    try:
        assert socket_port(sock) == port
    finally:
        sock.close()


def test_busy_port_falls_back_to_a_free_one() -> None:
    taken = bind_listen_socket("127.0.0.1", 0, fallback=False)
    port = socket_port(taken)
    try:
        sock = bind_listen_socket("127.0.0.1", port, fallback=True)
        try:
            assert socket_port(sock) not in (port, 0)
            with socket.create_connection(("127.0.0.1", socket_port(sock)), timeout=2):
                pass  # it listens
        finally:
            sock.close()
    finally:
        taken.close()


def test_busy_port_without_fallback_raises() -> None:
    taken = bind_listen_socket("127.0.0.1", 0, fallback=False)
    try:
        with pytest.raises(OSError):
            bind_listen_socket("127.0.0.1", socket_port(taken), fallback=False)
    finally:
        taken.close()


def test_listening_socket_says_it_is_tcp() -> None:
    # asyncio turns on TCP_NODELAY for accepted connections only when proto is TCP.
    sock = bind_listen_socket("127.0.0.1", 0, fallback=False)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
