"""Ollama's own API on the connector, driven by the official `ollama` Python client
against an Ollama model (the recorded fake Ollama upstream over real HTTP). Each test
checks what the client received and what reached the upstream."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import ollama
import pytest

from connector.config import Settings
from connector.services.ollama_models import OLLAMA_VERSION
from tests.fakes.recorded import load_json, load_ndjson
from tests.fakes.server import closed_port_url
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import (
    COLOR_SCHEMA,
    OLLAMA_TEXT,
    OLLAMA_THINKING,
    OLLAMA_THINKING_ANSWER,
)

MODEL = "gpt-oss:20b"
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
# A 1x1 PNG.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
RECORDED_DONE = load_ndjson("ollama/chat_stream.ndjson")[-1]
_TIMINGS = ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration")


def _hi() -> list[dict[str, Any]]:
    return [{"role": "user", "content": "Why is the sky blue?"}]


@pytest.fixture
def client(shared_live_server: str) -> ollama.Client:
    return ollama.Client(host=shared_live_server)


# -- probes and model routes ----------------------------------------------------------


def test_version_and_root_answer_as_ollama_does(shared_live_server: str) -> None:
    version = httpx.get(f"{shared_live_server}/api/version")
    assert version.status_code == 200
    assert version.json() == {"version": OLLAMA_VERSION}
    assert tuple(int(p) for p in OLLAMA_VERSION.split(".")) >= (0, 6, 4)  # VS Code's floor
    assert httpx.head(f"{shared_live_server}/api/version").status_code == 200
    # A program probing `/` (no text/html in Accept) gets Ollama's text.
    for method in ("GET", "HEAD"):
        probe = httpx.request(method, f"{shared_live_server}/", headers={"Accept": "*/*"})
        assert probe.status_code == 200
        assert probe.headers["content-type"].startswith("text/plain")
    assert httpx.get(f"{shared_live_server}/").text == "Ollama is running"
    # A browser still gets the UI.
    page = httpx.get(
        f"{shared_live_server}/", headers={"Accept": "text/html,application/xhtml+xml"}
    )
    assert page.text != "Ollama is running"


def test_list_passes_ollama_models_through_and_adds_openai_ones(
    client: ollama.Client, shared_live_server: str, upstream: FakeUpstream
) -> None:
    listed = client.list()
    names = [m.model for m in listed.models]
    recorded = load_json("ollama/tags.json")["models"]
    assert names[: len(recorded)] == [m["model"] for m in recorded]
    assert "openai/model-id-0" in names
    raw = httpx.get(f"{shared_live_server}/api/tags").json()["models"]
    # Ollama's entries exactly as Ollama wrote them.
    assert raw[: len(recorded)] == recorded
    cloud = next(m for m in raw if m["name"] == "openai/model-id-0")
    assert set(cloud) == {"name", "model", "modified_at", "size", "digest", "details"}
    assert cloud["details"]["family"] == "openai"
    assert upstream.requests_to("/api/tags") and upstream.requests_to("/v1/models")


def test_list_leaves_out_a_provider_that_is_down(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    url = serve(make_settings(ollama_base_url=closed_port_url()))
    names = [m.model for m in ollama.Client(host=url).list().models]
    assert names and all(str(n).startswith("openai/") for n in names)


def test_show_passes_ollama_answer_through(
    client: ollama.Client, shared_live_server: str, upstream: FakeUpstream
) -> None:
    shown = client.show(MODEL)
    assert shown.capabilities == ["completion", "tools", "thinking"]
    assert shown.modelinfo is not None and shown.modelinfo["gptoss.context_length"] == 131072
    assert upstream.last("/api/show").json["model"] == MODEL
    raw = httpx.post(f"{shared_live_server}/api/show", json={"model": MODEL}).json()
    assert raw == load_json("ollama/show.json")


def test_show_synthesizes_openai_models(client: ollama.Client, upstream: FakeUpstream) -> None:
    shown = client.show("openai/model-id-0")
    assert shown.capabilities is not None
    assert {"completion", "tools"} <= set(shown.capabilities)
    assert shown.modelinfo is not None
    arch = shown.modelinfo["general.architecture"]
    assert shown.modelinfo[f"{arch}.context_length"] > 0
    assert not upstream.requests_to("/api/show")
    with pytest.raises(ollama.ResponseError) as caught:
        client.show("openai/no-such-model")
    assert caught.value.status_code == 404


def test_ps_passes_through(client: ollama.Client, upstream: FakeUpstream) -> None:
    running = client.ps()
    assert [m.model for m in running.models] == [MODEL]
    assert running.models[0].size_vram == load_json("ollama/ps.json")["models"][0]["size_vram"]
    assert upstream.requests_to("/api/ps")


def test_pull_streams_progress_and_delete_passes_through(
    client: ollama.Client, upstream: FakeUpstream
) -> None:
    statuses = [p.status for p in client.pull("llama3.2", stream=True)]
    assert statuses[0] == "pulling manifest" and statuses[-1] == "success"
    assert upstream.last("/api/pull").json["model"] == "llama3.2"
    assert client.pull("llama3.2").status == "success"
    assert client.delete("llama3.2").status == "success"
    sent = upstream.last("/api/delete")
    assert sent.method == "DELETE" and sent.json == {"model": "llama3.2"}


# -- chat --------------------------------------------------------------------------------


def test_chat_blocking(client: ollama.Client, upstream: FakeUpstream) -> None:
    answer = client.chat(model=MODEL, messages=_hi(), stream=False)
    assert answer.message.content == OLLAMA_TEXT
    assert answer.done is True and answer.done_reason == "stop"
    assert answer.model == MODEL
    # Ollama's own counters, as its done line had them.
    assert answer.prompt_eval_count == RECORDED_DONE["prompt_eval_count"]
    assert answer.eval_count == RECORDED_DONE["eval_count"]
    for key in _TIMINGS:
        assert answer[key] == RECORDED_DONE[key], key
    sent = upstream.last("/api/chat").json
    assert sent["model"] == MODEL
    assert sent["messages"] == [{"role": "user", "content": "Why is the sky blue?"}]


def test_chat_options_reach_ollama_as_options(
    client: ollama.Client, upstream: FakeUpstream
) -> None:
    options = {"temperature": 0.2, "num_ctx": 8192, "num_predict": -1, "top_k": 20, "seed": 3}
    client.chat(model=MODEL, messages=_hi(), options=options, keep_alive="10m")
    sent = upstream.last("/api/chat").json
    assert sent["options"] == options
    assert sent["keep_alive"] == "10m"


def test_chat_streams_ndjson_by_default(shared_live_server: str, upstream: FakeUpstream) -> None:
    response = httpx.post(
        f"{shared_live_server}/api/chat", json={"model": MODEL, "messages": _hi()}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert all(line["done"] is False for line in lines[:-1])
    assert "".join(line["message"]["content"] for line in lines) == OLLAMA_TEXT
    done = lines[-1]
    assert done["done"] is True and done["done_reason"] == "stop"
    for key in ("prompt_eval_count", "eval_count", *_TIMINGS):
        assert done[key] == RECORDED_DONE[key], key


def test_chat_streamed_with_client(client: ollama.Client, upstream: FakeUpstream) -> None:
    parts = list(client.chat(model=MODEL, messages=_hi(), stream=True))
    assert "".join(p.message.content or "" for p in parts) == OLLAMA_TEXT
    assert parts[-1].done and parts[-1].eval_count == RECORDED_DONE["eval_count"]
    assert upstream.last("/api/chat").json["stream"] is True


@pytest.mark.parametrize("think", [True, "high", False])
def test_chat_think_reaches_ollama_as_written(
    client: ollama.Client, upstream: FakeUpstream, think: bool | str
) -> None:
    parts = list(client.chat(model=MODEL, messages=_hi(), think=think, stream=True))
    assert upstream.last("/api/chat").json["think"] == think
    if think:
        assert "".join(p.message.thinking or "" for p in parts) == OLLAMA_THINKING
        assert "".join(p.message.content or "" for p in parts) == OLLAMA_THINKING_ANSWER
        blocking = client.chat(model=MODEL, messages=_hi(), think=think)
        assert blocking.message.thinking == OLLAMA_THINKING
        assert blocking.message.content == OLLAMA_THINKING_ANSWER


def test_chat_format_schema_is_validated(client: ollama.Client, upstream: FakeUpstream) -> None:
    answer = client.chat(model=MODEL, messages=_hi(), format=COLOR_SCHEMA, stream=False)
    value = json.loads(answer.message.content or "")
    assert isinstance(value["colors"], list)
    assert upstream.last("/api/chat").json["format"] == COLOR_SCHEMA
    streamed = list(client.chat(model=MODEL, messages=_hi(), format="json", stream=True))
    assert isinstance(json.loads("".join(p.message.content or "" for p in streamed)), dict)
    assert upstream.last("/api/chat").json["format"] == "json"
    upstream.scenario = "structured_invalid"
    with pytest.raises(ollama.ResponseError) as caught:
        client.chat(model=MODEL, messages=_hi(), format=COLOR_SCHEMA, stream=False)
    assert caught.value.status_code == 502
    assert "schema" in caught.value.error


def test_chat_tools_round_trip(client: ollama.Client, upstream: FakeUpstream) -> None:
    answer = client.chat(model=MODEL, messages=_hi(), tools=[WEATHER_TOOL], stream=False)
    calls = answer.message.tool_calls
    assert calls and calls[0].function.name == "get_weather"
    assert isinstance(calls[0].function.arguments, dict)
    assert answer.done_reason == "stop"
    assert upstream.last("/api/chat").json["tools"] == [WEATHER_TOOL]
    streamed = list(client.chat(model=MODEL, messages=_hi(), tools=[WEATHER_TOOL], stream=True))
    streamed_calls = [c for p in streamed for c in (p.message.tool_calls or [])]
    assert [c.function.name for c in streamed_calls] == ["get_weather"]
    # The result goes back by tool name, as Ollama's clients send it.
    history = [
        *_hi(),
        {"role": "assistant", "content": "", "tool_calls": [c.model_dump() for c in calls]},
        {"role": "tool", "content": "18 C, sunny", "tool_name": "get_weather"},
    ]
    upstream.scenario = "default"
    client.chat(model=MODEL, messages=history, stream=False)
    sent = upstream.last("/api/chat").json["messages"]
    assert sent[1]["tool_calls"][0]["function"]["arguments"] == calls[0].function.arguments
    assert sent[2] == {"role": "tool", "content": "18 C, sunny", "tool_name": "get_weather"}


def test_chat_image_reaches_ollama_as_base64(client: ollama.Client, upstream: FakeUpstream) -> None:
    messages = [{"role": "user", "content": "What is this?", "images": [PIXEL]}]
    answer = client.chat(model=MODEL, messages=messages, stream=False)
    assert answer.message.content == OLLAMA_TEXT
    sent = upstream.last("/api/chat").json["messages"][0]
    assert sent["images"] == [base64.b64encode(PIXEL).decode()]
    assert sent["content"] == "What is this?"


@pytest.mark.parametrize(("keep_alive", "reason"), [(None, "load"), (0, "unload")])
def test_load_and_unload_calls_go_to_ollama(
    client: ollama.Client, upstream: FakeUpstream, keep_alive: int | None, reason: str
) -> None:
    loaded = client.chat(model=MODEL, messages=[], keep_alive=keep_alive)
    assert loaded.done and loaded.done_reason == reason
    sent = upstream.last("/api/chat").json
    assert sent["messages"] == [] and sent.get("keep_alive") == keep_alive
    generated = client.generate(model=MODEL, keep_alive=keep_alive)
    assert generated.done and generated.done_reason == reason
    assert "prompt" not in upstream.last("/api/generate").json


# -- generate ------------------------------------------------------------------------------


def test_generate_reaches_ollama_as_generate(client: ollama.Client, upstream: FakeUpstream) -> None:
    answer = client.generate(model=MODEL, prompt="Why is the sky blue?", system="Be brief.")
    assert answer.response == OLLAMA_TEXT
    assert answer.done and answer.eval_count == RECORDED_DONE["eval_count"]
    sent = upstream.last("/api/generate").json
    assert sent["prompt"] == "Why is the sky blue?" and sent["system"] == "Be brief."
    assert not upstream.requests_to("/api/chat")
    parts = list(client.generate(model=MODEL, prompt="Why?", stream=True))
    assert "".join(p.response or "" for p in parts) == OLLAMA_TEXT
    assert parts[-1].done and parts[-1].prompt_eval_count == RECORDED_DONE["prompt_eval_count"]


def test_generate_passes_raw_suffix_and_think(
    client: ollama.Client, upstream: FakeUpstream
) -> None:
    client.generate(model=MODEL, prompt="def gcd(a, b):", suffix="    return a", raw=True)
    sent = upstream.last("/api/generate").json
    assert sent["suffix"] == "    return a" and sent["raw"] is True
    parts = list(client.generate(model=MODEL, prompt="1+1?", think=True, stream=True))
    assert upstream.last("/api/generate").json["think"] is True
    assert "".join(p.thinking or "" for p in parts) == OLLAMA_THINKING
    assert "".join(p.response or "" for p in parts) == OLLAMA_THINKING_ANSWER
    images = client.generate(model=MODEL, prompt="What is this?", images=[PIXEL])
    assert images.response == OLLAMA_TEXT
    assert upstream.last("/api/generate").json["images"] == [base64.b64encode(PIXEL).decode()]


# -- embeddings ------------------------------------------------------------------------------


def test_embed_passes_through(client: ollama.Client, upstream: FakeUpstream) -> None:
    answer = client.embed(model="all-minilm", input=["Why is the sky blue?", "Why is grass green?"])
    recorded = load_json("ollama/embed.json")
    assert [list(v) for v in answer.embeddings] == recorded["embeddings"]
    assert answer.prompt_eval_count == 8 + 7
    assert upstream.last("/api/embed").json["input"] == [
        "Why is the sky blue?",
        "Why is grass green?",
    ]
    legacy = client.embeddings(model="all-minilm", prompt="llamas")
    assert list(legacy.embedding) == load_json("ollama/embeddings_legacy.json")["embedding"]
    assert upstream.last("/api/embeddings").json["prompt"] == "llamas"
