"""Usage records and /ws/monitoring: every request is recorded and published, including
errors and client disconnects."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

# `with connect(...)` gives the base Connection (websockets 16 types __enter__ so).
from websockets.sync.client import connect
from websockets.sync.connection import Connection

from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import chat_body, wait_until, ws_url

# Prompt + completion tokens of the recorded exchanges the fake serves.
OLLAMA_TOKENS = (26, 282)
OPENAI_TOKENS = (19, 10)


def _recv(ws: Connection, timeout: float = 10.0) -> dict[str, Any]:
    message = json.loads(ws.recv(timeout=timeout))
    assert isinstance(message, dict)
    return message


def _next_record(ws: Connection) -> dict[str, Any]:
    for _ in range(200):
        message = _recv(ws)
        if message["type"] == "record":
            return message
        assert message["type"] in ("in_flight", "snapshot"), message
    raise AssertionError("no record message")


def test_record_arrives_on_monitoring_socket(live_server: str, upstream: FakeUpstream) -> None:
    with connect(ws_url(live_server, "/ws/monitoring"), open_timeout=5) as ws:
        snapshot = _recv(ws)
        assert snapshot["type"] == "snapshot"
        assert snapshot["usage"]["totals"]["requests"] == 0
        assert snapshot["in_flight"] == 0

        reply = httpx.post(
            f"{live_server}/chat/completions", json=chat_body(provider="ollama", model="llama3.2")
        )
        assert reply.status_code == 200
        message = _next_record(ws)
        record = message["record"]
        assert record["provider"] == "ollama"
        assert record["model"] == "llama3.2"
        assert record["status"] == "ok"
        assert record["surface"] == "rest"
        assert (record["prompt_tokens"], record["completion_tokens"]) == OLLAMA_TOKENS
        assert record["total_tokens"] == sum(OLLAMA_TOKENS)
        assert record["latency_ms"] > 0
        assert message["totals"]["requests"] == 1
        assert message["totals"]["total_tokens"] == sum(OLLAMA_TOKENS)
        assert message["in_flight"] == 0

        # An upstream error is recorded and published too.
        upstream.scenario = "server_error"
        failed = httpx.post(f"{live_server}/chat/completions", json=chat_body(provider="openai"))
        assert failed.status_code == 502
        error_record = _next_record(ws)["record"]
        assert error_record["status"] == "error"
        assert error_record["provider"] == "openai"
        assert error_record["error_type"]


def test_fifty_concurrent_requests_none_lost(live_server: str, upstream: FakeUpstream) -> None:
    upstream.chunk_delay = 0.002
    upstream.model_scenarios = {"missing-model": "not_found", "broken-model": "midstream_error"}
    plan: list[tuple[str, dict[str, Any]]] = []
    for i in range(50):
        if i % 10 == 0:
            plan.append(("error", chat_body(provider="ollama", model="missing-model")))
        elif i % 10 == 1:
            body = chat_body(provider="ollama", model="broken-model", stream=True)
            plan.append(("error", body))
        elif i % 2 == 0:
            plan.append(("ollama", chat_body(provider="ollama", model="gpt-oss:20b")))
        else:
            body = chat_body(provider="openai", model="gpt-4o-mini", stream=i % 3 == 0)
            plan.append(("openai", body))

    async def run_all() -> list[int]:
        async with httpx.AsyncClient(base_url=live_server, timeout=30) as client:

            async def one(body: dict[str, Any]) -> int:
                response = await client.post("/chat/completions", json=body)
                return response.status_code

            return await asyncio.gather(*(one(body) for _, body in plan))

    with connect(ws_url(live_server, "/ws/monitoring"), open_timeout=5) as ws:
        assert _recv(ws)["type"] == "snapshot"
        # In a thread of its own: other tiers (Playwright's sync API) may hold an
        # event loop in this one.
        with ThreadPoolExecutor(1) as pool:
            statuses = pool.submit(asyncio.run, run_all()).result(timeout=120)
        records = [_next_record(ws)["record"] for _ in range(50)]

    assert statuses.count(404) == 5
    assert statuses.count(200) == 45  # the mid-stream error is a 200 SSE with an error frame
    usage = httpx.get(f"{live_server}/usage").json()
    totals = usage["totals"]
    assert totals["requests"] == 50
    assert totals["errors"] == 10
    assert totals["ok"] == 40
    ollama_ok = sum(1 for kind, _ in plan if kind == "ollama")
    openai_ok = sum(1 for kind, _ in plan if kind == "openai")
    assert totals["prompt_tokens"] == ollama_ok * OLLAMA_TOKENS[0] + openai_ok * OPENAI_TOKENS[0]
    assert totals["completion_tokens"] == (
        ollama_ok * OLLAMA_TOKENS[1] + openai_ok * OPENAI_TOKENS[1]
    )
    # The published records add up to the stored totals: none lost on either side.
    assert len({r["request_id"] for r in records}) == 50
    for field in ("prompt_tokens", "completion_tokens", "total_tokens"):
        assert sum(r[field] for r in records) == totals[field], field
    assert sum(1 for r in records if r["status"] == "error") == totals["errors"]
    assert sum(m["requests"] for m in usage["by_model"]) == 50
    assert sum(m["total_tokens"] for m in usage["by_model"]) == totals["total_tokens"]


def test_client_disconnect_mid_sse_is_recorded_cancelled(
    live_server: str, upstream: FakeUpstream
) -> None:
    upstream.scenario = "slow"
    with httpx.Client(base_url=live_server, timeout=10) as client:
        with client.stream(
            "POST", "/chat/completions/stream", json=chat_body(provider="ollama")
        ) as response:
            assert response.status_code == 200
            seen = 0
            for line in response.iter_lines():
                if line.startswith("data:"):
                    seen += 1
                if seen >= 3:
                    break
        # Leaving the block closed the connection mid-stream.
    assert upstream.wait_cancelled(1, timeout=5), "the upstream request kept running"

    def cancelled_records() -> list[dict[str, Any]]:
        recent = httpx.get(f"{live_server}/usage").json()["recent"]
        return [r for r in recent if r["status"] == "cancelled"]

    records = wait_until(cancelled_records, timeout=5)
    assert len(records) == 1
    assert records[0]["surface"] == "sse"
    assert records[0]["provider"] == "ollama"
    totals = httpx.get(f"{live_server}/usage").json()["totals"]
    assert totals["cancelled"] == 1 and totals["requests"] == 1


def test_openai_client_disconnect_cancels_upstream(
    live_server: str, upstream: FakeUpstream
) -> None:
    upstream.scenario = "slow"
    with (
        httpx.Client(base_url=live_server, timeout=10) as client,
        client.stream(
            "POST",
            "/v1/chat/completions",
            json=chat_body(provider="openai", model="gpt-4o-mini", stream=True),
        ) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data:"):
                break
    assert upstream.wait_cancelled(1, timeout=5)
    records = wait_until(
        lambda: [
            r
            for r in httpx.get(f"{live_server}/usage").json()["recent"]
            if r["status"] == "cancelled"
        ]
    )
    assert records and records[0]["surface"] == "v1"


def test_in_flight_is_published(live_server: str, upstream: FakeUpstream) -> None:
    upstream.scenario = "slow"
    with connect(ws_url(live_server, "/ws/monitoring"), open_timeout=5) as ws:
        assert _recv(ws)["type"] == "snapshot"
        with (
            httpx.Client(base_url=live_server, timeout=10) as client,
            client.stream("POST", "/chat/completions/stream", json=chat_body()) as response,
        ):
            for line in response.iter_lines():
                if line.startswith("data:"):
                    break
            counts = []
            for _ in range(20):
                message = _recv(ws)
                counts.append(message.get("in_flight"))
                if message.get("in_flight") == 1:
                    break
            assert 1 in counts, counts
        record = _next_record(ws)
        assert record["record"]["status"] == "cancelled"
        assert record["in_flight"] == 0
