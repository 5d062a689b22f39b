"""Chunk and completion shapes, incremental delivery, OpenAI tool calls, reasoning
tokens and costs."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import DONE, chat_body, parse_sse, sse_events

PROVIDERS = [
    pytest.param({"provider": "ollama", "model": "gpt-oss:20b"}, id="ollama"),
    pytest.param({"provider": "openai", "model": "gpt-4o-mini"}, id="openai"),
]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


@pytest.mark.parametrize("target", PROVIDERS)
@pytest.mark.parametrize("path", ["/chat/completions/stream", "/v1/chat/completions"])
def test_chunk_shape(shared_live_server: str, target: dict[str, str], path: str) -> None:
    response = httpx.post(f"{shared_live_server}{path}", json=chat_body(**target, stream=True))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response)
    assert events[-1] == DONE
    chunks = [e for e in events if isinstance(e, dict)]
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["id"].startswith("chatcmpl-")
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert all(isinstance(c["created"], int) for c in chunks)
    assert all(
        c["model"] == target["model"] and c["provider"] == target["provider"] for c in chunks
    )
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    choices = [c["choices"][0] for c in chunks if c["choices"]]
    # OpenAI's chunk schema requires finish_reason on every choice (null until the end).
    assert all("finish_reason" in choice for choice in choices), choices[0]
    finishes = [choice["finish_reason"] for choice in choices]
    assert finishes[-1] == "stop" and all(f is None for f in finishes[:-1])
    final = chunks[-1]
    if path == "/v1/chat/completions":
        # The drop-in route sends the usage chunk only when asked, as OpenAI does.
        assert final["choices"] and final["usage"] is None
        assert all(c["choices"] for c in chunks)
    else:
        assert final["choices"] == [] and final["usage"]["total_tokens"] > 0


@pytest.mark.parametrize("target", PROVIDERS)
def test_drop_in_stream_sends_usage_when_asked(
    shared_live_server: str, target: dict[str, str]
) -> None:
    body = chat_body(**target, stream=True, stream_options={"include_usage": True})
    events = sse_events(httpx.post(f"{shared_live_server}/v1/chat/completions", json=body))
    assert events[-1] == DONE
    final = events[-2]
    assert final["choices"] == [] and final["usage"]["total_tokens"] > 0


@pytest.mark.parametrize("target", PROVIDERS)
def test_stream_is_delivered_incrementally(
    shared_live_server: str, upstream: FakeUpstream, target: dict[str, str]
) -> None:
    upstream.chunk_delay = 0.1
    arrivals: list[float] = []
    started = time.monotonic()
    with (
        httpx.Client(timeout=20) as client,
        client.stream(
            "POST", f"{shared_live_server}/chat/completions/stream", json=chat_body(**target)
        ) as response,
    ):
        for line in response.iter_lines():
            if line.startswith("data:"):
                arrivals.append(time.monotonic() - started)
    total = arrivals[-1]
    assert total >= 0.8, total  # the fake paces ~10 pieces 0.1 s apart
    # The first content arrives long before the stream ends: nothing buffers it.
    assert arrivals[1] < total / 2, arrivals


def test_openai_tool_call_deltas_are_assembled(
    shared_live_server: str, upstream: FakeUpstream
) -> None:
    body = chat_body(provider="openai", model="gpt-4o-mini", tools=TOOLS, tool_choice="auto")
    reply = httpx.post(f"{shared_live_server}/chat/completions", json=body)
    assert reply.status_code == 200, reply.text
    choice = reply.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert call["id"] == "call_fake0001"
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    sent = upstream.last("/v1/chat/completions").json
    assert sent["tools"] == TOOLS and sent["tool_choice"] == "auto"

    stream = httpx.post(f"{shared_live_server}/chat/completions/stream", json=body)
    events = parse_sse(stream.text.splitlines())
    pieces = [
        tc["function"].get("arguments") or ""
        for e in events
        if isinstance(e, dict) and e.get("choices")
        for tc in e["choices"][0]["delta"].get("tool_calls") or []
    ]
    assert json.loads("".join(pieces)) == {"city": "Paris"}


def test_openai_request_fields_are_forwarded(
    shared_live_server: str, upstream: FakeUpstream
) -> None:
    body = chat_body(
        provider="openai",
        model="gpt-4o-mini",
        temperature=0.3,
        top_p=0.5,
        max_completion_tokens=77,
        stop=["END"],
        seed=11,
        reasoning_effort="low",
        user="someone",
    )
    assert httpx.post(f"{shared_live_server}/chat/completions", json=body).status_code == 200
    sent: dict[str, Any] = upstream.last("/v1/chat/completions").json
    assert sent["model"] == "gpt-4o-mini"
    assert sent["temperature"] == 0.3 and sent["top_p"] == 0.5
    assert sent["max_completion_tokens"] == 77
    assert sent["stop"] == ["END"] and sent["seed"] == 11
    assert sent["reasoning_effort"] == "low"
    assert sent["user"] == "someone"  # unknown OpenAI fields pass through
    assert "provider" not in sent
    assert sent["messages"] == [{"role": "user", "content": "Hi"}]


def test_server_specific_fields_and_long_histories_reach_openai_compatible_servers(
    shared_live_server: str, upstream: FakeUpstream
) -> None:
    """llama.cpp and vLLM take sampling fields OpenAI lacks (top_k, min_p); they pass
    through untouched, as does a long conversation, whatever the client's stream_options."""
    history = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i}: " + "x" * i}
        for i in range(51)
    ]
    body = {
        "provider": "openai",
        "model": "local-model",
        "messages": history,
        "top_k": 40,
        "min_p": 0.05,
        "grammar_options": {"strict": True},
        "stream": True,
        "stream_options": {"include_usage": False},
    }
    reply = httpx.post(f"{shared_live_server}/chat/completions", json=body)
    assert reply.status_code == 200
    events = sse_events(reply)
    assert events[-1] == DONE
    # Not asked for, so not sent (as OpenAI does); the connector still asks upstream.
    assert not any(e != DONE and e.get("usage") for e in events)
    sent: dict[str, Any] = upstream.last("/v1/chat/completions").json
    assert sent["messages"] == history
    assert sent["top_k"] == 40 and sent["min_p"] == 0.05
    assert sent["grammar_options"] == {"strict": True}
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert sent["model"] == "local-model" and "provider" not in sent


