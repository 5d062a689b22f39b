"""The listening socket: the configured port when free, another one when not; and
the window's stable address (a fallback port remembered across launches)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from desktop.ports import PortMemory, bind_listen_socket, bind_stable_socket, socket_port
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


def _one_launch(configured: int, memory: PortMemory) -> int:
    sock = bind_stable_socket("127.0.0.1", configured, memory)
    try:
        return socket_port(sock)
    finally:
        sock.close()


def test_stable_port_is_the_configured_one_when_free(tmp_path: Path) -> None:
    memory = PortMemory(tmp_path)
    port = free_port()
    assert _one_launch(port, memory) == port
    assert _one_launch(port, memory) == port
    assert not memory.path.exists()


def test_a_fallback_is_picked_once_and_kept(tmp_path: Path) -> None:
    memory = PortMemory(tmp_path)
    taken = bind_listen_socket("127.0.0.1", 0, fallback=False)
    configured = socket_port(taken)
    try:
        fallback = _one_launch(configured, memory)
        assert fallback != configured
        assert memory.read(configured) == fallback
        assert _one_launch(configured, memory) == fallback
    finally:
        taken.close()
    # The configured port is free again, but programs know the fallback: keep it.
    assert _one_launch(configured, memory) == fallback


def test_a_remembered_port_now_taken_gives_way_to_the_configured_one(tmp_path: Path) -> None:
    memory = PortMemory(tmp_path)
    configured = free_port()
    squatter = bind_listen_socket("127.0.0.1", 0, fallback=False)
    try:
        memory.write(configured, socket_port(squatter))
        assert _one_launch(configured, memory) == configured
        assert not memory.path.exists()
    finally:
        squatter.close()


def test_memory_of_another_configured_port_or_garbage_is_ignored(tmp_path: Path) -> None:
    memory = PortMemory(tmp_path)
    memory.write(1234, 4321)
    assert memory.read(1235) is None
    assert memory.read(1234) == 4321
    memory.path.write_text("{not json")
    assert memory.read(1234) is None
    configured = free_port()
    assert _one_launch(configured, memory) == configured
