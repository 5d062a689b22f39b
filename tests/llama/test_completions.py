"""Blocking and streaming completions through the connector against a real llama-server:
the usage the connector reports is the server's own, and tokens stream as they are made."""

from __future__ import annotations

import httpx

from tests.llama.helpers import (
    DONE,
    LONG_PROMPT,
    SHORT_PROMPT,
    body,
    latest_records,
    read_stream,
    upstream_body,
    usage_numbers,
)
from tests.llama.server import LlamaServer
from tests.service.helpers import wait_until


def test_blocking_usage_equals_what_the_server_reported(connector: str, llama: LlamaServer) -> None:
    request = body(SHORT_PROMPT, max_tokens=32)
    direct = llama.chat(upstream_body(request))
    # The prompt ends by itself well before max_tokens, so the count is the model's own.
    assert direct["choices"][0]["finish_reason"] == "stop", direct
    assert direct["usage"]["completion_tokens"] < 32

    response = httpx.post(f"{connector}/chat/completions", json=request, timeout=120)
    assert response.status_code == 200, response.text
    completion = response.json()
    assert completion["object"] == "chat.completion"
    assert completion["provider"] == "openai"
    assert completion["model"] == llama.model
    choice = completion["choices"][0]
    assert choice["finish_reason"] == "stop"
    # Greedy decoding with a fixed seed: the same words, the same counts.
    assert choice["message"]["content"] == direct["choices"][0]["message"]["content"]
    assert "Paris" in choice["message"]["content"]
    assert usage_numbers(completion["usage"]) == usage_numbers(direct["usage"])
    assert completion["usage"]["total_tokens"] == (
        completion["usage"]["prompt_tokens"] + completion["usage"]["completion_tokens"]
    )
    metrics = completion["metrics"]
    assert 0 < metrics["ttft_ms"] <= metrics["latency_ms"]
    assert metrics["cost_usd"] == 0.0  # not an OpenAI price-listed model

    record = latest_records(connector)[0]
    assert record["request_id"] == completion["id"]
    assert (record["status"], record["surface"], record["provider"], record["model"]) == (
        "ok",
        "rest",
        "openai",
        llama.model,
    )
    assert usage_numbers(record) == usage_numbers(direct["usage"])


def test_length_limit_is_passed_through(connector: str, llama: LlamaServer) -> None:
    request = body(LONG_PROMPT, max_tokens=12)
    response = httpx.post(f"{connector}/v1/chat/completions", json=request, timeout=120)
    assert response.status_code == 200, response.text
    completion = response.json()
    assert completion["choices"][0]["finish_reason"] == "length"
    assert completion["usage"]["completion_tokens"] == 12
    direct = llama.chat(upstream_body(request))
    assert usage_numbers(completion["usage"]) == usage_numbers(direct["usage"])
    assert latest_records(connector)[0]["surface"] == "v1"


def test_sse_first_token_arrives_long_before_the_last(connector: str, llama: LlamaServer) -> None:
    max_tokens = 96
    request = body(LONG_PROMPT, max_tokens=max_tokens)
    before = llama.metrics()["tokens_predicted_seconds_total"]
    with httpx.Client(timeout=120) as client:
        timed = read_stream(client, f"{connector}/chat/completions/stream", request)
    # How long the server spent generating this very answer (counted when its slot
    # is released, which may come just after the last byte was sent).
    generation_s = wait_until(
        lambda: llama.metrics()["tokens_predicted_seconds_total"] - before, timeout=5
    )
    assert generation_s > 0

    events = timed.events
    assert events[-1] == DONE
    usage_chunk = events[-2]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["completion_tokens"] == max_tokens
    assert usage_chunk["metrics"]["ttft_ms"] > 0
    chunks = events[:-2]
    assert all(e["object"] == "chat.completion.chunk" for e in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"

    times = timed.content_times()
    # About one frame per generated token, not one buffered blob.
    assert len(times) >= max_tokens // 2, len(times)
    # The first token reached the client while the model was still generating the rest:
    # a relay that buffered would deliver first and last together. Measured against
    # the server's own generation time, so it holds on fast and slow machines alike.
    spread = times[-1] - times[0]
    assert spread > 0.5 * generation_s, (spread, generation_s)

    direct = llama.chat(upstream_body(request))
    assert usage_numbers(usage_chunk["usage"]) == usage_numbers(direct["usage"])
    assert timed.text == direct["choices"][0]["message"]["content"]
    record = latest_records(connector)[0]
    assert (record["status"], record["surface"]) == ("ok", "sse")
    assert record["completion_tokens"] == max_tokens


def test_stream_true_on_chat_completions_streams_too(connector: str) -> None:
    # The usage chunk comes only when asked for, as OpenAI sends it.
    asked = body(SHORT_PROMPT, max_tokens=32, stream=True, stream_options={"include_usage": True})
    with httpx.Client(timeout=120) as client:
        timed = read_stream(client, f"{connector}/chat/completions", asked)
        plain = read_stream(
            client, f"{connector}/chat/completions", {**asked, "stream_options": None}
        )
    assert timed.events[-1] == DONE
    assert timed.events[-2]["choices"] == []
    assert "Paris" in timed.text
    assert timed.events[-2]["usage"]["completion_tokens"] > 0
    assert plain.events[-1] == DONE and plain.text == timed.text
    assert all(event["choices"] for event in plain.events[:-1])
