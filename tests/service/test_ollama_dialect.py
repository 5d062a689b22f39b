"""The Ollama dialect's translations, one function at a time
(`connector/dialects/ollama`)."""

from __future__ import annotations

import json

import pytest

from connector.dialects import ollama
from connector.schemas import Metrics, Usage
from connector.schemas.ollama import OllamaChatRequest, OllamaGenerateRequest


@pytest.mark.parametrize(
    ("keep_alive", "unload"),
    [(None, False), (0, True), (0.0, True), ("0", True), ("0s", True), ("0m", True),
     ("5m", False), (-1, False), ("10", False)],
)  # fmt: skip
def test_is_unload(keep_alive: str | int | float | None, unload: bool) -> None:
    assert ollama.is_unload(keep_alive) is unload


def test_options_openai_also_has_become_request_fields() -> None:
    body = OllamaChatRequest(
        model="openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "Hi"}],
        options={"temperature": 0.3, "top_p": 0.9, "seed": 1, "stop": "END", "num_predict": 64,
                 "num_ctx": 4096},
    )  # fmt: skip
    request, _ = ollama.chat_request(body)
    assert (request.temperature, request.top_p, request.seed, request.stop) == (0.3, 0.9, 1, "END")
    assert request.max_tokens == 64
    assert request.options == {"num_ctx": 4096}
    # Values OpenAI cannot take stay Ollama's: no limit, a temperature above 2.
    body.options = {"num_predict": -1, "temperature": 3}
    request, _ = ollama.chat_request(body)
    assert request.max_tokens is None and request.temperature is None
    assert request.options == {"num_predict": -1, "temperature": 3}


def test_the_model_is_passed_on_as_written_for_the_registry_to_route() -> None:
    # Bare names, `ENDPOINT/NAME` and Ollama's own slashed names alike: the registry
    # (connector.providers.registry) decides, so every surface routes one way.
    for name in ("gpt-oss:20b", "hf.co/bartowski/Llama-3.2-1B-GGUF", "openai/gpt-4o-mini"):
        body = OllamaChatRequest(model=name, messages=[{"role": "user", "content": "Hi"}])
        request, _ = ollama.chat_request(body)
        assert request.model == name and request.provider is None


def test_tool_results_take_the_id_of_the_earliest_open_call_of_their_name() -> None:
    calls = [
        {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
        {"function": {"name": "get_time", "arguments": {}}},
        {"function": {"name": "get_weather", "arguments": {"city": "Rome"}}},
    ]
    body = OllamaChatRequest(
        model="m",
        messages=[
            {"role": "user", "content": "Weather and time?"},
            {"role": "assistant", "content": "", "tool_calls": calls},
            {"role": "tool", "content": "12 C", "tool_name": "get_weather"},
            {"role": "tool", "content": "noon", "tool_name": "get_time"},
            {"role": "tool", "content": "20 C", "tool_name": "get_weather"},
        ],
    )
    request, _ = ollama.chat_request(body)
    ids = [c.id for c in request.messages[1].tool_calls or []]
    assert len(set(ids)) == 3
    assert [m.tool_call_id for m in request.messages[2:]] == [ids[0], ids[1], ids[2]]
    first = (request.messages[1].tool_calls or [])[0]
    assert json.loads(first.function.arguments or "") == {"city": "Paris"}


def test_format_and_think_map_to_the_chat_request() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    request, native = ollama.chat_request(
        OllamaChatRequest(model="m", messages=[{"role": "user", "content": "x"}], format=schema,
                          think="max")
    )  # fmt: skip
    assert request.response_format is not None and request.response_format.json_schema
    assert request.response_format.json_schema.schema_ == schema
    assert request.reasoning_effort == "xhigh" and native.think == "max"
    request, native = ollama.chat_request(
        OllamaChatRequest(model="m", messages=[{"role": "user", "content": "x"}], format="json",
                          think=True)
    )  # fmt: skip
    assert request.response_format is not None and request.response_format.type == "json_object"
    assert request.reasoning_effort is None and native.think is True
    assert request.stream is True  # Ollama's default


def test_generate_keeps_its_prompt_fields_and_builds_chat_messages() -> None:
    request, native = ollama.generate_request(
        OllamaGenerateRequest(model="m", prompt="def f():", system="Code.", suffix="  return 1",
                              raw=True, images=["/9j/4AAQ"])
    )  # fmt: skip
    assert [m.role for m in request.messages] == ["system", "user"]
    content = request.messages[1].content
    assert isinstance(content, list)
    assert content[1]["image_url"]["url"].startswith("data:image/jpeg;base64,/9j/")
    assert (native.prompt, native.suffix, native.raw, native.system) == (
        "def f():",
        "  return 1",
        True,
        "Code.",
    )


def test_timings_are_the_upstreams_or_measured() -> None:
    usage = Usage(prompt_tokens=11, completion_tokens=18, total_tokens=29)
    own = {"total_duration": 5, "load_duration": 1, "prompt_eval_count": 11, "eval_count": 18}
    assert ollama.timings(own, usage, None) == own
    measured = ollama.timings(None, usage, Metrics(latency_ms=250.0, ttft_ms=50.0))
    assert measured == {
        "total_duration": 250_000_000,
        "load_duration": 0,
        "prompt_eval_count": 11,
        "prompt_eval_duration": 50_000_000,
        "eval_count": 18,
        "eval_duration": 200_000_000,
    }
