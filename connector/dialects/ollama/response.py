"""The chat stream as Ollama answers it: NDJSON lines, or one object, with Ollama's
counters in the done line."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from connector.dialects.ollama.errors import error_line, line
from connector.errors import ConnectorError, UpstreamError
from connector.providers.base import EmbedResult
from connector.schemas import (
    ChatCompletion,
    ChatCompletionChunk,
    FunctionCall,
    Metrics,
    ToolCall,
    Usage,
)
from connector.schemas.ollama import (
    EmbedAnswer,
    Timings,
)
from connector.services.chat import ChatStream
from connector.services.embeddings import EmbedRequest

_NS_PER_MS = 1_000_000


_second: list[Any] = [-1, ""]  # the last second formatted, and its text


def now() -> str:
    """Ollama's `created_at`, e.g. 2026-12-02T10:00:00.123456Z. Every line of a stream
    carries one: the date and time are formatted once a second (strftime alone took
    5 us a line)."""
    second, ns = divmod(time.time_ns(), 1_000_000_000)
    if _second[0] != second:
        _second[0], _second[1] = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{_second[1]}.{ns // 1000:06d}Z"


def _done_reason(finish_reason: str | None) -> str:
    # Ollama says "stop" for an answer that ends in tool calls.
    return "length" if finish_reason == "length" else "stop"


def timings(upstream: dict[str, int] | None, usage: Usage, metrics: Metrics | None) -> Timings:
    """The done line's counters: the upstream's own (Ollama), else measured ones."""
    if upstream:
        own: Timings = {k: v for k, v in upstream.items() if k in Timings.__annotations__}  # type: ignore[assignment]
        own["prompt_eval_count"] = usage.prompt_tokens
        own["eval_count"] = usage.completion_tokens
        return own
    total = metrics.latency_ms if metrics else 0.0
    first = metrics.ttft_ms if metrics and metrics.ttft_ms is not None else total
    return {
        "total_duration": int(total * _NS_PER_MS),
        "load_duration": 0,
        "prompt_eval_count": usage.prompt_tokens,
        "prompt_eval_duration": int(first * _NS_PER_MS),
        "eval_count": usage.completion_tokens,
        "eval_duration": int((total - first) * _NS_PER_MS),
    }


def _wire_calls(calls: list[ToolCall]) -> list[dict[str, Any]]:
    out = []
    for i, call in enumerate(calls):
        text = call.function.arguments or ""
        try:
            arguments = json.loads(text) if text.strip() else {}
        except ValueError as exc:
            raise UpstreamError(
                f"The model's tool call '{call.function.name}' has arguments that are not "
                f"JSON: {text[:200]!r}"
            ) from exc
        function = {"index": i, "name": call.function.name or "", "arguments": arguments}
        out.append({**({"id": call.id} if call.id else {}), "function": function})
    return out


class _Lines:
    """Builds the answer objects of one chat or generate call."""

    def __init__(self, model: str, generate: bool) -> None:
        self.model = model
        self.generate = generate

    def piece(
        self, content: str, thinking: str | None, calls: list[dict[str, Any]] | None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model, "created_at": now()}
        if self.generate:
            out["response"] = content
            if thinking:
                out["thinking"] = thinking
        else:
            message: dict[str, Any] = {"role": "assistant", "content": content}
            if thinking:
                message["thinking"] = thinking
            if calls:
                message["tool_calls"] = calls
            out["message"] = message
        out["done"] = False
        return out

    def done(
        self, piece: dict[str, Any], finish_reason: str | None, counters: Timings
    ) -> dict[str, Any]:
        piece["done"] = True
        piece["done_reason"] = _done_reason(finish_reason)
        piece.update(counters)
        return piece


async def ndjson_lines(
    chunks: AsyncIterator[ChatCompletionChunk], *, stream: ChatStream, model: str, generate: bool
) -> AsyncIterator[bytes]:
    """The chat stream as Ollama streams it; a failure after the start is an error line."""
    lines = _Lines(model, generate)
    calls: dict[int, ToolCall] = {}
    finish: str | None = None
    try:
        async for chunk in chunks:
            if not chunk.choices:  # the last chunk: usage and metrics
                if calls:
                    yield line(lines.piece("", None, _wire_calls(list(calls.values()))))
                counters = timings(stream.timings, chunk.usage or Usage(), chunk.metrics)
                yield line(lines.done(lines.piece("", None, None), finish, counters))
                continue
            choice = chunk.choices[0]
            finish = choice.finish_reason or finish
            delta = choice.delta
            for call in delta.tool_calls or ():
                index = call.index if call.index is not None else len(calls)
                known = calls.setdefault(
                    index, ToolCall(index=index, id=call.id, function=FunctionCall(arguments=""))
                )
                known.id = known.id or call.id
                known.function.name = known.function.name or call.function.name
                known.function.arguments = (known.function.arguments or "") + (
                    call.function.arguments or ""
                )
            if delta.content or delta.reasoning_content:
                yield line(lines.piece(delta.content or "", delta.reasoning_content, None))
    except ConnectorError as exc:
        yield error_line(exc)


def blocking_body(
    completion: ChatCompletion, *, stream: ChatStream, model: str, generate: bool
) -> dict[str, Any]:
    """`stream: false`: the whole answer as one done object."""
    lines = _Lines(model, generate)
    choice = completion.choices[0]
    message = choice.message
    calls = _wire_calls(message.tool_calls) if message.tool_calls else None
    piece = lines.piece(message.content or "", message.reasoning_content, calls)
    counters = timings(stream.timings, completion.usage, completion.metrics)
    return lines.done(piece, choice.finish_reason, counters)


def load_answer(model: str, reason: str, generate: bool) -> dict[str, Any]:
    """What Ollama answers a load/unload call, for a provider with nothing to load."""
    lines = _Lines(model, generate)
    piece = lines.piece("", None, None)
    piece.update(done=True, done_reason=reason)
    return piece


async def ndjson_objects(items: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    """Ollama's progress streams (pull), one object a line; a failure is an error line."""
    try:
        async for item in items:
            yield line(item)
    except ConnectorError as exc:
        yield error_line(exc)


def embed_answer(wanted: EmbedRequest, result: EmbedResult) -> dict[str, Any]:
    """The answer for a provider that is not Ollama (Ollama's passes through)."""
    if wanted.call.legacy:
        return {"embedding": result.vectors[0] if result.vectors else []}
    answer: EmbedAnswer = {
        "model": wanted.model,
        "embeddings": result.vectors,
        "total_duration": int(result.latency_ms * _NS_PER_MS),
        "load_duration": 0,
        "prompt_eval_count": result.prompt_tokens,
    }
    return dict(answer)
