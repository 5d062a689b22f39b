"""The official `anthropic` SDK through `/v1/messages` to a real llama-server
(SmolLM2-135M) behind the OpenAI provider (`openai/NAME`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import pytest
from anthropic.types import Message, MessageParam, ToolParam
from pydantic import SecretStr

from connector.config import Settings
from tests.llama.helpers import LONG_PROMPT, MODEL, SEED, SHORT_PROMPT, latest_records
from tests.llama.server import LlamaServer

WEATHER: ToolParam = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
# Greedy and seeded, so the connector's answer and llama-server's own are the same text.
SAMPLING: dict[str, Any] = {"temperature": 0, "seed": SEED}


def _ask(prompt: str) -> list[MessageParam]:
    return [{"role": "user", "content": prompt}]


@pytest.fixture
def client(connector: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=connector, api_key="sk-any", max_retries=0, timeout=120)


def _shape(message: Message) -> dict[str, Any]:
    data = message.model_dump()
    data.pop("id")
    return data


def test_create_and_stream_match_llama_server(
    client: anthropic.Anthropic, connector: str, llama: LlamaServer
) -> None:
    direct = llama.chat(
        {
            "model": llama.model,
            "messages": [{"role": "user", "content": SHORT_PROMPT}],
            "max_tokens": 32,
            **SAMPLING,
        }
    )
    request: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 32,
        "messages": _ask(SHORT_PROMPT),
        "extra_body": SAMPLING,
    }
    message = client.messages.create(**request)
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].type == "text"
    assert message.content[0].text == direct["choices"][0]["message"]["content"]
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens == direct["usage"]["prompt_tokens"]
    assert message.usage.output_tokens == direct["usage"]["completion_tokens"]

    with client.messages.stream(**request) as stream:
        texts = list(stream.text_stream)
        final = stream.get_final_message()
    assert len([t for t in texts if t]) > 1  # streamed in pieces, not at once
    assert _shape(final) == _shape(message)

    # A long answer is cut at max_tokens, and says so.
    cut = client.messages.create(
        model=MODEL, max_tokens=8, messages=_ask(LONG_PROMPT), extra_body=SAMPLING
    )
    assert cut.stop_reason == "max_tokens" and cut.usage.output_tokens == 8

    records = latest_records(connector)
    assert [(r["surface"], r["status"]) for r in records] == [("anthropic", "ok")] * 3
    assert {r["client"].split("/")[0] for r in records} == {"Anthropic"}


def test_count_tokens_is_llama_servers_own_count(
    client: anthropic.Anthropic, llama: LlamaServer
) -> None:
    system = "You are a helpful assistant. Answer in one sentence."
    counted = client.messages.count_tokens(model=MODEL, system=system, messages=_ask(SHORT_PROMPT))
    message = client.messages.create(
        model=MODEL, max_tokens=4, system=system, messages=_ask(SHORT_PROMPT), extra_body=SAMPLING
    )
    # Exactly the prompt tokens the same request then costs.
    assert counted.input_tokens == message.usage.input_tokens


def test_tool_result_round_trip_reaches_the_model(
    client: anthropic.Anthropic, llama: LlamaServer
) -> None:
    message = client.messages.create(
        model=MODEL,
        max_tokens=24,
        tools=[WEATHER],
        extra_body=SAMPLING,
        messages=[
            {"role": "user", "content": "What is the weather in Paris?"},
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "get_weather",
                        "input": {"city": "Paris"},
                    }
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18 C, sunny"}
                ],
            },
        ],
    )
    assert message.type == "message" and message.content
    assert message.stop_reason in ("end_turn", "max_tokens", "tool_use")
    assert message.usage.input_tokens > 20  # the tool call and its result were in the prompt


def test_errors_from_a_real_upstream_are_typed(
    client: anthropic.Anthropic,
    llama_settings: Settings,
    serve: Callable[[Settings], str],
) -> None:
    # Past the slot's 512-token context: llama-server refuses the prompt with a 400.
    with pytest.raises(anthropic.BadRequestError) as raised:
        client.messages.create(
            model=MODEL, max_tokens=16, messages=_ask("word " * 1200), extra_body=SAMPLING
        )
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["error"]["type"] == "invalid_request_error"

    guarded = serve(llama_settings.model_copy(update={"api_token": SecretStr("tok-llama")}))
    wrong = anthropic.Anthropic(base_url=guarded, api_key="nope", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        wrong.messages.create(model=MODEL, max_tokens=4, messages=_ask(SHORT_PROMPT))
    right = anthropic.Anthropic(base_url=guarded, auth_token="tok-llama", max_retries=0)
    answer = right.messages.create(
        model=MODEL, max_tokens=4, messages=_ask(SHORT_PROMPT), extra_body=SAMPLING
    )
    assert answer.usage.output_tokens > 0
