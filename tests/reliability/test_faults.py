"""Upstream faults: each ends with a clear error in the client's protocol, a usage
record, and no connection left behind; a restarted upstream costs nothing."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from connector.config import Settings
from tests.fakes.faults import FaultyUpstream
from tests.fakes.server import ServerThread
from tests.service.helpers import chat_body, sse_events, wait_until

PROVIDERS = ["ollama", "openai"]


@pytest.fixture(scope="module")
def faulty() -> Iterator[FaultyUpstream]:
    with FaultyUpstream() as up:
        yield up


@pytest.fixture
def fault_server(
    faulty: FaultyUpstream,
    make_settings: Callable[..., Settings],
    serve: Callable[[Settings], str],
) -> Callable[..., str]:
    """A connector whose upstreams are the faulty server."""
    faulty.fault = None

    def start(**overrides: Any) -> str:
        return serve(
            make_settings(
                ollama_base_url=faulty.ollama_url, openai_base_url=faulty.openai_url, **overrides
            )
        )

    return start


def _records(url: str) -> list[dict[str, Any]]:
    return list(httpx.get(f"{url}/usage", timeout=10).json()["recent"])


def _stream_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The error a stream ended with: its last SSE frame once it had started, or the
    response itself when it failed before the first chunk (OpenAI's first line is an
    empty role delta, so a fault right after it comes before any output)."""
    if response.status_code == 200:
        events = sse_events(response)
        assert "[DONE]" not in events
        return dict(events[-1]["error"])
    assert response.status_code == status, response.text
    return dict(response.json()["error"])


def _no_connection_left(up: FaultyUpstream) -> bool:
    return bool(wait_until(lambda: up.open_connections == 0, timeout=5))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_reset_mid_stream(
    fault_server: Callable[..., str], faulty: FaultyUpstream, provider: str
) -> None:
    url = fault_server()
    faulty.fault = "reset"
    response = httpx.post(
        f"{url}/chat/completions/stream", json=chat_body(provider=provider), timeout=20
    )
    error = _stream_error(response, 502)
    assert error["type"] == "upstream_error" and "broke" in error["message"], error
    assert [r["status"] for r in _records(url)] == ["error"]
    assert _no_connection_left(faulty)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_bytes_that_are_not_json(
    fault_server: Callable[..., str], faulty: FaultyUpstream, provider: str
) -> None:
    url = fault_server()
    faulty.fault = "garbage"
    response = httpx.post(
        f"{url}/chat/completions/stream", json=chat_body(provider=provider), timeout=20
    )
    error = _stream_error(response, 502)
    assert error["type"] == "upstream_error" and "not JSON" in error["message"], error
    assert "502 Bad Gateway" in error["message"]  # what it sent, to tell proxies apart
    assert [r["status"] for r in _records(url)] == ["error"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_accepts_then_says_nothing(
    fault_server: Callable[..., str], faulty: FaultyUpstream, provider: str
) -> None:
    # Nothing at all: the first-token allowance (the read timeout) runs out.
    url = fault_server(read_timeout=0.5, idle_timeout=30)
    faulty.fault = "silent"
    started = time.monotonic()
    response = httpx.post(f"{url}/chat/completions", json=chat_body(provider=provider), timeout=20)
    assert response.status_code == 504, response.text
    assert time.monotonic() - started < 5
    assert [r["error_type"] for r in _records(url)] == ["upstream_timeout"]
    assert _no_connection_left(faulty)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_stalls_mid_stream_under_the_idle_timeout(
    fault_server: Callable[..., str], faulty: FaultyUpstream, provider: str
) -> None:
    # A long first-token allowance does not keep a stream that started and went quiet.
    url = fault_server(read_timeout=600, idle_timeout=0.5)
    faulty.fault = "stall"
    started = time.monotonic()
    response = httpx.post(
        f"{url}/chat/completions/stream", json=chat_body(provider=provider), timeout=20
    )
    assert time.monotonic() - started < 5
    error = _stream_error(response, 504)
    assert error["type"] == "upstream_timeout" and "CONNECTOR_IDLE_TIMEOUT" in error["message"]
    assert [r["error_type"] for r in _records(url)] == ["upstream_timeout"]
    assert _no_connection_left(faulty)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_upstream_restarted_between_two_requests(
    fault_server: Callable[..., str], faulty: FaultyUpstream, provider: str
) -> None:
    url = fault_server()
    with httpx.Client(base_url=url, timeout=20) as client:
        assert (
            client.post("/chat/completions", json=chat_body(provider=provider)).status_code == 200
        )
        seen = faulty.connections_seen
        faulty.restart()  # the pooled connection now dies on its next request
        second = client.post("/chat/completions", json=chat_body(provider=provider))
    assert second.status_code == 200, second.text
    assert faulty.connections_seen == seen + 1  # retried once, on a fresh connection
    assert [r["status"] for r in _records(url)] == ["ok", "ok"]


def _health(url: str) -> dict[str, Any]:
    return dict(httpx.get(f"{url}/healthz", timeout=10).json())


def test_database_locked_keeps_records_and_chats_working(
    live_server: str, settings: Settings
) -> None:
    db = sqlite3.connect(settings.data_dir / "connector.db", isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
    try:
        started = time.monotonic()
        for _ in range(3):
            reply = httpx.post(f"{live_server}/chat/completions", json=chat_body(), timeout=20)
            assert reply.status_code == 200, reply.text
        assert time.monotonic() - started < 8  # waited for the database at most once
        health = wait_until(lambda: _health(live_server)["status"] == "degraded", timeout=10)
        assert health, _health(live_server)
        assert "usage records" in _health(live_server)["problems"][0]
    finally:
        db.execute("ROLLBACK")
        db.close()
    assert wait_until(lambda: _health(live_server) == {"status": "ok"}, timeout=15)
    assert [r["status"] for r in _records(live_server)] == ["ok"] * 3


def test_disk_full_keeps_records_and_chats_working(settings: Settings) -> None:
    from connector.main import create_app

    app = create_app(settings)
    engine = app.state.services.engine

    def full(dbapi_connection: Any, _record: Any) -> None:
        # SQLite's own "database or disk is full": the file may not grow past its size.
        cursor = dbapi_connection.cursor()
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {pages}")
        cursor.close()

    with ServerThread(app, lifespan="on") as server, httpx.Client(timeout=20) as client:
        url = server.url
        event.listen(engine, "connect", full)
        engine.dispose()  # every new connection is capped
        sent = 0
        for _ in range(200):  # until the free space in the last pages is used up
            reply = client.post(f"{url}/chat/completions", json=chat_body(model="m" * 150))
            assert reply.status_code == 200, reply.text
            sent += 1
            if _health(url)["status"] == "degraded":
                break
        health = _health(url)
        assert health["status"] == "degraded" and "full" in health["problems"][0], health
        for _ in range(3):  # chats go on, answered at once
            assert client.post(f"{url}/chat/completions", json=chat_body()).status_code == 200
            sent += 1
        event.remove(engine, "connect", full)
        engine.dispose()  # space again: the kept records are written
        assert wait_until(lambda: _health(url) == {"status": "ok"}, timeout=15)
        assert wait_until(lambda: len(_records(url)) == min(sent, 50), timeout=10)
        assert httpx.get(f"{url}/usage").json()["totals"]["requests"] == sent
