"""The Anthropic dialect's stream on its own (`connector/dialects/anthropic/response.py`):
which events each chat chunk becomes, and how they are written."""

from __future__ import annotations

from typing import Any

from connector.dialects.anthropic import sse_events
from connector.schemas import ChatCompletionChunk, ChunkChoice, Delta, Usage


def _chunk(content: str | None = None, finish: str | None = None) -> ChatCompletionChunk:
    return ChatCompletionChunk(
        id="chatcmpl-1",
        created=0,
        model="m",
        provider="ollama",
        choices=[ChunkChoice(delta=Delta(content=content), finish_reason=finish)],
    )


def _last(usage: Usage) -> ChatCompletionChunk:
    return ChatCompletionChunk(
        id="chatcmpl-1", created=0, model="m", provider="ollama", choices=[], usage=usage
    )


async def _written(chunks: list[ChatCompletionChunk]) -> list[bytes]:
    async def source() -> Any:
        for chunk in chunks:
            yield chunk

    return [w async for w in sse_events(source(), model="claude-x", input_estimate=3)]


def _types(write: bytes) -> list[str]:
    return [line[7:] for line in write.decode().splitlines() if line.startswith("event: ")]


async def test_a_message_is_written_once_per_chunk() -> None:
    usage = Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5)
    writes = await _written([_chunk("Hel"), _chunk("lo"), _chunk(finish="stop"), _last(usage)])
    # Each write is a send through the server: the message's start rides with its first
    # block, its end is one write.
    assert [_types(w) for w in writes] == [
        ["message_start", "content_block_start", "ping", "content_block_delta"],
        ["content_block_delta"],
        ["content_block_stop", "message_delta", "message_stop"],
    ]
    assert b'"stop_reason":"end_turn"' in writes[-1] and b'"output_tokens":2' in writes[-1]


async def test_a_message_without_output_still_starts_and_stops() -> None:
    writes = await _written([_last(Usage())])
    assert [_types(w) for w in writes] == [["message_start", "message_delta", "message_stop"]]
