"""Ollama's API in front of an OpenAI-compatible upstream (`openai/NAME` models),
driven by the official `ollama` client; the fake OpenAI API records what arrived."""

from __future__ import annotations

import base64
import json
from typing import Any

import ollama
import openai
import pytest

from tests.conftest import TEST_OPENAI_KEY
from tests.fakes.recorded import load_json, load_sse
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import COLOR_SCHEMA, OLLAMA_THINKING, OLLAMA_THINKING_ANSWER, OPENAI_TEXT
from tests.service.test_ollama_api import PIXEL, WEATHER_TOOL

MODEL = "openai/gpt-4o-mini"
UPSTREAM_USAGE = load_sse("openai/chat_stream.sse")[-1]["usage"]


def _hi() -> list[dict[str, Any]]:
    return [{"role": "user", "content": "Hello"}]


@pytest.fixture
def client(shared_live_server: str) -> ollama.Client:
    return ollama.Client(host=shared_live_server)


def _sent(upstream: FakeUpstream) -> dict[str, Any]:
    body = upstream.last("/v1/chat/completions").json
    assert isinstance(body, dict)
    return body


def test_chat_blocking_and_streamed(client: ollama.Client, upstream: FakeUpstream) -> None:
    answer = client.chat(model=MODEL, messages=_hi(), stream=False)
    assert answer.message.content == OPENAI_TEXT
    assert answer.model == MODEL and answer.done_reason == "stop"
    # The done counters are the upstream's usage; the durations are measured.
    assert answer.prompt_eval_count == UPSTREAM_USAGE["prompt_tokens"]
    assert answer.eval_count == UPSTREAM_USAGE["completion_tokens"]
    assert answer.total_duration and answer.total_duration > 0
    assert answer.load_duration == 0
    assert (answer.prompt_eval_duration or 0) + (answer.eval_duration or 0) <= answer.total_duration
    sent = _sent(upstream)
    assert sent["model"] == "gpt-4o-mini"
    assert sent["messages"] == [{"role": "user", "content": "Hello"}]
    # Ollama-only fields never reach an OpenAI-compatible API.
    assert not {"options", "keep_alive", "think", "format"} & set(sent)
    options = {"temperature": 0, "num_predict": 32, "seed": 7, "stop": ["\n\n"], "top_k": 5}
    parts = list(client.chat(model=MODEL, messages=_hi(), stream=True, options=options))
    assert "".join(p.message.content or "" for p in parts) == OPENAI_TEXT
    assert parts[-1].done and parts[-1].eval_count == UPSTREAM_USAGE["completion_tokens"]
    sent = _sent(upstream)
    # Ollama's sampling options that Chat Completions has become its own fields.
    assert (sent["temperature"], sent["max_tokens"], sent["seed"], sent["stop"]) == (
        0,
        32,
        7,
        ["\n\n"],
    )
    assert "options" not in sent and "top_k" not in sent


def test_chat_think_maps_to_reasoning(client: ollama.Client, upstream: FakeUpstream) -> None:
    upstream.scenario = "thinking"
    parts = list(client.chat(model=MODEL, messages=_hi(), think="high", stream=True))
    assert "".join(p.message.thinking or "" for p in parts) == OLLAMA_THINKING
    assert "".join(p.message.content or "" for p in parts) == OLLAMA_THINKING_ANSWER
    assert _sent(upstream)["reasoning_effort"] == "high"
    client.chat(model=MODEL, messages=_hi(), think=False)
    assert _sent(upstream)["reasoning_effort"] == "none"
    client.chat(model=MODEL, messages=_hi(), think=True)
    assert "reasoning_effort" not in _sent(upstream)  # the model's own default


