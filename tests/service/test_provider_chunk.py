"""`ProviderChunk.absorb`: the pieces of one network read travel as few chunks as keep
thinking, text and tool calls in separate pieces, in their order, with a tool call's
streamed arguments joined and the last finish reason, usage and timings kept."""

from __future__ import annotations

from connector.providers.base import ProviderChunk
from connector.schemas import FunctionCall, ToolCall, Usage


def _call(index: int, arguments: str, id: str | None = None, name: str | None = None) -> ToolCall:
    return ToolCall(index=index, id=id, function=FunctionCall(name=name, arguments=arguments))


def _merged(pieces: list[ProviderChunk]) -> list[ProviderChunk]:
    out: list[ProviderChunk] = []
    for piece in pieces:
        if not out or not out[-1].absorb(piece):
            out.append(piece)
    return out


def test_text_pieces_become_one_with_the_last_finish_and_usage() -> None:
    usage = Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5)
    merged = _merged(
        [
            ProviderChunk(),
            ProviderChunk(content="Hel"),
            ProviderChunk(content="lo"),
            ProviderChunk(finish_reason="stop"),
            ProviderChunk(usage=usage, timings={"eval_count": 2}),
        ]
    )
    assert len(merged) == 1
    only = merged[0]
    assert (only.content, only.finish_reason, only.usage, only.timings) == (
        "Hello",
        "stop",
        usage,
        {"eval_count": 2},
    )


def test_thinking_and_text_stay_apart_in_their_order() -> None:
    merged = _merged(
        [
            ProviderChunk(reasoning="h"),
            ProviderChunk(reasoning="m"),
            ProviderChunk(content="Hi"),
            ProviderChunk(content="!"),
            ProviderChunk(reasoning="again"),
        ]
    )
    assert [(p.reasoning, p.content) for p in merged] == [("hm", ""), ("", "Hi!"), ("again", "")]


def test_a_tool_calls_arguments_are_joined_and_another_call_follows() -> None:
    merged = _merged(
        [
            ProviderChunk(content="Let me look."),
            ProviderChunk(tool_calls=[_call(0, "", id="call_1", name="search")]),
            ProviderChunk(tool_calls=[_call(0, '{"q":')]),
            ProviderChunk(tool_calls=[_call(0, '"x"}')]),
            ProviderChunk(tool_calls=[_call(1, "{}", id="call_2", name="time")]),
            ProviderChunk(finish_reason="tool_calls"),
        ]
    )
    assert [p.content for p in merged] == ["Let me look.", ""]
    calls = merged[1].tool_calls
    assert calls is not None
    assert [(c.index, c.id, c.function.name, c.function.arguments) for c in calls] == [
        (0, "call_1", "search", '{"q":"x"}'),
        (1, "call_2", "time", "{}"),
    ]
    assert merged[1].finish_reason == "tool_calls"
