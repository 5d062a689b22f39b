"""The official `anthropic` SDK against `/v1/messages`, on both providers (recorded
fakes over HTTP): what it gets back, and what reached the upstream."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx
import pytest
from anthropic.types import (
    Base64ImageSourceParam,
    Message,
    MessageParam,
    ToolChoiceParam,
    ToolParam,
)

from tests.fakes import tokenize_api
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import (
    OLLAMA_TEXT,
    OLLAMA_THINKING,
    OLLAMA_THINKING_ANSWER,
    OPENAI_TEXT,
)

# (model the client names, the upstream path it reaches, the answer's text, usage)
PROVIDERS = [
    pytest.param("ollama/gpt-oss:20b", "/api/chat", OLLAMA_TEXT, (26, 282), id="ollama"),
    pytest.param("openai/gpt-4o-mini", "/v1/chat/completions", OPENAI_TEXT, (19, 10), id="openai"),
]  # fmt: skip
WEATHER: ToolParam = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
HI: list[MessageParam] = [{"role": "user", "content": "Hi"}]


@pytest.fixture
def client(shared_live_server: str) -> anthropic.Anthropic:
    # Without CONNECTOR_API_TOKEN the connector ignores the SDK's own key.
    return anthropic.Anthropic(base_url=shared_live_server, api_key="sk-ant-local", max_retries=0)


def _sent(upstream: FakeUpstream, path: str) -> dict[str, Any]:
    body = upstream.last(path).json
    assert isinstance(body, dict)
    return body


def _sent_messages(upstream: FakeUpstream, path: str) -> list[dict[str, Any]]:
    return list(_sent(upstream, path)["messages"])


@pytest.mark.parametrize(("model", "path", "text", "counts"), PROVIDERS)
def test_create_text(
    client: anthropic.Anthropic,
    upstream: FakeUpstream,
    model: str,
    path: str,
    text: str,
    counts: tuple[int, int],
) -> None:
    message = client.messages.create(
        model=model,
        max_tokens=64,
        system=[{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        messages=HI,
        stop_sequences=["\n\nHuman:"],
        metadata={"user_id": "u-1"},
        # Sampling fields the SDK no longer offers (2.x); clients such as Ollama's
        # examples and older SDKs still send them.
        extra_body={"temperature": 0.2, "top_p": 0.9, "top_k": 40},
    )
    assert message.type == "message" and message.role == "assistant"
    assert message.id.startswith("msg_")
    assert message.model == model  # the name the client chose, as Anthropic echoes it
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].type == "text" and message.content[0].text == text
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == counts

    sent = _sent(upstream, path)
    assert sent["model"] == model.split("/", 1)[1]
    assert sent["messages"][:2] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    if path == "/api/chat":
        assert sent["options"] == {
            "num_predict": 64,
            "temperature": 0.2,
            "top_p": 0.9,
            "top_k": 40,
            "stop": ["\n\nHuman:"],
        }
    else:
        assert (sent["max_tokens"], sent["temperature"], sent["top_p"]) == (64, 0.2, 0.9)
        assert (sent["top_k"], sent["stop"]) == (40, ["\n\nHuman:"])
        assert "metadata" not in sent and "system" not in sent


@pytest.mark.parametrize(
    ("model", "path", "sent_effort"),
    [
        pytest.param("ollama/gpt-oss:20b", "/api/chat", ("think", "low"), id="ollama"),
        pytest.param("openai/gpt-oss", "/v1/chat/completions", ("reasoning_effort", "low"),
                     id="openai"),
    ],
)  # fmt: skip
def test_create_thinking(
    client: anthropic.Anthropic,
    upstream: FakeUpstream,
    model: str,
    path: str,
    sent_effort: tuple[str, str],
) -> None:
    upstream.scenario = "thinking"
    message = client.messages.create(
        model=model,
        max_tokens=3000,
        messages=[{"role": "user", "content": "What is 1+1?"}],
        thinking={"type": "enabled", "budget_tokens": 2048},
    )
    assert [b.type for b in message.content] == ["thinking", "text"]
    thinking, text = message.content
    assert thinking.type == "thinking" and thinking.thinking == OLLAMA_THINKING
    assert len(thinking.signature) == 64  # a digest of the thinking text
    assert text.type == "text" and text.text == OLLAMA_THINKING_ANSWER
    key, value = sent_effort
    assert _sent(upstream, path)[key] == value


@pytest.mark.parametrize(("budget", "level"), [(1024, "low"), (10_000, "medium"), (31_999, "high")])
def test_thinking_budget_maps_to_a_reasoning_level(
    client: anthropic.Anthropic, upstream: FakeUpstream, budget: int, level: str
) -> None:
    client.messages.create(
        model="openai/gpt-oss",
        max_tokens=budget + 1,
        timeout=30,  # an explicit timeout: the SDK refuses long blocking calls otherwise
        messages=HI,
        thinking={"type": "enabled", "budget_tokens": budget},
    )
    assert _sent(upstream, "/v1/chat/completions")["reasoning_effort"] == level


def test_thinking_disabled_and_adaptive(
    client: anthropic.Anthropic, upstream: FakeUpstream
) -> None:
    client.messages.create(
        model="ollama/gpt-oss:20b", max_tokens=8, messages=HI, thinking={"type": "disabled"}
    )
    assert _sent(upstream, "/api/chat")["think"] is False
    # Claude Code's own pair: adaptive thinking at the effort it asks for.
    client.messages.create(
        model="ollama/gpt-oss:20b",
        max_tokens=8,
        messages=HI,
        thinking={"type": "adaptive"},
        extra_body={"output_config": {"effort": "medium"}},
    )
    assert _sent(upstream, "/api/chat")["think"] == "medium"
    client.messages.create(model="ollama/gpt-oss:20b", max_tokens=8, messages=HI)
    assert "think" not in _sent(upstream, "/api/chat")


@pytest.mark.parametrize(("model", "path", "text", "counts"), PROVIDERS)
def test_tool_use_round_trip(
    client: anthropic.Anthropic,
    upstream: FakeUpstream,
    model: str,
    path: str,
    text: str,
    counts: tuple[int, int],
) -> None:
    ask: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    first = client.messages.create(model=model, max_tokens=64, messages=ask, tools=[WEATHER])
    assert first.stop_reason == "tool_use"
    [call] = [b for b in first.content if b.type == "tool_use"]
    assert call.name == "get_weather"
    assert call.input == {"city": "Paris"}  # an object, not a JSON string
    sent = _sent(upstream, path)
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "The weather in a city.",
                "parameters": WEATHER["input_schema"],
            },
        }
    ]

    # The answer goes back as Claude Code sends it: the assistant turn as it came,
    # then a user turn holding the tool_result (blocks, with text after it).
    upstream.model_scenarios[model.split("/", 1)[1]] = "default"
    second = client.messages.create(
        model=model,
        max_tokens=64,
        tools=[WEATHER],
        messages=[
            *ask,
            {"role": "assistant", "content": first.content},
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": call.id,
                        "content": [{"type": "text", "text": "18 C, sunny"}],
                    },
                    {"type": "text", "text": "Thanks."},
                ],
            },
        ],
    )
    assert second.stop_reason == "end_turn"
    assert second.content[0].type == "text" and second.content[0].text == text
    assistant, result, user = _sent_messages(upstream, path)[1:]
    assert assistant["role"] == "assistant"
    [sent_call] = assistant["tool_calls"]
    if path == "/api/chat":  # Ollama takes arguments as an object and tool results by name
        assert sent_call["function"] == {"name": "get_weather", "arguments": {"city": "Paris"}}
        assert result == {"role": "tool", "content": "18 C, sunny", "tool_name": "get_weather"}
    else:
        assert sent_call["id"] == call.id
        assert sent_call["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
        assert result == {
            "role": "tool",
            "content": "18 C, sunny",
            "tool_call_id": call.id,
            "name": "get_weather",
        }
    assert user == {"role": "user", "content": "Thanks."}


def test_tool_choice_and_blocks_reach_an_openai_upstream(
    client: anthropic.Anthropic, upstream: FakeUpstream
) -> None:
    image: Base64ImageSourceParam = {
        "type": "base64",
        "media_type": "image/png",
        "data": "iVBORw0KGgo=",
    }
    client.messages.create(
        model="openai/gpt-4o-mini",
        max_tokens=64,
        tools=[WEATHER],
        tool_choice={"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in these?"},
                    {"type": "image", "source": image},
                    {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}},
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "Look first.", "signature": "abc"},
                    {"type": "redacted_thinking", "data": "c2VjcmV0"},
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": "no such city",
                        "is_error": True,
                    }
                ],
            },
        ],
    )
    sent = _sent(upstream, "/v1/chat/completions")
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert sent["parallel_tool_calls"] is False
    user, assistant, result = sent["messages"]
    assert user["content"] == [
        {"type": "text", "text": "What is in these?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
    ]
    # Earlier thinking is not sent to OpenAI-compatible upstreams; redacted is dropped.
    assert "c2VjcmV0" not in json.dumps(assistant)
    assert assistant["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": "{}"}
    assert result == {
        "role": "tool",
        "content": "Error: no such city",
        "tool_call_id": "toolu_1",
        "name": "get_weather",
    }


CHOICES: list[ToolChoiceParam] = [{"type": "auto"}, {"type": "any"}, {"type": "none"}]


@pytest.mark.parametrize("choice", CHOICES, ids=lambda c: str(c["type"]))
def test_tool_choice_kinds(
    client: anthropic.Anthropic, upstream: FakeUpstream, choice: ToolChoiceParam
) -> None:
    client.messages.create(
        model="openai/gpt-4o-mini",
        max_tokens=8,
        messages=HI,
        tools=[WEATHER],
        tool_choice=choice,
    )
    sent = _sent(upstream, "/v1/chat/completions")
    wanted = {"auto": "auto", "any": "required", "none": "none"}[choice["type"]]
    assert sent["tool_choice"] == wanted
    assert "parallel_tool_calls" not in sent


def test_unknown_fields_and_server_tools_are_left_out(
    client: anthropic.Anthropic, upstream: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="connector.dialects.anthropic"):
        message = client.messages.create(
            model="ollama/gpt-oss:20b",
            max_tokens=64,
            messages=HI,
            tools=[
                WEATHER,
                {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
                {"type": "bash_20250124", "name": "bash"},
                {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"},
            ],
            extra_body={
                "context_management": {"edits": [{"type": "clear_thinking_20251015"}]},
                "output_config": {"effort": "high"},
                "service_tier": "auto",
            },
            extra_headers={"anthropic-beta": "context-management-2025-06-27"},
        )
    assert message.stop_reason == "tool_use"
    sent = _sent(upstream, "/api/chat")
    assert [t["function"]["name"] for t in sent["tools"]] == ["get_weather"]
    assert "context_management" not in sent and "service_tier" not in sent
    lines = [r.getMessage() for r in caplog.records if "server tool" in r.getMessage()]
    assert len(lines) == 1, lines
    assert "web_search (web_search_20250305)" in lines[0] and "bash (bash_20250124)" in lines[0]


def _frames(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) of each SSE frame; every frame has both lines."""
    frames = []
    for block in response.text.split("\n\n"):
        if not block.strip():
            continue
        lines = block.split("\n")
        assert len(lines) == 2 and lines[0].startswith("event: "), block
        assert lines[1].startswith("data: "), block
        frames.append((lines[0][len("event: ") :], json.loads(lines[1][len("data: ") :])))
    return frames


