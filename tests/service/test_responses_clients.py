"""Real Responses clients through the connector: Codex CLI's captured request replayed
as it was sent, and the OpenAI Agents SDK's default (Responses) model."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from tests.fakes.recorded import DATA_DIR
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import OLLAMA_TEXT, OPENAI_TEXT, assert_error
from tests.service.responses_helpers import collapse, parse_events

CODEX = DATA_DIR / "clients" / "codex-cli_01_responses_stream.json"
# Hop-by-hop and framing headers of the capture, which the HTTP client sets itself.
_TRANSPORT_HEADERS = {"host", "content-length", "accept-encoding"}


def _codex_request() -> tuple[dict[str, str], dict[str, Any]]:
    captured = json.loads(CODEX.read_text(encoding="utf-8"))
    assert (captured["method"], captured["path"]) == ("POST", "/v1/responses")
    headers = {k: v for k, v in captured["headers"].items() if k not in _TRANSPORT_HEADERS}
    return headers, captured["body"]


def _usage(base: str) -> list[dict[str, Any]]:
    return list(httpx.get(f"{base}/usage", timeout=10).json()["recent"])


def test_codex_request_replayed_streams_an_answer_metered_once(
    live_server: str, upstream: FakeUpstream
) -> None:
    upstream.model_scenarios = {"gpt-oss:20b": "default"}  # a text answer, not a tool call
    headers, body = _codex_request()
    events = _replay(live_server, headers, body)
    assert collapse([e["type"] for e in events]) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    # What Codex reads: the items from output_item.done, the text deltas, and the id and
    # usage of response.completed.
    [done] = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert done["type"] == "message" and done["role"] == "assistant"
    assert done["content"][0] == {
        "type": "output_text",
        "text": OLLAMA_TEXT,
        "annotations": [],
        "logprobs": [],
    }
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert text == OLLAMA_TEXT
    completed = events[-1]["response"]
    assert completed["id"].startswith("resp_") and completed["store"] is False
    usage = completed["usage"]
    assert usage["input_tokens"] == 26 and usage["output_tokens"] == 282
    assert usage["total_tokens"] == 308
    assert usage["input_tokens_details"] == {"cached_tokens": 0}
    assert usage["output_tokens_details"] == {"reasoning_tokens": 0}

    # What reached Ollama: the chat, the function tools only, none of Codex's own fields.
    [sent] = [r.json for r in upstream.requests_to("/api/chat")]
    assert sent["model"] == "gpt-oss:20b"
    functions = [t["name"] for t in body["tools"] if t["type"] == "function"]
    assert [t["function"]["name"] for t in sent["tools"]] == functions
    assert len(functions) == 7  # of 9: namespace and web_search are left out
    assert [m["role"] for m in sent["messages"]] == ["system", "system", "user", "user"]
    assert sent["messages"][-1]["content"] == "say hi"
    assert "think" not in sent  # reasoning.summary alone asks for no thinking level
    assert not {"prompt_cache_key", "client_metadata", "include", "store"} & set(sent)

    records = _usage(live_server)
    assert len(records) == 1
    record = records[0]
    assert (record["surface"], record["client"], record["status"]) == (
        "responses",
        "codex_exec/0.171.0",
        "ok",
    )
    assert (record["prompt_tokens"], record["completion_tokens"]) == (26, 282)
    # store: false, as Codex sends it: nothing kept.
    assert_error(httpx.get(f"{live_server}/v1/responses/{completed['id']}"), 404)


def _replay(base: str, headers: dict[str, str], body: dict[str, Any]) -> list[dict[str, Any]]:
    with httpx.stream(
        "POST", f"{base}/v1/responses", headers=headers, json=body, timeout=30
    ) as response:
        assert response.status_code == 200, response.read()[:500]
        return parse_events(response.iter_lines())


def test_codex_gets_a_tool_call_as_a_function_call_item(
    live_server: str, upstream: FakeUpstream
) -> None:
    headers, body = _codex_request()
    events = _replay(live_server, headers, body)
    [done] = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    # The fake calls the first tool offered: Codex's exec_command.
    assert (done["type"], done["name"], done["status"]) == (
        "function_call",
        "exec_command",
        "completed",
    )
    assert done["call_id"] and isinstance(json.loads(done["arguments"]), dict)
    assert events[-1]["type"] == "response.completed"
    assert events[-1]["response"]["output"] == [done]


def test_codex_sees_a_failure_as_response_failed(live_server: str, upstream: FakeUpstream) -> None:
    upstream.scenario = "midstream_error"
    headers, body = _codex_request()
    failed = _replay(live_server, headers, body)[-1]
    assert failed["type"] == "response.failed"
    assert failed["response"]["error"]["message"]
    records = _usage(live_server)
    assert [(r["surface"], r["status"]) for r in records] == [("responses", "error")]


@pytest.mark.parametrize(
    ("model", "path", "text", "keep_prefix"),
    [
        pytest.param("gpt-oss:20b", "/api/chat", OLLAMA_TEXT, False, id="default-provider"),
        pytest.param("ollama/gpt-oss:20b", "/api/chat", OLLAMA_TEXT, True, id="ollama"),
        pytest.param("openai/gpt-4o-mini", "/v1/chat/completions", OPENAI_TEXT, True, id="openai"),
    ],
)
def test_agents_sdk_runs_one_turn(
    live_server: str, upstream: FakeUpstream, model: str, path: str, text: str, keep_prefix: bool
) -> None:
    import agents
    from agents.models.multi_provider import MultiProvider
    from openai import AsyncOpenAI

    async def run() -> Any:
        client = AsyncOpenAI(base_url=f"{live_server}/v1", api_key="sk-client-side", max_retries=0)
        agents.set_default_openai_client(client, use_for_tracing=False)
        agents.set_default_openai_api("responses")
        agents.set_tracing_disabled(True)
        agent = agents.Agent(name="Helper", instructions="You answer briefly.", model=model)
        config = agents.RunConfig(
            # As the README says: model names go to the connector as written.
            model_provider=MultiProvider(
                openai_prefix_mode="model_id", unknown_prefix_mode="model_id"
            )
        )
        try:
            return await agents.Runner.run(
                agent, "Why is the sky blue?", run_config=config if keep_prefix else None
            )
        finally:
            await client.close()

    result = asyncio.run(run())
    assert result.final_output == text
    [sent] = [r.json for r in upstream.requests_to(path)]
    assert sent["model"] == model.split("/", 1)[-1]
    assert sent["messages"] == [
        {"role": "system", "content": "You answer briefly."},
        {"role": "user", "content": "Why is the sky blue?"},
    ]
    [record] = _usage(live_server)
    assert record["surface"] == "responses" and record["status"] == "ok"
    assert record["client"].startswith("Agents/Python ")  # the SDK's own User-Agent


def test_agents_sdk_streams_a_tool_loop(live_server: str, upstream: FakeUpstream) -> None:
    import agents
    from openai import AsyncOpenAI
    from openai.types.responses import ResponseTextDeltaEvent

    calls: list[str] = []

    @agents.function_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        calls.append(city)
        upstream.model_scenarios = {"gpt-oss:20b": "default"}  # the model answers next
        return f"Sunny in {city}"

    async def run() -> tuple[Any, list[str]]:
        client = AsyncOpenAI(base_url=f"{live_server}/v1", api_key="sk-client-side", max_retries=0)
        agents.set_default_openai_client(client, use_for_tracing=False)
        agents.set_tracing_disabled(True)
        agent = agents.Agent(
            name="Helper", instructions="Be brief.", model="gpt-oss:20b", tools=[get_weather]
        )
        deltas: list[str] = []
        try:
            result = agents.Runner.run_streamed(agent, "Weather in Paris?", max_turns=3)
            async for event in result.stream_events():
                if event.type == "raw_response_event" and isinstance(
                    event.data, ResponseTextDeltaEvent
                ):
                    deltas.append(event.data.delta)
            return result, deltas
        finally:
            await client.close()

    result, deltas = asyncio.run(run())
    assert len(calls) == 1
    assert result.final_output == OLLAMA_TEXT == "".join(deltas)
    first, second = [r.json for r in upstream.requests_to("/api/chat")]
    assert [t["function"]["name"] for t in first["tools"]] == ["get_weather"]
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "tool"]
    assert second["messages"][2]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert second["messages"][3]["content"] == f"Sunny in {calls[0]}"
    records = _usage(live_server)
    assert [(r["surface"], r["status"]) for r in records] == [("responses", "ok")] * 2


def test_agents_sdk_continues_from_a_stored_response(
    live_server: str, upstream: FakeUpstream
) -> None:
    import agents
    from openai import AsyncOpenAI

    async def run() -> None:
        client = AsyncOpenAI(base_url=f"{live_server}/v1", api_key="sk-client-side", max_retries=0)
        agents.set_default_openai_client(client, use_for_tracing=False)
        agents.set_tracing_disabled(True)
        agent = agents.Agent(name="Helper", instructions="Be brief.", model="gpt-oss:20b")
        try:
            first = await agents.Runner.run(agent, "Why is the sky blue?")
            assert first.last_response_id and first.last_response_id.startswith("resp_")
            await agents.Runner.run(
                agent, "And at sunset?", previous_response_id=first.last_response_id
            )
        finally:
            await client.close()

    asyncio.run(run())
    second = upstream.requests_to("/api/chat")[-1].json
    # The SDK sends only the new input; the connector puts the stored turn before it.
    assert second["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Why is the sky blue?"},
        {"role": "assistant", "content": OLLAMA_TEXT},
        {"role": "user", "content": "And at sunset?"},
    ]
