"""The OpenAI dialect writes text and reasoning chunks straight from their fields
(`openai_chat.chunk_json`): byte for byte what the models' own serializers write, for
every combination of the fields a streamed delta carries and for text no JSON encoder
should get wrong; `/ws/chat` wraps the same bytes in its chunk message."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator

import pytest

from connector.api.routes.ws import chunk_message_prefix
from connector.dialects.openai_chat import chunk_json
from connector.schemas import (
    ChatCompletionChunk,
    ChunkChoice,
    Delta,
    FunctionCall,
    Metrics,
    ToolCall,
    Usage,
)
from connector.schemas.ws import ChatSocketChunk

TEXTS = [
    None,
    "",
    "Hello",
    'quote " backslash \\ slash /',
    "é 中文 👋",
    "\n\t\r\x00\x01\x1f\x7f",
    "\u2028\u2029",
]


def _chunk(**delta: object) -> ChatCompletionChunk:
    finish = delta.pop("finish_reason", None)
    return ChatCompletionChunk(
        id="chatcmpl-abc",
        created=1_796_000_000,
        model="gpt-oss:20b",
        provider="ollama",
        choices=[ChunkChoice(delta=Delta(**delta), finish_reason=finish)],
    )


@pytest.mark.parametrize(
    ("role", "content", "reasoning", "finish"),
    list(itertools.product([None, "assistant"], TEXTS, [None, "so"], [None, "stop", "length"])),
)
def test_text_chunks_are_written_as_the_models_write_them(
    role: str | None, content: str | None, reasoning: str | None, finish: str | None
) -> None:
    chunk = _chunk(role=role, content=content, reasoning_content=reasoning, finish_reason=finish)
    assert chunk_json(chunk) == chunk.model_dump_json().encode()
    assert json.loads(chunk_json(chunk))["choices"][0]["delta"].get("content") == content


def test_other_chunks_go_through_the_models() -> None:
    call = ToolCall(index=0, id="call_1", function=FunctionCall(name="f", arguments="{}"))
    usage = Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5)
    chunks = [
        _chunk(tool_calls=[call]),
        ChatCompletionChunk(
            id="c", created=1, model="m", provider="openai", choices=[], usage=usage
        ),
        ChatCompletionChunk(
            id="c",
            created=1,
            model="m",
            provider="openai",
            choices=[],
            usage=usage,
            metrics=Metrics(latency_ms=1.5, cost_usd=0.0),
            parsed={"a": 1},
        ),
    ]
    for chunk in chunks:
        assert chunk_json(chunk) == chunk.model_dump_json().encode()


@pytest.mark.parametrize("rid", ["r1", "", 'quo"te \\ /', "é 中文 👋", "\n\x00\u2028"])
@pytest.mark.parametrize("content", TEXTS)
def test_websocket_chunk_messages_are_written_as_their_model_writes_them(
    rid: str, content: str | None
) -> None:
    """`/ws/chat` frames each text chunk from `chunk_json` and a per-request prefix; the
    id is the client's own string."""
    chunk = _chunk(role="assistant", content=content)
    built = chunk_message_prefix(rid) + chunk_json(chunk) + b"}"
    assert built == ChatSocketChunk(id=rid, chunk=chunk).model_dump_json().encode()


async def _frames(include_usage: bool) -> list[bytes]:
    from connector.dialects.openai_chat import sse_frames

    def chunk(choices: list[ChunkChoice], **extra: object) -> ChatCompletionChunk:
        return ChatCompletionChunk(
            id="chatcmpl-1", created=0, model="m", provider="p", choices=choices, **extra
        )

    async def source() -> AsyncIterator[ChatCompletionChunk]:
        yield chunk([ChunkChoice(delta=Delta(role="assistant", content="Hi"))])
        yield chunk([ChunkChoice(delta=Delta(), finish_reason="stop")])
        yield chunk([], usage=Usage(prompt_tokens=1, completion_tokens=1, total_tokens=2))

    return [f async for f in sse_frames(source(), include_usage=include_usage)]


async def test_the_usage_chunk_is_written_with_done_and_only_when_asked_for() -> None:
    asked = await _frames(include_usage=True)
    assert len(asked) == 3
    usage, done = asked[-1].split(b"\n\n")[:2]
    assert json.loads(usage.removeprefix(b"data: "))["choices"] == []
    assert done == b"data: [DONE]"
    plain = await _frames(include_usage=False)
    assert plain[-1] == b"data: [DONE]\n\n" and b'"choices":[]' not in b"".join(plain)
