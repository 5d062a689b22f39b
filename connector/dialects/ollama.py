"""Ollama's own API (`/api/*`), as Open WebUI, VS Code, Zed, Continue and the ollama
libraries speak it (github.com/ollama/ollama docs/api.md, api/types.go).

    /api/chat, /api/generate body -> ChatRequest (+ OllamaInput: `think` as written,
                                     generate's prompt fields) -> ChatService
    ChatService chunks            -> NDJSON lines: `message` (chat) or `response`
                                     (generate) pieces, then one `done: true` line with
                                     done_reason and Ollama's counters; `stream: false`
                                     is the same answer as one object
    ConnectorError                -> {"error": "..."} with the status Ollama uses

The done line carries Ollama's own timings when the upstream is Ollama, and the
connector's measurements (in ns) when it is OpenAI. Tool calls go out whole, with
JSON-object arguments, as Ollama sends them (OpenAI streams arguments in pieces).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, get_args

from starlette.responses import JSONResponse

from connector.config import ProviderName
from connector.dialects.base import dumps, public_message
from connector.errors import ConnectorError, UpstreamError
from connector.providers.base import EmbedCall, EmbedResult, OllamaInput
from connector.schemas import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatMessage,
    ChatRequest,
    FunctionCall,
    JsonSchemaFormat,
    Metrics,
    ResponseFormat,
    ToolCall,
    Usage,
)
from connector.schemas.ollama import (
    EmbedAnswer,
    Format,
    OllamaChatRequest,
    OllamaEmbeddingsRequest,
    OllamaEmbedRequest,
    OllamaGenerateRequest,
    OllamaMessage,
    Timings,
)
from connector.services.chat import ChatStream
from connector.services.embeddings import EmbedRequest

_PROVIDERS: tuple[str, ...] = get_args(ProviderName)
_NS_PER_MS = 1_000_000
# Ollama's levels to OpenAI's reasoning_effort; `true` leaves the model its default.
_EFFORT = {False: "none", "low": "low", "medium": "medium", "high": "high", "max": "xhigh"}
# The first bytes of base64 image data, for the data URL's media type.
_IMAGE_TYPES = (("/9j/", "image/jpeg"), ("R0lGOD", "image/gif"), ("UklGR", "image/webp"))


# -- errors ------------------------------------------------------------------------


def error_body(exc: ConnectorError) -> dict[str, str]:
    """Ollama's error object: the one producer of this envelope."""
    return {"error": public_message(exc)}


def error_status(exc: ConnectorError) -> int:
    # Ollama answers a body it cannot use with 400; the connector's 422 is that case.
    return 400 if exc.status_code == 422 else exc.status_code


def error_response(exc: ConnectorError) -> JSONResponse:
    return JSONResponse(error_body(exc), status_code=error_status(exc), headers=exc.headers)


def error_line(exc: ConnectorError) -> bytes:
    """A failure after the stream started, as Ollama reports it: one error line."""
    return line(error_body(exc))


def line(value: Any) -> bytes:
    return dumps(value).encode() + b"\n"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- requests ------------------------------------------------------------------------


def provider_for(model: str) -> ProviderName | None:
    """A bare name on Ollama's API is an Ollama model, whatever the default provider;
    `openai/NAME` (or `ollama/NAME`) names its provider in the model itself."""
    prefix, _, rest = model.partition("/")
    return None if rest and prefix in _PROVIDERS else "ollama"


def response_format(fmt: Format | None) -> ResponseFormat | None:
    if not fmt:
        return None
    if fmt == "json":
        return ResponseFormat(type="json_object")
    if isinstance(fmt, dict):
        return ResponseFormat(
            type="json_schema", json_schema=JsonSchemaFormat(name="format", schema=fmt)
        )
    return None


def _data_url(image: str) -> str:
    if image.startswith("data:"):
        return image
    kind = next((t for prefix, t in _IMAGE_TYPES if image.startswith(prefix)), "image/png")
    return f"data:{kind};base64,{image}"


def _content(text: str | None, images: list[str] | None) -> str | list[dict[str, Any]]:
    if not images:
        return text or ""
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    parts += [{"type": "image_url", "image_url": {"url": _data_url(i)}} for i in images]
    return parts


