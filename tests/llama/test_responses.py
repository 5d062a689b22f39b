"""OpenAI Responses through the connector against a real llama-server (`openai/NAME`),
with the official `openai` SDK: the same words and counts as the server's own chat
answer, streamed as Responses events, stored and continued."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

import openai
import pytest
from pydantic import BaseModel

from tests.llama.helpers import (
    COLORS_PROMPT,
    LONG_PROMPT,
    MODEL,
    SHORT_PROMPT,
    latest_records,
)
from tests.llama.server import LlamaServer

if TYPE_CHECKING:
    from openai.types.responses import FunctionToolParam, ResponseInputParam

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}

TOOL_PARAM = cast("FunctionToolParam", WEATHER_TOOL)


class ColorList(BaseModel):
    colors: list[str]


@pytest.fixture
def client(connector: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{connector}/v1", api_key="unused", max_retries=0, timeout=120)


def _direct(llama: LlamaServer, messages: list[dict[str, Any]], max_tokens: int) -> dict[str, Any]:
    """The server's own answer to the same chat (greedy decoding: deterministic)."""
    return llama.chat(
        {"model": llama.model, "messages": messages, "max_tokens": max_tokens, "temperature": 0}
    )


def test_create_and_stream_give_the_servers_answer(
    client: openai.OpenAI, llama: LlamaServer, connector: str
) -> None:
    direct = _direct(llama, [{"role": "user", "content": SHORT_PROMPT}], 32)
    expected = direct["choices"][0]["message"]["content"]
    assert "Paris" in expected

    response = client.responses.create(
        model=MODEL, input=SHORT_PROMPT, max_output_tokens=32, temperature=0
    )
    assert response.status == "completed"
    assert response.model == llama.model
    assert response.output_text == expected
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (
        direct["usage"]["prompt_tokens"],
        direct["usage"]["completion_tokens"],
    )

    with client.responses.stream(
        model=MODEL, input=SHORT_PROMPT, max_output_tokens=32, temperature=0
    ) as stream:
        events = list(stream)
        final = stream.get_final_response()
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 1  # token by token, as the server made them
    assert "".join(deltas) == final.output_text == expected
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert final.usage == response.usage

    records = latest_records(connector)[:2]
    assert {(r["surface"], r["provider"], r["status"]) for r in records} == {
        ("responses", "openai", "ok")
    }
    assert all(r["client"].startswith("OpenAI/Python") for r in records)


def test_item_input_with_instructions(client: openai.OpenAI, llama: LlamaServer) -> None:
    messages = [
        {"role": "system", "content": "You are a geography teacher."},
        {"role": "user", "content": SHORT_PROMPT},
    ]
    expected = _direct(llama, messages, 32)["choices"][0]["message"]["content"]
    response = client.responses.create(
        model=MODEL,
        instructions="You are a geography teacher.",
        input=[{"role": "user", "content": [{"type": "input_text", "text": SHORT_PROMPT}]}],
        max_output_tokens=32,
        temperature=0,
    )
    assert response.output_text == expected


def test_parse_with_a_pydantic_model(client: openai.OpenAI) -> None:
    response = client.responses.parse(
        model=MODEL,
        input=COLORS_PROMPT,
        text_format=ColorList,
        max_output_tokens=64,
        temperature=0,
    )
    assert isinstance(response.output_parsed, ColorList)
    assert "red" in response.output_parsed.colors


def test_function_call_and_its_output_reach_the_server_as_chat(
    client: openai.OpenAI, llama: LlamaServer
) -> None:
    # SmolLM2's template has no tool calling, so the model never calls one itself; the
    # round trip's second half is what matters upstream: the call and its output as chat
    # messages the server accepts, giving its own answer to the same chat.
    arguments = json.dumps({"city": "Paris"})
    history = [
        {"role": "user", "content": "What is the weather in Paris?"},
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": arguments,
        },
        {"type": "function_call_output", "call_id": "call_1", "output": "Sunny, 21 C"},
    ]
    chat_tool = {
        "type": "function",
        "function": {k: v for k, v in WEATHER_TOOL.items() if k != "type"},
    }
    direct = llama.chat(
        {
            "model": llama.model,
            "messages": [
                history[0],
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": arguments},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "Sunny, 21 C"},
            ],
            "tools": [chat_tool],
            "max_tokens": 32,
            "temperature": 0,
        }
    )
    response = client.responses.create(
        model=MODEL,
        input=cast("ResponseInputParam", history),
        tools=[TOOL_PARAM],
        max_output_tokens=32,
        temperature=0,
    )
    assert response.output_text == direct["choices"][0]["message"]["content"]
    assert response.usage is not None
    assert response.usage.input_tokens == direct["usage"]["prompt_tokens"]
    assert [t.type for t in response.tools] == ["function"]


def test_previous_response_id_store_false_retrieve_delete(
    client: openai.OpenAI, llama: LlamaServer
) -> None:
    first = client.responses.create(
        model=MODEL, input=SHORT_PROMPT, max_output_tokens=32, temperature=0
    )
    follow_up = "And of Germany?"
    second = client.responses.create(
        model=MODEL,
        input=follow_up,
        previous_response_id=first.id,
        max_output_tokens=32,
        temperature=0,
    )
    history = [
        {"role": "user", "content": SHORT_PROMPT},
        {"role": "assistant", "content": first.output_text},
        {"role": "user", "content": follow_up},
    ]
    direct = _direct(llama, history, 32)
    assert second.output_text == direct["choices"][0]["message"]["content"]
    assert second.usage is not None
    assert second.usage.input_tokens == direct["usage"]["prompt_tokens"]

    assert client.responses.retrieve(second.id).output_text == second.output_text
    client.responses.delete(second.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(second.id)

    unsaved = client.responses.create(
        model=MODEL, input=SHORT_PROMPT, max_output_tokens=8, temperature=0, store=False
    )
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model=MODEL, input="Hi", previous_response_id=unsaved.id)


def test_token_limit_makes_an_incomplete_response(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model=MODEL, input=LONG_PROMPT, max_output_tokens=12, temperature=0
    )
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.usage is not None and response.usage.output_tokens == 12
