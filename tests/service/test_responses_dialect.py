"""The Responses dialect on its own (`connector/dialects/openai_responses.py`): how
input items become chat messages, and how chat chunks become output items and events."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from connector.dialects.openai_responses import ResponseBuilder, Turn, to_chat
from connector.errors import BadRequestError, UpstreamError
from connector.schemas import ChatCompletionChunk, ChunkChoice, Delta, FunctionCall, ToolCall, Usage
from connector.schemas.responses import ResponsesRequest

TOOL = {"type": "function", "name": "f", "parameters": {"type": "object"}}


def _turn(**body: Any) -> Turn:
    return to_chat(ResponsesRequest.model_validate(body))


def _messages(**body: Any) -> list[dict[str, Any]]:
    return [m.model_dump(exclude_none=True) for m in _turn(**body).chat.messages]


def test_reasoning_goes_with_the_assistant_turn_after_it() -> None:
    messages = _messages(
        input=[
            {"role": "user", "content": "Hi"},
            {
                "type": "reasoning",
                "summary": [],
                "content": [{"type": "reasoning_text", "text": "t1"}],
            },
            {"role": "assistant", "content": [{"type": "output_text", "text": "Let me look."}]},
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "42"},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "t2"}]},
            {"type": "function_call", "call_id": "c2", "name": "f", "arguments": '{"a":1}'},
        ]
    )
    assert messages == [
        {"role": "user", "content": "Hi"},
        {
            # Text and the call of one turn are one chat message, with its thinking.
            "role": "assistant",
            "content": "Let me look.",
            "reasoning_content": "t1",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "content": "42", "tool_call_id": "c1"},
        {
            "role": "assistant",
            "reasoning_content": "t2",
            "tool_calls": [
                {"id": "c2", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}
            ],
        },
    ]


def test_images_become_image_url_parts() -> None:
    [message] = _messages(
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is this?"},
                    {"type": "input_image", "image_url": "https://x/cat.png", "detail": "low"},
                ],
            }
        ]
    )
    assert message["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "https://x/cat.png", "detail": "low"}},
    ]
    with pytest.raises(BadRequestError, match="file_id"):
        _turn(input=[{"role": "user", "content": [{"type": "input_image", "file_id": "file-1"}]}])


def test_tool_choice_in_chat_words() -> None:
    two = [TOOL, {**TOOL, "name": "g"}]
    assert _turn(input="x", tools=two, tool_choice="required").chat.tool_choice == "required"
    named = _turn(input="x", tools=two, tool_choice={"type": "function", "name": "g"}).chat
    assert named.tool_choice == {"type": "function", "function": {"name": "g"}}
    allowed = _turn(
        input="x",
        tools=two,
        tool_choice={
            "type": "allowed_tools",
            "mode": "required",
            "tools": [{"type": "function", "name": "g"}],
        },
    ).chat
    assert [t["function"]["name"] for t in allowed.tools or []] == ["g"]
    assert allowed.tool_choice == "required"
    hosted = _turn(input="x", tools=two, tool_choice={"type": "web_search_preview"}).chat
    assert hosted.tool_choice == "auto"
    # Without function tools there is nothing to choose (OpenAI refuses tool_choice alone).
    alone = _turn(input="x", tools=[{"type": "web_search"}], tool_choice="required").chat
    assert alone.tools is None and alone.tool_choice is None
    with pytest.raises(ValidationError):  # the schema names the three modes
        _turn(input="x", tools=two, tool_choice="sometimes")


def test_stored_input_items_get_ids() -> None:
    turn = _turn(input="Hi")
    [item] = turn.input_items
    assert item["id"].startswith("msg_")
    assert item["content"] == [{"type": "input_text", "text": "Hi"}]
    kept = _turn(input=[{"type": "message", "id": "msg_mine", "role": "user", "content": "Hi"}])
    assert kept.input_items[0]["id"] == "msg_mine"


def _chunk(
    *,
    content: str | None = None,
    reasoning: str | None = None,
    calls: list[ToolCall] | None = None,
    finish: str | None = None,
) -> ChatCompletionChunk:
    delta = Delta(content=content, reasoning_content=reasoning, tool_calls=calls)
    return ChatCompletionChunk(
        id="c",
        created=0,
        model="m",
        provider="ollama",
        choices=[ChunkChoice(delta=delta, finish_reason=finish)],
    )


def _last(usage: Usage) -> ChatCompletionChunk:
    return ChatCompletionChunk(
        id="c", created=0, model="m", provider="ollama", choices=[], usage=usage
    )


def _builder() -> ResponseBuilder:
    return ResponseBuilder(ResponsesRequest(input="x"), "m", [])


def test_items_follow_the_order_the_model_produced_them() -> None:
    builder = _builder()
    events = builder.start()
    for chunk in (
        _chunk(reasoning="think"),
        _chunk(content="Hello"),
        _chunk(
            calls=[ToolCall(index=0, id="a", function=FunctionCall(name="f", arguments='{"x"'))]
        ),
        _chunk(calls=[ToolCall(index=0, function=FunctionCall(arguments=":1}"))]),
        _chunk(calls=[ToolCall(index=1, id="b", function=FunctionCall(name="g", arguments="{}"))]),
        _chunk(finish="tool_calls"),
        _last(Usage(prompt_tokens=3, completion_tokens=4, total_tokens=7)),
    ):
        events += builder.add(chunk)
    closing, response = builder.finish()
    events += closing
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    output = response["output"]
    assert [(o["type"], o.get("name")) for o in output] == [
        ("reasoning", None),
        ("message", None),
        ("function_call", "f"),
        ("function_call", "g"),
    ]
    assert output[2]["arguments"] == '{"x":1}' and output[2]["call_id"] == "a"
    assert output[3]["call_id"] == "b"
    added = [e["output_index"] for e in events if e["type"] == "response.output_item.added"]
    done = [e["output_index"] for e in events if e["type"] == "response.output_item.done"]
    assert added == done == [0, 1, 2, 3]
    assert response["output_text"] == "Hello"
    assert response["usage"]["total_tokens"] == 7 and response["status"] == "completed"


def test_an_empty_answer_is_one_empty_message() -> None:
    builder = _builder()
    builder.add(_chunk(finish="stop"))
    _, response = builder.finish()
    [message] = response["output"]
    assert message["type"] == "message" and message["content"][0]["text"] == ""


def test_failure_keeps_what_was_said() -> None:
    builder = _builder()
    builder.add(_chunk(content="Hel"))
    events, response = builder.fail(UpstreamError("Ollama: boom"))
    assert [e["type"] for e in events][-2:] == ["error", "response.failed"]
    assert response["status"] == "failed"
    assert response["error"] == {"code": "server_error", "message": "Ollama: boom"}
    assert response["output"][0]["status"] == "incomplete"
    assert response["output_text"] == "Hel"


async def _written(chunks: list[ChatCompletionChunk]) -> list[bytes]:
    from connector.dialects.openai_responses import sse_events

    async def source() -> Any:
        for chunk in chunks:
            yield chunk

    return [w async for w in sse_events(source(), builder=_builder(), on_final=None)]


def _types(write: bytes) -> list[str]:
    return [line[7:] for line in write.decode().splitlines() if line.startswith("event: ")]


async def test_a_stream_writes_once_per_chunk_its_opening_events_with_the_first() -> None:
    usage = Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5)
    writes = await _written(
        [_chunk(content="Hel"), _chunk(content="lo"), _chunk(finish="stop"), _last(usage)]
    )
    # One send through the server per chunk: the opening events ride with the first.
    assert _types(writes[0]) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
    ]
    assert _types(writes[1]) == ["response.output_text.delta"]
    assert _types(writes[-1])[-1] == "response.completed"
    assert len(writes) == 3  # the finish and the usage add no events of their own


async def test_a_stream_without_output_still_opens_before_it_completes() -> None:
    writes = await _written([_last(Usage())])
    types = _types(b"".join(writes))
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