@pytest.mark.parametrize(("model", "path", "text", "counts"), PROVIDERS)
def test_stream_events_in_order(
    shared_live_server: str,
    upstream: FakeUpstream,
    model: str,
    path: str,
    text: str,
    counts: tuple[int, int],
) -> None:
    upstream.scenario = "thinking" if path == "/api/chat" else "default"
    response = httpx.post(
        f"{shared_live_server}/v1/messages?beta=true",
        json={"model": model, "max_tokens": 64, "messages": HI, "stream": True},
        headers={"anthropic-version": "2023-06-01"},
        timeout=20,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = _frames(response)
    assert all(name == data["type"] for name, data in frames)  # event: names the data
    names = [name for name, _ in frames]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    start = frames[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["model"] == model and start["usage"]["input_tokens"] > 0
    delta = frames[-2][1]
    assert delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    if path == "/api/chat":
        counts = (72, 34)  # the recorded thinking exchange's counters
    assert (delta["usage"]["input_tokens"], delta["usage"]["output_tokens"]) == counts
    # Each block: start, deltas of its own kind, stop; indexes count up from 0.
    blocks = [d for n, d in frames if n == "content_block_start"]
    assert [b["index"] for b in blocks] == list(range(len(blocks)))
    kinds = [b["content_block"]["type"] for b in blocks]
    assert kinds == (["thinking", "text"] if path == "/api/chat" else ["text"])
    deltas = [d for n, d in frames if n == "content_block_delta"]
    streamed = "".join(d["delta"].get("text", "") for d in deltas)
    assert streamed == (OLLAMA_THINKING_ANSWER if path == "/api/chat" else text)
    if path == "/api/chat":
        thinking = [d["delta"] for d in deltas if d["index"] == 0]
        assert "".join(d.get("thinking", "") for d in thinking) == OLLAMA_THINKING
        assert thinking[-1]["type"] == "signature_delta"  # last, just before the stop


def _shape(message: Message) -> dict[str, Any]:
    """A message without what differs between two answers (ids)."""
    data = message.model_dump()
    data.pop("id")
    for block in data["content"]:
        if block["type"] == "tool_use":
            block.pop("id")
    return data


@pytest.mark.parametrize(("model", "path", "text", "counts"), PROVIDERS)
@pytest.mark.parametrize("scenario", ["thinking", "tools"])
def test_stream_final_message_equals_blocking_answer(
    client: anthropic.Anthropic,
    upstream: FakeUpstream,
    scenario: str,
    model: str,
    path: str,
    text: str,
    counts: tuple[int, int],
) -> None:
    upstream.scenario = scenario
    request: dict[str, Any] = {
        "model": model,
        "max_tokens": 256,
        "messages": HI,
        "tools": [WEATHER],
        "thinking": {"type": "enabled", "budget_tokens": 2048},
    }
    blocking = client.messages.create(**request)
    with client.messages.stream(**request) as stream:
        events = [event.type for event in stream]
        final = stream.get_final_message()
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert _shape(final) == _shape(blocking)
    assert final.stop_reason == ("tool_use" if scenario == "tools" else "end_turn")
    if scenario == "tools":
        [call] = [b for b in final.content if b.type == "tool_use"]
        assert call.input == {"city": "Paris"}


def test_stream_error_after_start_is_an_error_event(
    client: anthropic.Anthropic, shared_live_server: str, upstream: FakeUpstream
) -> None:
    upstream.scenario = "midstream_error"
    response = httpx.post(
        f"{shared_live_server}/v1/messages",
        json={"model": "ollama/gpt-oss:20b", "max_tokens": 64, "messages": HI, "stream": True},
        timeout=20,
    )
    assert response.status_code == 200
    frames = _frames(response)
    assert frames[0][0] == "message_start"
    name, data = frames[-1]
    assert name == "error"
    assert data["type"] == "error" and data["error"]["type"] == "api_error"
    assert data["error"]["message"]
    assert "message_stop" not in [n for n, _ in frames]
    with pytest.raises(anthropic.APIStatusError) as raised:
        with client.messages.stream(model="ollama/gpt-oss:20b", max_tokens=64, messages=HI) as s:
            s.get_final_message()
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["error"]["type"] == "api_error"


def test_count_tokens_counted_by_a_llama_cpp_upstream(
    client: anthropic.Anthropic, upstream: FakeUpstream
) -> None:
    counted = client.messages.count_tokens(
        model="openai/smollm2",
        system="Be brief.",
        messages=[{"role": "user", "content": "How warm is it in Paris today?"}],
        tools=[WEATHER],
    )
    rendered = upstream.last("/apply-template").json
    assert rendered["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "How warm is it in Paris today?"},
    ]
    assert rendered["tools"][0]["function"]["name"] == "get_weather"
    prompt = tokenize_api.render(rendered)
    assert upstream.last("/tokenize").json == {
        "content": prompt,
        "add_special": True,
        "parse_special": True,
    }
    assert counted.input_tokens == tokenize_api.count(prompt)
    assert not upstream.requests_to("/v1/chat/completions")  # counting generates nothing


def test_count_tokens_estimated_where_the_upstream_cannot_count(
    shared_live_server: str, upstream: FakeUpstream
) -> None:
    from connector.dialects.anthropic import to_chat_request
    from connector.schemas.anthropic import CountTokensRequest
    from connector.services.tokens import estimate

    body = {"model": "ollama/gpt-oss:20b", "messages": [{"role": "user", "content": "x" * 400}]}
    url = f"{shared_live_server}/v1/messages/count_tokens?beta=true"
    expected = estimate(to_chat_request(CountTokensRequest.model_validate(body)))
    assert expected == 100 + 4
    response = httpx.post(url, json=body, timeout=10)
    assert response.status_code == 200
    assert response.json() == {"input_tokens": expected}
    assert not upstream.calls()  # Ollama has no tokenizer endpoint: nothing was asked

    # An OpenAI-compatible upstream without /tokenize is asked once, then estimated.
    upstream.scenario = "no_tokenizer"
    for _ in range(2):
        response = httpx.post(url, json={**body, "model": "openai/other-server"}, timeout=10)
        assert response.json() == {"input_tokens": expected}
    assert len(upstream.requests_to("/apply-template")) == 1