def _messages(messages: list[OllamaMessage]) -> list[ChatMessage]:
    """Ollama's messages as OpenAI's. Ollama ties a tool result to its call by the
    tool's name only; OpenAI needs ids, so calls get ids and results take the id of
    the earliest open call of the same name."""
    out: list[ChatMessage] = []
    open_calls: list[tuple[str, str]] = []
    for number, msg in enumerate(messages):
        calls = None
        if msg.tool_calls:
            calls = []
            for i, call in enumerate(msg.tool_calls):
                call_id = call.id or f"call_{number}_{i}"
                open_calls.append((call_id, call.function.name))
                calls.append(
                    ToolCall(
                        index=i,
                        id=call_id,
                        function=FunctionCall(
                            name=call.function.name, arguments=json.dumps(call.function.arguments)
                        ),
                    )
                )
        answered = msg.tool_call_id
        if msg.role == "tool" and answered is None and open_calls:
            match = next((c for c in open_calls if c[1] == msg.tool_name), open_calls[0])
            answered = match[0]
        if answered is not None:
            open_calls = [c for c in open_calls if c[0] != answered]
        out.append(
            ChatMessage(
                role=msg.role,
                content=_content(msg.content, msg.images),
                name=msg.tool_name if msg.role == "tool" else None,
                tool_calls=calls,
                tool_call_id=answered if msg.role == "tool" else None,
                reasoning_content=msg.thinking or None,
            )
        )
    return out


def _number(value: Any, low: float, high: float | None = None) -> bool:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= low
    return ok and (high is None or value <= high)


def _sampling(options: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Ollama's options that Chat Completions also has become the request's own fields
    (so an OpenAI-compatible upstream gets them too: temperature, top_p, seed, stop,
    num_predict as max_tokens); the rest stay Ollama options. Values outside OpenAI's
    ranges (num_predict -1, "no limit") stay options, for Ollama alone."""
    rest = dict(options or {})
    typed: dict[str, Any] = {}
    for key, field, low, high in (
        ("temperature", "temperature", 0, 2),
        ("top_p", "top_p", 0, 1),
        ("num_predict", "max_tokens", 1, None),
    ):
        if _number(rest.get(key), low, high):
            typed[field] = rest.pop(key)
    if isinstance(rest.get("seed"), int) and not isinstance(rest.get("seed"), bool):
        typed["seed"] = rest.pop("seed")
    stop = rest.get("stop")
    if isinstance(stop, str) or (isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
        typed["stop"] = rest.pop("stop")
    return typed, rest or None


def _common(body: OllamaChatRequest | OllamaGenerateRequest) -> dict[str, Any]:
    effort = None if body.think is None else _EFFORT.get(body.think)
    typed, options = _sampling(body.options)
    return {
        "model": body.model,
        "provider": provider_for(body.model),
        "response_format": response_format(body.format),
        "reasoning_effort": effort,
        "options": options,
        "keep_alive": body.keep_alive,
        "stream": body.stream,
        **typed,
    }


def chat_request(body: OllamaChatRequest) -> tuple[ChatRequest, OllamaInput]:
    request = ChatRequest(messages=_messages(body.messages), tools=body.tools, **_common(body))
    return request, OllamaInput(think=body.think)


def generate_request(body: OllamaGenerateRequest) -> tuple[ChatRequest, OllamaInput]:
    """The prompt as chat messages (for providers that only chat) and, for Ollama, as
    written: /api/generate reaches Ollama as /api/generate."""
    messages = [ChatMessage(role="system", content=body.system)] if body.system else []
    messages.append(ChatMessage(role="user", content=_content(body.prompt, body.images)))
    native = OllamaInput(
        think=body.think,
        prompt=body.prompt or "",
        suffix=body.suffix,
        system=body.system,
        template=body.template,
        raw=body.raw,
        images=body.images,
        context=body.context,
    )
    return ChatRequest(messages=messages, **_common(body)), native


# -- answers ---------------------------------------------------------------------------


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


def is_unload(keep_alive: str | int | float | None) -> bool:
    """`keep_alive: 0` (or "0", "0s", "0m") on a load call unloads the model."""
    if keep_alive is None:
        return False
    if isinstance(keep_alive, int | float):
        return keep_alive == 0
    return keep_alive.strip().rstrip("smh") in ("0", "0.0")


async def ndjson_objects(items: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    """Ollama's progress streams (pull), one object a line; a failure is an error line."""
    try:
        async for item in items:
            yield line(item)
    except ConnectorError as exc:
        yield error_line(exc)


def embed_request(body: OllamaEmbedRequest | OllamaEmbeddingsRequest) -> EmbedRequest:
    """`/api/embed`, or the older `/api/embeddings` (one `prompt`), as an embedding call."""
    if isinstance(body, OllamaEmbeddingsRequest):
        call = EmbedCall(model=body.model, input=body.prompt, legacy=True)
    else:
        call = EmbedCall(
            model=body.model,
            input=body.input,
            truncate=body.truncate,
            dimensions=body.dimensions,
        )
    call.options, call.keep_alive = body.options, body.keep_alive
    return EmbedRequest(model=body.model, provider=provider_for(body.model), call=call)


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