def test_chat_format_schema(client: ollama.Client, upstream: FakeUpstream) -> None:
    answer = client.chat(model=MODEL, messages=_hi(), format=COLOR_SCHEMA, stream=False)
    assert isinstance(json.loads(answer.message.content or "")["colors"], list)
    fmt = _sent(upstream)["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["schema"] == COLOR_SCHEMA
    streamed = list(client.chat(model=MODEL, messages=_hi(), format="json", stream=True))
    assert isinstance(json.loads("".join(p.message.content or "" for p in streamed)), dict)
    assert _sent(upstream)["response_format"] == {"type": "json_object"}


def test_chat_tools_whole_with_object_arguments(
    client: ollama.Client, upstream: FakeUpstream
) -> None:
    parts = list(client.chat(model=MODEL, messages=_hi(), tools=[WEATHER_TOOL], stream=True))
    calls = [c for p in parts for c in (p.message.tool_calls or [])]
    # OpenAI streamed the arguments in pieces; Ollama's client gets the call once, whole.
    assert len(calls) == 1 and calls[0].function.name == "get_weather"
    assert isinstance(calls[0].function.arguments, dict) and "city" in calls[0].function.arguments
    assert parts[-1].done_reason == "stop"
    assert _sent(upstream)["tools"] == [WEATHER_TOOL]
    history = [
        *_hi(),
        {"role": "assistant", "content": "", "tool_calls": [calls[0].model_dump()]},
        {"role": "tool", "content": "18 C", "tool_name": "get_weather"},
    ]
    upstream.scenario = "default"
    client.chat(model=MODEL, messages=history)
    sent = _sent(upstream)["messages"]
    # OpenAI needs ids: the call got one and the result names it.
    call_id = sent[1]["tool_calls"][0]["id"]
    assert json.loads(sent[1]["tool_calls"][0]["function"]["arguments"]) == dict(
        calls[0].function.arguments
    )
    assert sent[2] == {
        "role": "tool",
        "content": "18 C",
        "name": "get_weather",
        "tool_call_id": call_id,
    }


def test_chat_image_becomes_a_data_url(client: ollama.Client, upstream: FakeUpstream) -> None:
    client.chat(model=MODEL, messages=[{"role": "user", "content": "What?", "images": [PIXEL]}])
    content = _sent(upstream)["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "What?"}
    url = content[1]["image_url"]["url"]
    assert url == "data:image/png;base64," + base64.b64encode(PIXEL).decode()


def test_generate_as_chat_messages(client: ollama.Client, upstream: FakeUpstream) -> None:
    answer = client.generate(model=MODEL, prompt="Say hello", system="Be brief.")
    assert answer.response == OPENAI_TEXT
    assert answer.eval_count == UPSTREAM_USAGE["completion_tokens"]
    assert _sent(upstream)["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello"},
    ]
    parts = list(client.generate(model=MODEL, prompt="Say hello", stream=True))
    assert "".join(p.response or "" for p in parts) == OPENAI_TEXT
    # What Chat Completions cannot honour is refused, in Ollama's shape.
    with pytest.raises(ollama.ResponseError) as caught:
        client.generate(model=MODEL, prompt="def f():", suffix="return 1")
    assert caught.value.status_code == 400 and "suffix" in caught.value.error


def test_load_call_answers_without_an_upstream(
    client: ollama.Client, upstream: FakeUpstream
) -> None:
    assert client.chat(model=MODEL, messages=[]).done_reason == "load"
    assert client.generate(model=MODEL, keep_alive=0).done_reason == "unload"
    assert not upstream.requests_to("/v1/chat/completions")


def test_embed_on_openai(client: ollama.Client, upstream: FakeUpstream) -> None:
    answer = client.embed(model="openai/text-embedding-3-small", input=["one two", "three"])
    vector = load_json("openai/embeddings.json")["data"][0]["embedding"]
    assert [list(v) for v in answer.embeddings] == [vector, vector]
    assert answer.prompt_eval_count == (2 + 3) + (1 + 3)
    sent = upstream.last("/v1/embeddings").json
    assert sent["model"] == "text-embedding-3-small" and sent["input"] == ["one two", "three"]
    assert sent["encoding_format"] == "float"


@pytest.mark.parametrize("model", ["ollama/all-minilm", "openai/text-embedding-3-small"])
def test_v1_embeddings_with_the_openai_sdk(
    shared_live_server: str, upstream: FakeUpstream, model: str
) -> None:
    sdk = openai.OpenAI(base_url=f"{shared_live_server}/v1", api_key=TEST_OPENAI_KEY)
    # The SDK asks for base64 and decodes it: both paths must encode it as OpenAI does.
    result = sdk.embeddings.create(model=model, input=["Why is the sky blue?"])
    assert len(result.data) == 1 and result.data[0].index == 0
    if model.startswith("ollama/"):
        expected = load_json("ollama/embed.json")["embeddings"][0]
        assert upstream.last("/api/embed").json["input"] == ["Why is the sky blue?"]
        assert result.usage.prompt_tokens == 8
    else:
        expected = load_json("openai/embeddings.json")["data"][0]["embedding"]
        assert upstream.last("/v1/embeddings").json["encoding_format"] == "base64"
        assert result.usage.prompt_tokens == 8
    assert result.data[0].embedding == pytest.approx(expected, rel=1e-6)
    floats = sdk.embeddings.create(
        model=model, input="Why is the sky blue?", encoding_format="float"
    )
    assert floats.data[0].embedding == pytest.approx(expected, rel=1e-6)
