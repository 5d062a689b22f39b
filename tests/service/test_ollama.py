"""Ollama behaviour against recorded bodies served over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connector.config import Settings
from tests.fakes.server import closed_port_url
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import (
    COLOR_FORMAT,
    COLOR_SCHEMA,
    DONE,
    OLLAMA_THINKING,
    OLLAMA_THINKING_ANSWER,
    assert_error,
    chat_body,
    deltas,
    sse_events,
)


def _chat(url: str, **extra: Any) -> httpx.Response:
    return httpx.post(f"{url}/chat/completions", json=chat_body(**extra), timeout=20)


def _stream(url: str, **extra: Any) -> httpx.Response:
    return httpx.post(f"{url}/chat/completions/stream", json=chat_body(**extra), timeout=20)


def test_thinking_stream_keeps_reasoning_out_of_content(
    shared_live_server: str, upstream: FakeUpstream
) -> None:
    upstream.scenario = "thinking"
    response = _stream(shared_live_server, provider="ollama", model="gpt-oss:20b")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response)
    assert events[-1] == DONE
    chunks = [e for e in events if isinstance(e, dict) and e.get("choices")]
    assert deltas(events, "reasoning_content") == OLLAMA_THINKING
    assert deltas(events, "content") == OLLAMA_THINKING_ANSWER
    for chunk in chunks:
        delta = chunk["choices"][0]["delta"]
        # Thinking words never reach content.
        assert "arithmetic" not in (delta.get("content") or "")
        assert chunk["object"] == "chat.completion.chunk"
        assert chunk["model"] == "gpt-oss:20b"
    # All reasoning arrives before the answer, as the model produced it.
    first_content = next(i for i, c in enumerate(chunks) if c["choices"][0]["delta"].get("content"))
    assert not any(
        c["choices"][0]["delta"].get("reasoning_content") for c in chunks[first_content:]
    )
    usage_chunk = events[-2]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["prompt_tokens"] == 72
    assert usage_chunk["usage"]["completion_tokens"] == 34
    assert usage_chunk["usage"]["total_tokens"] == 106
    assert usage_chunk["metrics"]["latency_ms"] > 0


def test_thinking_blocking_separates_reasoning(
    shared_live_server: str, upstream: FakeUpstream
) -> None:
    upstream.scenario = "thinking"
    response = _chat(shared_live_server, provider="ollama", model="gpt-oss:20b")
    assert response.status_code == 200, response.text
    message = response.json()["choices"][0]["message"]
    assert message["content"] == OLLAMA_THINKING_ANSWER
    assert message["reasoning_content"] == OLLAMA_THINKING


def test_structured_output_blocking(shared_live_server: str, upstream: FakeUpstream) -> None:
    response = _chat(shared_live_server, provider="ollama", response_format=COLOR_FORMAT)
    assert response.status_code == 200, response.text
    message = response.json()["choices"][0]["message"]
    assert message["parsed"] == {"colors": ["red", "green", "blue"]}
    assert json.loads(message["content"]) == message["parsed"]
    # Thinking of a structured answer stays in reasoning_content.
    assert message["reasoning_content"].startswith("User wants info")
    assert upstream.last("/api/chat").json["format"] == COLOR_SCHEMA


def test_structured_output_stream_carries_parsed(
    shared_live_server: str, upstream: FakeUpstream
) -> None:
    response = _stream(shared_live_server, provider="ollama", response_format=COLOR_FORMAT)
    events = sse_events(response)
    assert events[-1] == DONE
    assert json.loads(deltas(events, "content")) == {"colors": ["red", "green", "blue"]}
    final = events[-2]
    assert final["choices"] == []
    assert final["parsed"] == {"colors": ["red", "green", "blue"]}


def test_structured_output_invalid_is_502_naming_path_and_raw_text(
    shared_live_server: str, upstream: FakeUpstream
) -> None:
    upstream.scenario = "structured_invalid"
    error = assert_error(
        _chat(shared_live_server, provider="ollama", response_format=COLOR_FORMAT), 502
    )
    assert "colors" in error["message"]
    assert "not-a-list" in error["message"]  # the raw model output is included


def test_structured_output_invalid_in_stream_is_error_frame(
    shared_live_server: str, upstream: FakeUpstream
) -> None:
    upstream.scenario = "structured_invalid"
    events = sse_events(
        _stream(shared_live_server, provider="ollama", response_format=COLOR_FORMAT)
    )
    assert DONE not in events
    assert set(events[-1]) == {"error"}
    assert "colors" in events[-1]["error"]["message"]


def test_midstream_error_is_one_error_frame_then_end(
    shared_live_server: str, upstream: FakeUpstream
) -> None:
    upstream.scenario = "midstream_error"
    response = _stream(shared_live_server, provider="ollama")
    assert response.status_code == 200
    events = sse_events(response)
    errors = [e for e in events if isinstance(e, dict) and "error" in e]
    assert len(errors) == 1
    assert events[-1] is errors[0]
    assert DONE not in events
    assert set(errors[0]["error"]) == {"message", "type", "param", "code"}
    assert "an error was encountered while running the model" in errors[0]["error"]["message"]
    assert deltas(events, "reasoning_content") == "We need to answer"


def test_midstream_error_blocking_is_502(shared_live_server: str, upstream: FakeUpstream) -> None:
    upstream.scenario = "midstream_error"
    error = assert_error(_chat(shared_live_server, provider="ollama"), 502)
    assert "an error was encountered while running the model" in error["message"]


@pytest.mark.parametrize("model", ["llama3.2:1b", "ollama/llama3.2:1b"])
def test_model_not_found_says_ollama_pull(
    shared_live_server: str, upstream: FakeUpstream, model: str
) -> None:
    upstream.scenario = "not_found"
    error = assert_error(_chat(shared_live_server, model=model), 404)
    assert "ollama pull llama3.2:1b" in error["message"]


def test_model_not_found_in_stream_is_404_before_streaming(
    shared_live_server: str, upstream: FakeUpstream
) -> None:
    upstream.scenario = "not_found"
    error = assert_error(_stream(shared_live_server, model="llama3.2:1b"), 404)
    assert "ollama pull llama3.2:1b" in error["message"]


def test_ollama_down_is_503_naming_the_url(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    down = closed_port_url()
    url = serve(make_settings(ollama_base_url=down))
    error = assert_error(_chat(url, provider="ollama"), 503)
    assert down in error["message"]
    stream_error = assert_error(_stream(url, provider="ollama"), 503)
    assert down in stream_error["message"]


def test_think_sent_only_when_asked(shared_live_server: str, upstream: FakeUpstream) -> None:
    assert _chat(shared_live_server, provider="ollama").status_code == 200
    assert "think" not in upstream.last("/api/chat").json
    for effort in ("low", "medium", "high"):
        assert (
            _chat(shared_live_server, provider="ollama", reasoning_effort=effort).status_code == 200
        )
        assert upstream.last("/api/chat").json["think"] == effort


def test_sampling_options_map_to_ollama_options(
    shared_live_server: str, upstream: FakeUpstream
) -> None:
    response = _chat(
        shared_live_server,
        provider="ollama",
        max_tokens=42,
        temperature=0.2,
        top_p=0.9,
        seed=7,
        stop=["\n\n"],
    )
    assert response.status_code == 200, response.text
    options = upstream.last("/api/chat").json["options"]
    assert options["num_predict"] == 42
    assert options["temperature"] == 0.2
    assert options["top_p"] == 0.9
    assert options["seed"] == 7
    assert options["stop"] == ["\n\n"]
    assert _chat(shared_live_server, provider="ollama", max_completion_tokens=9).status_code == 200
    assert upstream.last("/api/chat").json["options"]["num_predict"] == 9


def test_ollama_own_options_and_keep_alive_pass_through(
    shared_live_server: str, upstream: FakeUpstream
) -> None:
    response = _chat(
        shared_live_server,
        provider="ollama",
        temperature=0.2,
        options={"num_ctx": 8192, "temperature": 0.9, "repeat_last_n": 64},
        top_k=40,
        min_p=0.05,
        keep_alive="10m",
    )
    assert response.status_code == 200, response.text
    sent = upstream.last("/api/chat").json
    # The typed field wins over the same option given in `options`.
    assert sent["options"] == {
        "num_ctx": 8192,
        "temperature": 0.2,
        "repeat_last_n": 64,
        "top_k": 40,
        "min_p": 0.05,
    }
    assert sent["keep_alive"] == "10m"
    assert "min_p" not in sent and "top_k" not in sent

    before = len(upstream.requests_to("/api/chat"))
    for bad in ({"options": "num_ctx=8192"}, {"keep_alive": {"minutes": 10}}):
        assert_error(_chat(shared_live_server, provider="ollama", **bad), 422)
    assert len(upstream.requests_to("/api/chat")) == before


def test_ollama_fields_never_reach_openai(shared_live_server: str, upstream: FakeUpstream) -> None:
    response = _chat(
        shared_live_server,
        provider="openai",
        model="gpt-4o-mini",
        options={"num_ctx": 8192},
        keep_alive=-1,
        top_k=40,
    )
    assert response.status_code == 200, response.text
    sent = upstream.last("/v1/chat/completions").json
    assert "options" not in sent and "keep_alive" not in sent
    assert sent["top_k"] == 40  # OpenAI-compatible servers read it at the top level


def test_response_format_maps_to_format(shared_live_server: str, upstream: FakeUpstream) -> None:
    assert _chat(shared_live_server, provider="ollama").status_code == 200
    assert "format" not in upstream.last("/api/chat").json
    response = _chat(shared_live_server, provider="ollama", response_format={"type": "json_object"})
    assert response.status_code == 200, response.text
    assert upstream.last("/api/chat").json["format"] == "json"
    assert response.json()["choices"][0]["message"]["parsed"] == {"answer": "The sky is blue."}
    assert (
        _chat(shared_live_server, provider="ollama", response_format=COLOR_FORMAT).status_code
        == 200
    )
    assert upstream.last("/api/chat").json["format"] == COLOR_SCHEMA


def test_messages_and_model_reach_ollama(shared_live_server: str, upstream: FakeUpstream) -> None:
    body = {
        "provider": "ollama",
        "model": "llama3.2",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Why is the sky blue?"},
        ],
    }
    response = httpx.post(f"{shared_live_server}/chat/completions", json=body)
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["model"] == "llama3.2"
    assert reply["provider"] == "ollama"
    usage = reply["usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"]) == (26, 282)
    assert usage["total_tokens"] == 308
    sent = upstream.last("/api/chat").json
    assert sent["model"] == "llama3.2"
    assert [m["content"] for m in sent["messages"]] == ["Be brief.", "Why is the sky blue?"]
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    # A stream read to its end is not counted as a cancellation.
    assert upstream.cancelled == 0


def test_tool_calls_come_back_in_openai_shape(
    shared_live_server: str, upstream: FakeUpstream
) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    response = _chat(shared_live_server, provider="ollama", tools=tools)
    assert response.status_code == 200, response.text
    choice = response.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert call["type"] == "function"
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    assert upstream.last("/api/chat").json["tools"] == tools


def test_pull_streams_progress_then_done(shared_live_server: str, upstream: FakeUpstream) -> None:
    response = httpx.post(
        f"{shared_live_server}/models/pull", json={"name": "llama3.2"}, timeout=20
    )
    assert response.status_code == 200, response.text
    events = sse_events(response)
    assert events[0] == {"status": "pulling manifest"}
    progress = [e for e in events if isinstance(e, dict) and "completed" in e]
    assert progress and progress[-1]["completed"] == progress[-1]["total"]
    assert events[-2] == {"status": "success"}
    assert events[-1] == DONE
    assert upstream.last("/api/pull").json["model"] == "llama3.2"