def test_reasoning_tokens_reported_and_recorded(live_server: str, upstream: FakeUpstream) -> None:
    upstream.scenario = "reasoning"
    reply = httpx.post(
        f"{live_server}/chat/completions", json=chat_body(provider="openai", model="o4-mini")
    )
    usage = reply.json()["usage"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 64
    assert usage["completion_tokens"] == 74
    totals = httpx.get(f"{live_server}/usage").json()["totals"]
    assert totals["reasoning_tokens"] == 64


def test_costs_and_savings(live_server: str) -> None:
    paid = httpx.post(
        f"{live_server}/chat/completions", json=chat_body(provider="openai", model="gpt-4o-mini")
    ).json()
    assert paid["metrics"]["cost_usd"] > 0
    local = httpx.post(f"{live_server}/chat/completions", json=chat_body(provider="ollama")).json()
    assert local["metrics"]["cost_usd"] == 0
    # What the same tokens would have cost on the reference model (gpt-4o-mini).
    assert local["metrics"]["reference_cost_usd"] > 0
    totals = httpx.get(f"{live_server}/usage").json()["totals"]
    assert totals["cost_usd"] == pytest.approx(paid["metrics"]["cost_usd"])
    assert totals["saved_usd"] == pytest.approx(local["metrics"]["reference_cost_usd"])


def test_tokens_per_second_only_when_generation_can_be_timed(
    live_server: str, upstream: FakeUpstream
) -> None:
    """An answer that arrives all at once has no generation time to divide by: no rate
    rather than an absurd one. Paced tokens give a rate near the pace."""
    instant = httpx.post(f"{live_server}/chat/completions", json=chat_body()).json()
    assert instant["metrics"].get("tokens_per_s") is None

    upstream.chunk_delay = 0.02
    paced = httpx.post(f"{live_server}/chat/completions", json=chat_body()).json()
    metrics, usage = paced["metrics"], paced["usage"]
    window_s = (metrics["latency_ms"] - metrics["ttft_ms"]) / 1000
    assert window_s >= 0.1  # several tokens 20 ms apart
    assert metrics["tokens_per_s"] == pytest.approx(usage["completion_tokens"] / window_s, rel=0.1)
