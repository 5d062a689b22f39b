"""Ollama's /api/chat, /api/generate and /api/embed bodies as the connector's calls."""

from __future__ import annotations

import json
from typing import Any

from connector.providers.base import EmbedCall, OllamaInput
from connector.schemas import (
    ChatMessage,
    ChatRequest,
    FunctionCall,
    JsonSchemaFormat,
    ResponseFormat,
    ToolCall,
)
from connector.schemas.ollama import (
    Format,
    OllamaChatRequest,
    OllamaEmbeddingsRequest,
    OllamaEmbedRequest,
    OllamaGenerateRequest,
    OllamaMessage,
)
from connector.services.embeddings import EmbedRequest

# Ollama's levels to OpenAI's reasoning_effort; `true` leaves the model its default.
_EFFORT = {False: "none", "low": "low", "medium": "medium", "high": "high", "max": "xhigh"}
# The first bytes of base64 image data, for the data URL's media type.
_IMAGE_TYPES = (("/9j/", "image/jpeg"), ("R0lGOD", "image/gif"), ("UklGR", "image/webp"))


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


def is_unload(keep_alive: str | int | float | None) -> bool:
    """`keep_alive: 0` (or "0", "0s", "0m") on a load call unloads the model."""
    if keep_alive is None:
        return False
    if isinstance(keep_alive, int | float):
        return keep_alive == 0
    return keep_alive.strip().rstrip("smh") in ("0", "0.0")


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
    # The model names its endpoint (`ENDPOINT/NAME`), or, bare, goes where the registry
    # routes bare names: the endpoint whose catalogue has it.
    return EmbedRequest(model=body.model, call=call)
