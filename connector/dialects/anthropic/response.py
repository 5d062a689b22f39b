"""The chat service's answer as Anthropic's message: the blocking body, and the
stream of events that builds the same message."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from connector.dialects.anthropic.errors import error_frame, event
from connector.errors import ConnectorError
from connector.schemas import ChatCompletion, ChatCompletionChunk
from connector.schemas.anthropic import MessageBody, StopReason, UsageBody

log = logging.getLogger("connector.dialects.anthropic")


def message_id(chat_id: str) -> str:
    return "msg_" + chat_id.removeprefix("chatcmpl-")


def signature(thinking: str) -> str:
    """Anthropic signs thinking so it can be handed back unchanged; a local model's
    thinking has no such signature, so the block carries a digest of its text."""
    return hashlib.sha256(thinking.encode()).hexdigest()


def stop_reason(finish_reason: str | None, used_tools: bool) -> StopReason:
    if used_tools or finish_reason == "tool_calls":
        return "tool_use"
    if finish_reason == "length":
        return "max_tokens"
    if finish_reason == "content_filter":
        return "refusal"
    # Local servers report a stop sequence as "stop" too, so it reads as end_turn.
    return "end_turn"


def usage(input_tokens: int, output_tokens: int) -> UsageBody:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def tool_input(arguments: str | None) -> dict[str, Any]:
    """A tool call's arguments as the object Anthropic's `input` is; a small model's
    malformed JSON becomes {} (the tool then reports what is missing)."""
    try:
        value = json.loads(arguments or "{}")
    except ValueError:
        log.warning("A tool call's arguments were not JSON: %.200r", arguments)
        return {}
    return value if isinstance(value, dict) else {}


def _tool_id(upstream_id: str | None) -> str:
    return upstream_id or f"toolu_{uuid.uuid4().hex[:24]}"


def message_body(completion: ChatCompletion, model: str) -> MessageBody:
    """The blocking answer: `model` is the name the client asked for."""
    choice = completion.choices[0]
    message = choice.message
    content: list[dict[str, Any]] = []
    if message.reasoning_content:
        content.append(
            {
                "type": "thinking",
                "thinking": message.reasoning_content,
                "signature": signature(message.reasoning_content),
            }
        )
    if message.content:
        content.append({"type": "text", "text": message.content})
    for call in message.tool_calls or ():
        content.append(
            {
                "type": "tool_use",
                "id": _tool_id(call.id),
                "name": call.function.name or "",
                "input": tool_input(call.function.arguments),
            }
        )
    return {
        "id": message_id(completion.id),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(choice.finish_reason, bool(message.tool_calls)),
        "stop_sequence": None,
        "usage": usage(completion.usage.prompt_tokens, completion.usage.completion_tokens),
    }


# -- stream ----------------------------------------------------------------------------


class _Blocks:
    """Turns chat deltas into Anthropic's content blocks: one block open at a time,
    numbered in order; a thinking block is signed as it closes."""

    def __init__(self) -> None:
        self.index = -1
        self.open: str | None = None  # "thinking", "text", or "tool:<call index>"
        self.thinking: list[str] = []
        self.tools: set[str] = set()
        self.pinged = False

    def start(self, kind: str, block: dict[str, Any]) -> list[bytes]:
        frames = self.close()
        self.index += 1
        self.open = kind
        frames.append(
            event(
                "content_block_start",
                {"type": "content_block_start", "index": self.index, "content_block": block},
            )
        )
        if not self.pinged:  # where Anthropic sends its first ping
            self.pinged = True
            frames.append(event("ping", {"type": "ping"}))
        return frames

    def delta(self, delta: dict[str, Any]) -> bytes:
        return event(
            "content_block_delta",
            {"type": "content_block_delta", "index": self.index, "delta": delta},
        )

    def close(self) -> list[bytes]:
        if self.open is None:
            return []
        frames = []
        if self.open == "thinking":
            text = "".join(self.thinking)
            frames.append(self.delta({"type": "signature_delta", "signature": signature(text)}))
            self.thinking = []
        frames.append(
            event("content_block_stop", {"type": "content_block_stop", "index": self.index})
        )
        self.open = None
        return frames

    def feed(self, chunk: ChatCompletionChunk) -> list[bytes]:
        delta = chunk.choices[0].delta
        frames: list[bytes] = []
        if delta.reasoning_content:
            if self.open != "thinking":
                frames += self.start(
                    "thinking", {"type": "thinking", "thinking": "", "signature": ""}
                )
            self.thinking.append(delta.reasoning_content)
            frames.append(
                self.delta({"type": "thinking_delta", "thinking": delta.reasoning_content})
            )
        if delta.content:
            if self.open != "text":
                frames += self.start("text", {"type": "text", "text": ""})
            frames.append(self.delta({"type": "text_delta", "text": delta.content}))
        for call in delta.tool_calls or ():
            key = f"tool:{call.index if call.index is not None else len(self.tools)}"
            if key != self.open:
                if key in self.tools:  # a block cannot reopen; upstreams stream calls in turn
                    log.warning("Dropped a late piece of a finished tool call: %s", key)
                    continue
                self.tools.add(key)
                frames += self.start(
                    key,
                    {
                        "type": "tool_use",
                        "id": _tool_id(call.id),
                        "name": call.function.name or "",
                        "input": {},
                    },
                )
            if call.function.arguments:
                frames.append(
                    self.delta(
                        {"type": "input_json_delta", "partial_json": call.function.arguments}
                    )
                )
        return frames


async def sse_events(
    chunks: AsyncIterator[ChatCompletionChunk], *, model: str, input_estimate: int
) -> AsyncIterator[bytes]:
    """The chat stream as Anthropic streams a message. `message_start` carries an
    estimate of the input tokens (the upstream counts them only at the end);
    `message_delta` carries the upstream's counts.

    The frames of one chunk go out as one write: `message_start` with the first block's
    start and delta, the last block's stop with `message_delta` and `message_stop`.
    Each write is a send through the server and a system call (about 10 us apiece),
    and the first chunk is already in hand when this starts (`open_stream`), so
    nothing waits for the joining."""
    blocks = _Blocks()
    finish: str | None = None
    started = False
    try:
        async for chunk in chunks:
            frames: list[bytes] = []
            if not started:
                started = True
                start: MessageBody = {
                    "id": message_id(chunk.id),
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": usage(input_estimate, 0),
                }
                frames.append(event("message_start", {"type": "message_start", "message": start}))
            if chunk.choices:
                finish = chunk.choices[0].finish_reason or finish
                frames += blocks.feed(chunk)
                if frames:
                    yield b"".join(frames)
                continue
            frames += blocks.close()
            counts = chunk.usage
            frames.append(
                event(
                    "message_delta",
                    {
                        "type": "message_delta",
                        "delta": {
                            "stop_reason": stop_reason(finish, bool(blocks.tools)),
                            "stop_sequence": None,
                        },
                        "usage": usage(
                            counts.prompt_tokens if counts else 0,
                            counts.completion_tokens if counts else 0,
                        ),
                    },
                )
            )
            frames.append(event("message_stop", {"type": "message_stop"}))
            yield b"".join(frames)
    except ConnectorError as exc:
        yield error_frame(exc)
