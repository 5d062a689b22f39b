"""OpenAI Responses through the official `openai` SDK, on both providers (recorded
fakes): what the SDK gets back, and what reached the upstream."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, cast

import httpx
import openai
import pytest
from pydantic import BaseModel

from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import (
    OLLAMA_TEXT,
    OLLAMA_THINKING,
    OLLAMA_THINKING_ANSWER,
    OPENAI_TEXT,
    PACED,
    assert_error,
)
from tests.service.responses_helpers import collapse, read_events, shape, types

if TYPE_CHECKING:
    from openai.types.responses import FunctionToolParam, ResponseInputParam


class ColorList(BaseModel):
    colors: list[str]


# (model the SDK sends, upstream path, the answer's text)
PROVIDERS = [
    pytest.param("ollama/gpt-oss:20b", "/api/chat", OLLAMA_TEXT, id="ollama"),
    pytest.param("openai/gpt-4o-mini", "/v1/chat/completions", OPENAI_TEXT, id="openai"),
]
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
TOOL_PARAM = cast("FunctionToolParam", WEATHER_TOOL)
TEXT_EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
]


@pytest.fixture(params=["/v1", ""], ids=["v1", "root"])
def client(request: pytest.FixtureRequest, shared_live_server: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=shared_live_server + request.param, api_key="sk-client-side", max_retries=0
    )


@pytest.fixture
def http(shared_live_server: str) -> httpx.Client:
    return httpx.Client(base_url=shared_live_server, timeout=30)


def _sent(upstream: FakeUpstream, path: str) -> dict[str, Any]:
    body = upstream.last(path).json
    assert isinstance(body, dict)
    return body


@pytest.mark.parametrize(("model", "path", "text"), PROVIDERS)
def test_create_with_string_input(
    client: openai.OpenAI, upstream: FakeUpstream, model: str, path: str, text: str
) -> None:
    response = client.responses.create(model=model, input="Hi")
    assert response.object == "response"
    assert response.id.startswith("resp_")
    assert response.status == "completed"
    assert response.model == model.split("/", 1)[1]
    assert response.output_text == text
    [message] = response.output
    assert message.type == "message" and message.role == "assistant"
    assert message.status == "completed"
    assert [(p.type, getattr(p, "text", None)) for p in message.content] == [("output_text", text)]
    usage = response.usage
    assert usage is not None and usage.input_tokens > 0 and usage.output_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.input_tokens_details.cached_tokens == 0
    assert usage.output_tokens_details.reasoning_tokens == 0
    sent = _sent(upstream, path)
    assert sent["model"] == model.split("/", 1)[1]
    assert sent["messages"] == [{"role": "user", "content": "Hi"}]
    # Nothing of the Responses request itself leaks upstream.
    assert not {"input", "store", "instructions", "text", "previous_response_id"} & set(sent)


@pytest.mark.parametrize(("model", "path", "text"), PROVIDERS)
def test_item_input_with_instructions(
    client: openai.OpenAI, upstream: FakeUpstream, model: str, path: str, text: str
) -> None:
    response = client.responses.create(
        model=model,
        instructions="Answer in one sentence.",
        input=[
            {"role": "developer", "content": [{"type": "input_text", "text": "Be kind."}]},
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "Why is the sky blue?"},
                    {"type": "input_text", "text": "Keep it short."},
                ],
            },
        ],
    )
    assert response.output_text == text
    assert response.instructions == "Answer in one sentence."
    developer = "system" if path == "/api/chat" else "developer"  # Ollama has no developer
    assert _sent(upstream, path)["messages"] == [
        {"role": "system", "content": "Answer in one sentence."},
        {"role": developer, "content": "Be kind."},
        {"role": "user", "content": "Why is the sky blue?\nKeep it short."},
    ]


@pytest.mark.parametrize(("model", "path", "text"), PROVIDERS)
def test_stream_events_in_order_and_final_equals_blocking(
    client: openai.OpenAI, upstream: FakeUpstream, model: str, path: str, text: str
) -> None:
    upstream.chunk_delay = PACED  # each token in a read of its own
    with client.responses.stream(model=model, input="Hi") as stream:
        events = list(stream)
        final = stream.get_final_response()
    names = [e.type for e in events]
    assert collapse(names) == [*TEXT_EVENTS, "response.completed"]
    assert names.count("response.output_text.delta") > 1
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert "".join(e.delta for e in deltas) == text == final.output_text
    added = next(e for e in events if e.type == "response.output_item.added")
    [message] = final.output
    assert message.type == "message"
    assert {e.item_id for e in deltas} == {added.item.id} == {message.id}
    created = events[0]
    assert created.type == "response.created"
    assert created.response.status == "in_progress" and created.response.output == []
    assert created.response.id == final.id
    assert final.status == "completed" and final.usage is not None

    blocking = client.responses.create(model=model, input="Hi")
    assert [o.type for o in final.output] == [o.type for o in blocking.output]
    assert (final.output_text, final.usage) == (blocking.output_text, blocking.usage)


@pytest.mark.parametrize(("model", "path", "text"), PROVIDERS)
@pytest.mark.parametrize("effort", [None, "low"])
def test_streamed_response_is_the_blocking_one(
    http: httpx.Client, model: str, path: str, text: str, effort: str | None
) -> None:
    body: dict[str, Any] = {"model": model, "input": "Hi", "reasoning": {"effort": effort}}
    blocking = http.post("/v1/responses", json=body)
    assert blocking.status_code == 200, blocking.text
    events = read_events(http, "/v1/responses", {**body, "stream": True})
    final = events[-1]["response"]
    assert shape(final) == shape(blocking.json())
    # Each item the stream finished is the one in the final response.
    assert [e["item"] for e in events if e["type"] == "response.output_item.done"] == final[
        "output"
    ]


def test_reasoning_is_a_reasoning_item_with_its_deltas(
    client: openai.OpenAI, upstream: FakeUpstream
) -> None:
    with client.responses.stream(
        model="ollama/gpt-oss:20b", input="What is 1+1?", reasoning={"effort": "low"}
    ) as stream:
        events = list(stream)
        final = stream.get_final_response()
    assert _sent(upstream, "/api/chat")["think"] == "low"
    assert collapse([e.type for e in events]) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.reasoning_text.delta",
        "response.reasoning_text.done",
        "response.content_part.done",
        "response.output_item.done",
        *TEXT_EVENTS[2:],
        "response.completed",
    ]
    thinking = "".join(e.delta for e in events if e.type == "response.reasoning_text.delta")
    assert thinking == OLLAMA_THINKING
    reasoning, message = final.output
    assert reasoning.type == "reasoning" and reasoning.summary == []
    assert [c.text for c in reasoning.content or []] == [OLLAMA_THINKING]
    assert final.output_text == OLLAMA_THINKING_ANSWER
    assert final.reasoning is not None and final.reasoning.effort == "low"
    assert message.type == "message"


@pytest.mark.parametrize(("model", "path", "text"), PROVIDERS)
def test_parse_with_a_pydantic_model(
    client: openai.OpenAI, upstream: FakeUpstream, model: str, path: str, text: str
) -> None:
    response = client.responses.parse(
        model=model, input="List three colors.", text_format=ColorList
    )
    assert isinstance(response.output_parsed, ColorList)
    assert response.output_parsed.colors == ["red", "green", "blue"]
    assert response.text is not None and response.text.format is not None
    assert response.text.format.type == "json_schema"
    sent = _sent(upstream, path)
    if path == "/api/chat":
        assert sent["format"]["properties"]["colors"]["type"] == "array"
    else:
        fmt = sent["response_format"]
        assert fmt["type"] == "json_schema"
        assert fmt["json_schema"]["name"] == "ColorList"
        assert fmt["json_schema"]["strict"] is True
        assert fmt["json_schema"]["schema"]["required"] == ["colors"]


@pytest.mark.parametrize(("model", "path", "text"), PROVIDERS)
def test_function_call_round_trip(
    client: openai.OpenAI, upstream: FakeUpstream, model: str, path: str, text: str
) -> None:
    first = client.responses.create(model=model, input="Weather in Paris?", tools=[TOOL_PARAM])
    [call] = first.output
    assert call.type == "function_call"
    assert call.name == "get_weather" and call.status == "completed"
    assert call.call_id and call.id and call.id.startswith("fc_")
    assert isinstance(json.loads(call.arguments)["city"], str)
    assert first.output_text == ""
    sent = _sent(upstream, path)
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {k: v for k, v in WEATHER_TOOL.items() if k != "type"},
        }
    ]

    upstream.model_scenarios = {model.split("/", 1)[1]: "default"}  # now a text answer
    history = [
        {"role": "user", "content": "Weather in Paris?"},
        *[item.model_dump(exclude_none=True) for item in first.output],
        {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny, 21 C"},
    ]
    second = client.responses.create(
        model=model, input=cast("ResponseInputParam", history), tools=[TOOL_PARAM]
    )
    assert second.output_text == text
    user, assistant, tool = _sent(upstream, path)["messages"]
    assert user == {"role": "user", "content": "Weather in Paris?"}
    assert tool["role"] == "tool" and tool["content"] == "Sunny, 21 C"
    [sent_call] = assistant["tool_calls"]
    assert sent_call["function"]["name"] == "get_weather"
    if path == "/api/chat":  # Ollama takes arguments as an object, and no call ids
        assert sent_call["function"]["arguments"] == json.loads(call.arguments)
    else:
        assert sent_call["id"] == call.call_id
        assert sent_call["function"]["arguments"] == call.arguments
        assert tool["tool_call_id"] == call.call_id


def test_function_call_arguments_stream(http: httpx.Client, upstream: FakeUpstream) -> None:
    upstream.chunk_delay = PACED  # the arguments' pieces in reads of their own
    events = read_events(
        http,
        "/v1/responses",
        {
            "model": "openai/gpt-4o-mini",
            "input": "Weather?",
            "tools": [WEATHER_TOOL],
            "stream": True,
        },
    )
    assert collapse(types(events)) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    added = events[2]["item"]
    assert (added["type"], added["status"], added["arguments"]) == (
        "function_call",
        "in_progress",
        "",
    )
    assert added["call_id"] == "call_fake0001" and added["name"] == "get_weather"
    pieces = [e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"]
    assert len(pieces) > 1
    done = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    assert done["arguments"] == "".join(pieces) and done["name"] == "get_weather"
    assert events[-1]["response"]["output"] == [events[-2]["item"]]
    assert events[-2]["item"]["arguments"] == done["arguments"]


@pytest.mark.parametrize(("model", "path", "text"), PROVIDERS)
def test_token_limit_makes_an_incomplete_response(
    client: openai.OpenAI,
    http: httpx.Client,
    upstream: FakeUpstream,
    model: str,
    path: str,
    text: str,
) -> None:
    upstream.scenario = "length"
    response = client.responses.create(model=model, input="Hi", max_output_tokens=16)
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.max_output_tokens == 16
    last = response.output[-1]
    assert last.type == "message" and last.status == "incomplete"
    sent = _sent(upstream, path)
    if path == "/api/chat":
        assert sent["options"]["num_predict"] == 16
    else:
        assert sent["max_completion_tokens"] == 16
    events = read_events(
        http,
        "/v1/responses",
        {"model": model, "input": "Hi", "max_output_tokens": 16, "stream": True},
    )
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


@pytest.mark.parametrize(("model", "path", "text"), PROVIDERS)
def test_failure_mid_stream_is_an_error_then_response_failed(
    http: httpx.Client, upstream: FakeUpstream, model: str, path: str, text: str
) -> None:
    upstream.scenario = "midstream_error"
    events = read_events(http, "/v1/responses", {"model": model, "input": "Hi", "stream": True})
    assert types(events)[:2] == ["response.created", "response.in_progress"]
    error, failed = events[-2:]
    assert error["type"] == "error"
    assert error["message"] and error["code"] == "server_error"
    assert failed["type"] == "response.failed"
    response = failed["response"]
    assert response["status"] == "failed"
    assert response["error"] == {"code": "server_error", "message": error["message"]}
    assert "response.completed" not in types(events)


@pytest.mark.parametrize(("model", "path", "text"), PROVIDERS)
def test_errors_before_the_answer_keep_their_status(
    client: openai.OpenAI,
    http: httpx.Client,
    upstream: FakeUpstream,
    model: str,
    path: str,
    text: str,
) -> None:
    upstream.scenario = "not_found"
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model=model, input="Hi")
    streamed = http.post("/v1/responses", json={"model": model, "input": "Hi", "stream": True})
    error = assert_error(streamed, 404)
    assert error["code"] == "model_not_found"


def test_bad_input_is_an_openai_error(http: httpx.Client, upstream: FakeUpstream) -> None:
    missing = assert_error(http.post("/v1/responses", json={"model": "gpt-oss:20b"}), 422)
    assert missing["param"] == "input"
    wrong_role = http.post("/responses", json={"input": [{"role": "tool", "content": "x"}]})
    assert assert_error(wrong_role, 422)["param"].startswith("input")
    empty = assert_error(http.post("/v1/responses", json={"input": []}), 400)
    assert empty["param"] == "input"
    file_part = http.post(
        "/v1/responses",
        json={"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]},
    )
    assert "input_file" in assert_error(file_part, 400)["message"]
    bad_schema = http.post(
        "/v1/responses",
        json={
            "input": "Hi",
            "text": {"format": {"type": "json_schema", "name": "x", "schema": {"type": 5}}},
        },
    )
    error = assert_error(bad_schema, 400)
    assert error["param"] == "text.format.schema" and "text.format.schema" in error["message"]
    unknown_tool = http.post(
        "/v1/responses",
        json={
            "input": "Hi",
            "tools": [WEATHER_TOOL],
            "tool_choice": {"type": "function", "name": "nope"},
        },
    )
    assert assert_error(unknown_tool, 400)["param"] == "tool_choice"
    # Wrong types are 422, as on the chat routes: no lenient booleans or numbers.
    for field, value in (
        ("max_output_tokens", True),
        ("stream", "yes"),
        ("temperature", "0.5"),
        ("tool_choice", "sometimes"),
        ("input", [{"type": {}}]),
    ):
        wrong = http.post("/v1/responses", json={"input": "Hi", field: value})
        assert assert_error(wrong, 422)["param"].startswith(field), (field, wrong.text)
    assert upstream.calls() == []  # nothing reached an upstream


def test_unusable_tools_and_unknown_fields_are_left_out(
    http: httpx.Client, upstream: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="connector.dialects.openai_responses")
    body = {
        "model": "openai/gpt-4o-mini",
        "input": [
            {"role": "user", "content": "Hi"},
            {"type": "web_search_call", "id": "ws_1", "status": "completed"},
        ],
        "tools": [
            WEATHER_TOOL,
            {"type": "web_search", "external_web_access": False},
            {"type": "namespace", "name": "agents", "tools": [WEATHER_TOOL]},
            {"type": "custom", "name": "apply_patch"},
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "prompt_cache_key": "k",
        "client_metadata": {"a": "b"},
        "truncation": "auto",
        "service_tier": "auto",
        "include": ["reasoning.encrypted_content"],
        "metadata": {"session": "s1"},
    }
    response = http.post("/v1/responses", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["metadata"] == {"session": "s1"}
    assert [t["name"] for t in answer["tools"]] == ["get_weather"]
    sent = _sent(upstream, "/v1/chat/completions")
    assert [t["function"]["name"] for t in sent["tools"]] == ["get_weather"]
    assert sent["tool_choice"] == "auto" and sent["parallel_tool_calls"] is False
    assert sent["messages"] == [{"role": "user", "content": "Hi"}]
    for field in ("prompt_cache_key", "client_metadata", "truncation", "include", "metadata"):
        assert field not in sent
    lines = [r.getMessage() for r in caplog.records if "left out" in r.getMessage()]
    assert len(lines) == 1
    for kind in ("web_search", "namespace", "custom", "web_search_call"):
        assert kind in lines[0]


def test_images_in_tool_results_are_left_out_not_refused(
    http: httpx.Client, upstream: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="connector.dialects.openai_responses")
    image = {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="}
    body = {
        "model": "openai/gpt-4o-mini",
        "input": [
            {"role": "user", "content": "Look at the screenshot."},
            {"type": "function_call", "call_id": "c1", "name": "shot", "arguments": "{}"},
            {
                "type": "function_call_output",
                "call_id": "c1",
                "output": [{"type": "input_text", "text": "taken"}, image],
            },
        ],
    }
    response = http.post("/v1/responses", json=body)
    assert response.status_code == 200, response.text
    tool = _sent(upstream, "/v1/chat/completions")["messages"][-1]
    assert tool == {"role": "tool", "content": "taken", "tool_call_id": "c1"}
    assert any("input_image in a function_call_output" in r.getMessage() for r in caplog.records)


def test_every_call_is_metered_once_as_responses(live_server: str, upstream: FakeUpstream) -> None:
    client = openai.OpenAI(base_url=f"{live_server}/v1", api_key="sk-client-side", max_retries=0)
    client.responses.create(model="ollama/gpt-oss:20b", input="Hi")
    with client.responses.stream(model="openai/gpt-4o-mini", input="Hi") as stream:
        stream.get_final_response()
    recent = httpx.get(f"{live_server}/usage", timeout=10).json()["recent"]
    assert len(recent) == 2
    assert {r["surface"] for r in recent} == {"responses"}
    assert all(r["client"].startswith("OpenAI/Python") for r in recent)
    assert sorted(r["provider"] for r in recent) == ["ollama", "openai"]
    assert all(r["status"] == "ok" and r["total_tokens"] > 0 for r in recent)
