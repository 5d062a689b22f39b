"""kill -9 under load: every response a client saw complete has its usage record,
every stream a client saw begin is on the books (completed or `interrupted`), and
the database is intact.

The server is a real `python -m connector serve` process on the same data directory
across rounds; each round kills it with SIGKILL at a random moment (a fixed seed, so
a failure reproduces) while blocking and streaming requests run concurrently.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from tests.fakes.upstream import FakeUpstream
from tests.reliability.conftest import ConnectorProcess
from tests.service.helpers import chat_body

ROUNDS = 3
WORKERS = 16
SEED = 20261201


@dataclass
class Seen:
    """What the clients saw, by request id."""

    completed: set[str] = field(default_factory=set)
    begun: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def complete(self, rid: str) -> None:
        with self.lock:
            self.completed.add(rid)

    def begin(self, rid: str) -> None:
        with self.lock:
            self.begun.add(rid)


def _blocking(client: httpx.Client, seen: Seen, provider: str) -> None:
    response = client.post("/chat/completions", json=chat_body(provider=provider))
    assert response.status_code == 200, response.text
    seen.complete(response.json()["id"])


def _streaming(client: httpx.Client, seen: Seen, provider: str) -> None:
    rid = None
    with client.stream(
        "POST", "/chat/completions/stream", json=chat_body(provider=provider)
    ) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                assert rid is not None
                seen.complete(rid)
                return
            event = json.loads(data)
            assert "error" not in event, event
            if rid is None:
                rid = event["id"]
                seen.begin(rid)


def _load(url: str, seen: Seen, stop: threading.Event, worker: int) -> None:
    kinds = (_blocking, _streaming)
    providers = ("ollama", "openai")
    with httpx.Client(base_url=url, timeout=30) as client:
        turn = worker
        while not stop.is_set():
            try:
                kinds[turn % 2](client, seen, providers[(turn // 2) % 2])
            except (httpx.HTTPError, OSError):
                return  # the server is gone
            except Exception as exc:  # reported by the test
                seen.failures.append(repr(exc)[:300])
                return
            turn += 1


def _warm_up(server: ConnectorProcess, seen: Seen) -> None:
    """One request per provider before the load: the first OpenAI request imports the
    SDK, which would otherwise hold up every request of a short round."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for provider in ("ollama", "openai"):
            _blocking(client, seen, provider)


def _check(server: ConnectorProcess, seen: Seen) -> int:
    """After a restart: the books against what the clients saw. Returns how many
    requests were recorded as interrupted."""
    records = dict(server.rows("SELECT request_id, status FROM usage_record"))
    lost = seen.completed - records.keys()
    assert not lost, f"{len(lost)} completed responses have no record: {sorted(lost)[:5]}"
    not_ok = {rid: records[rid] for rid in seen.completed if records[rid] != "ok"}
    assert not not_ok, not_ok
    unbooked = seen.begun - records.keys()
    assert not unbooked, f"{len(unbooked)} streams a client saw begin have no record"
    assert server.rows("SELECT count(*) FROM usage_inflight") == [(0,)]
    reasons = server.rows(
        "SELECT DISTINCT error_type FROM usage_record WHERE status = 'interrupted'"
    )
    assert reasons in ([], [("process_ended",)]), reasons
    assert server.rows("PRAGMA integrity_check") == [("ok",)]
    return sum(status == "interrupted" for status in records.values())


def test_sigkill_under_load_loses_no_served_request(
    connector_process: Callable[..., ConnectorProcess], upstream: FakeUpstream
) -> None:
    # Streams of ~13 pieces 2 ms apart: quick enough that completions are frequent (a
    # record still in a batch at the kill would show), slow enough that some streams
    # are always in flight.
    upstream.chunk_delay = 0.002
    rng = random.Random(SEED)
    seen = Seen()
    server = connector_process()
    for _ in range(ROUNDS):
        _warm_up(server, seen)
        stop = threading.Event()
        with ThreadPoolExecutor(WORKERS) as pool:
            for worker in range(WORKERS):
                pool.submit(_load, server.url, seen, stop, worker)
            time.sleep(rng.uniform(0.6, 1.6))  # a random moment of the load, by design
            server.kill()
            stop.set()
        server = connector_process()  # the same data directory
        assert not seen.failures, seen.failures[:3]
        _check(server, seen)
    interrupted = _check(server, seen)
    assert len(seen.completed) > ROUNDS * (2 + WORKERS), "the load never got going"
    # Not a tautology: streams were running at every kill, so some must be marked.
    assert interrupted > 0
