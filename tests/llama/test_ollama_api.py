"""Ollama's API on the connector in front of a real llama-server (`openai/NAME`),
driven by the official `ollama` client: the server's own words and token counts, in
Ollama's shapes, each call on the books once."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import ollama
import pytest

from tests.llama.helpers import COLORS_PROMPT, MODEL, SEED, SHORT_PROMPT, latest_records
from tests.llama.server import LlamaServer
from tests.service.helpers import COLOR_SCHEMA
from tests.service.test_ollama_api import PIXEL

OPTIONS: dict[str, Any] = {"temperature": 0, "seed": SEED, "num_predict": 32}
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.fixture
def client(connector: str) -> ollama.Client:
    return ollama.Client(host=connector, timeout=120)


def _direct(llama: LlamaServer, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The server's own answer to the same chat (greedy decoding: deterministic)."""
    return llama.chat(
        {
            "model": llama.model,
            "messages": messages,
            "max_tokens": OPTIONS["num_predict"],
            "temperature": 0,
            "seed": SEED,
        }
    )


def test_list_and_show(client: ollama.Client, llama: LlamaServer) -> None:
    names = [m.model for m in client.list().models]
    assert MODEL in names  # Ollama itself is down in this tier: its models are left out
    shown = client.show(MODEL)
    assert shown.capabilities is not None and {"completion", "tools"} <= set(shown.capabilities)
    with pytest.raises(ollama.ResponseError) as caught:
        client.ps()  # Ollama's own route, and Ollama is not running here
    assert caught.value.status_code == 503


def test_chat_blocking_and_streamed_match_the_server(
    client: ollama.Client, llama: LlamaServer, connector: str
) -> None:
    messages = [{"role": "user", "content": SHORT_PROMPT}]
    direct = _direct(llama, messages)
    expected = direct["choices"][0]["message"]["content"]
    assert "Paris" in expected

    answer = client.chat(model=MODEL, messages=messages, options=OPTIONS, stream=False)
    assert answer.message.content == expected
    assert answer.done and answer.done_reason == "stop"
    assert answer.prompt_eval_count == direct["usage"]["prompt_tokens"]
    assert answer.eval_count == direct["usage"]["completion_tokens"]
    assert answer.total_duration and answer.total_duration > 0

    parts = list(client.chat(model=MODEL, messages=messages, options=OPTIONS, stream=True))
    assert "".join(p.message.content or "" for p in parts) == expected
    assert len(parts) > 2  # streamed as the server generated it
    assert parts[-1].done and parts[-1].eval_count == direct["usage"]["completion_tokens"]

    records = latest_records(connector)
    assert [(r["surface"], r["kind"], r["status"]) for r in records] == [
        ("ollama", "chat", "ok")
    ] * 2
    assert all(r["client"].startswith("ollama-python/") for r in records)
    assert all(r["completion_tokens"] == direct["usage"]["completion_tokens"] for r in records)


def test_generate_matches_the_chat_answer(client: ollama.Client, llama: LlamaServer) -> None:
    expected = _direct(llama, [{"role": "user", "content": SHORT_PROMPT}])
    answer = client.generate(model=MODEL, prompt=SHORT_PROMPT, options=OPTIONS)
    assert answer.response == expected["choices"][0]["message"]["content"]
    assert answer.eval_count == expected["usage"]["completion_tokens"]
    parts = list(client.generate(model=MODEL, prompt=SHORT_PROMPT, options=OPTIONS, stream=True))
    assert "".join(p.response or "" for p in parts) == answer.response


def test_chat_format_schema_is_kept_by_the_server(client: ollama.Client) -> None:
    messages = [{"role": "user", "content": COLORS_PROMPT}]
    options = {**OPTIONS, "num_predict": 64}
    answer = client.chat(model=MODEL, messages=messages, format=COLOR_SCHEMA, options=options)
    value = json.loads(answer.message.content or "")
    assert isinstance(value["colors"], list) and value["colors"]
    streamed = list(
        client.chat(
            model=MODEL, messages=messages, format=COLOR_SCHEMA, options=options, stream=True
        )
    )
    assert json.loads("".join(p.message.content or "" for p in streamed)) == value


def test_chat_with_tools_and_think_answers_in_ollama_shape(
    client: ollama.Client, connector: str
) -> None:
    messages = [{"role": "user", "content": "What is the weather in Paris? Use the tool."}]
    answer = client.chat(
        model=MODEL, messages=messages, tools=[WEATHER_TOOL], options=OPTIONS, think=False
    )
    assert answer.done
    # The tiny model may call the tool or answer in words: either way in Ollama's shape.
    for call in answer.message.tool_calls or []:
        assert call.function.name == "get_weather"
        assert isinstance(call.function.arguments, dict)
    if not answer.message.tool_calls:
        assert answer.message.content
    assert latest_records(connector)[0]["status"] == "ok"


def test_image_to_a_text_only_model_is_a_clear_error(client: ollama.Client, connector: str) -> None:
    messages = [
        {"role": "user", "content": "What is this?", "images": [base64.b64encode(PIXEL).decode()]}
    ]
    with pytest.raises(ollama.ResponseError) as caught:
        client.chat(model=MODEL, messages=messages, options=OPTIONS)
    # llama-server answers 500 for an image to a model without a vision projector: the
    # connector passes its reason on as an upstream failure (502), in Ollama's shape.
    assert caught.value.status_code == 502
    assert "image input is not supported" in caught.value.error
    raw = httpx.post(
        f"{connector}/api/chat", json={"model": MODEL, "messages": messages, "stream": False}
    )
    assert set(raw.json()) == {"error"}
    records = latest_records(connector)
    assert [(r["kind"], r["status"]) for r in records] == [("chat", "error")] * 2


def test_embed_is_counted_whatever_the_server_says(client: ollama.Client, connector: str) -> None:
    try:
        answer = client.embed(model=MODEL, input=["Paris is in France."])
    except ollama.ResponseError as exc:
        # A llama-server started without --embeddings refuses, in Ollama's shape.
        assert exc.status_code >= 400 and exc.error
        status = "error"
    else:
        assert answer.embeddings and answer.embeddings[0]
        status = "ok"
    records = latest_records(connector)
    assert [(r["surface"], r["kind"], r["status"]) for r in records] == [
        ("ollama", "embed", status)
    ]
