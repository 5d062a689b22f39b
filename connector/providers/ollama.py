"""Ollama over its native API (`/api/chat`, NDJSON streaming).

The native API rather than Ollama's `/v1` layer because only it carries `think`
levels, `format` schemas and the exact token counters.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import AsyncGenerator, Callable, Iterator, Mapping
from contextlib import aclosing
from typing import Any

from connector.errors import (
    BadRequestError,
    ConnectorError,
    ModelNotFoundError,
    UpstreamError,
    UpstreamUnavailableError,
)
from connector.providers.base import (
    EmbedCall,
    EmbedResult,
    ModelListing,
    OllamaInput,
    ProviderCall,
    ProviderChunk,
    ProviderOptions,
    per_read,
)
from connector.providers.endpoints import EndpointConfig
from connector.providers.http import (
    Answer,
    ErrorDetail,
    UpstreamHTTP,
    common_status_error,
    idle_limited,
    lines,
    parse_stream_object,
    short_timeout,
)
from connector.schemas import (
    ChatMessage,
    ChatRequest,
    FunctionCall,
    ModelInfo,
    ToolCall,
    Usage,
)


def _text_and_images(content: str | list[dict[str, Any]] | None) -> tuple[str, list[str]]:
    if content is None:
        return "", []
    if isinstance(content, str):
        return content, []
    texts: list[str] = []
    images: list[str] = []
    for part in content:
        if part.get("type") == "text":
            texts.append(str(part.get("text", "")))
        elif part.get("type") == "image_url":
            image = part.get("image_url")
            url = image.get("url", "") if isinstance(image, dict) else image
            images.append(_image_base64(url))
    return "\n".join(texts), images


def _image_base64(url: object) -> str:
    """Ollama takes images as bare base64; data URLs carry it after the comma. Ollama
    cannot fetch a URL, and answers garbage with a 500-ish error of its own: both are
    the client's mistake, said here."""
    if not isinstance(url, str) or not url.startswith("data:") or "," not in url:
        raise BadRequestError(
            "Ollama takes images as base64 data URLs (data:image/png;base64,...), not links.",
            param="messages",
        )
    data = url.split(",", 1)[1]
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequestError(
            "An image's data URL is not valid base64.", param="messages"
        ) from None
    return data


def _arguments(text: str | None) -> Any:
    """A tool call's arguments from the history: OpenAI sends a JSON string, Ollama
    wants the object itself."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise BadRequestError(
            "An assistant message's tool_calls[].function.arguments must be a JSON "
            f"object (as a string); got {str(text)[:100]!r}.",
            param="messages",
        )
    return value


def _message(msg: ChatMessage) -> dict[str, Any]:
    text, images = _text_and_images(msg.content)
    role = "system" if msg.role == "developer" else msg.role
    out: dict[str, Any] = {"role": role, "content": text}
    if images:
        out["images"] = images
    if msg.tool_calls:
        out["tool_calls"] = [
            {
                "function": {
                    "name": call.function.name,
                    "arguments": _arguments(call.function.arguments),
                }
            }
            for call in msg.tool_calls
        ]
    if msg.role == "tool" and msg.name:
        out["tool_name"] = msg.name
    return out


# Sampling fields OpenAI-compatible clients send at the top level (llama.cpp and vLLM
# take them there) that Ollama reads from `options`.
_OPTION_FIELDS = (
    "top_k",
    "min_p",
    "typical_p",
    "repeat_penalty",
    "repeat_last_n",
    "presence_penalty",
    "frequency_penalty",
    "num_ctx",
)


def _extra_options(req: ChatRequest) -> dict[str, Any]:
    """Ollama model options beyond the typed fields: the request's `options` (any of
    Ollama's, e.g. `num_ctx`), then the top-level sampling fields above."""
    extra = req.model_extra or {}
    options = dict(req.options or {})
    options.update({k: extra[k] for k in _OPTION_FIELDS if extra.get(k) is not None})
    return options


# The done line's counters, passed on as Ollama's own timings (durations in ns).
TIMING_FIELDS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)


def _generate_fields(model: str, gen: OllamaInput) -> dict[str, Any]:
    """An /api/generate body: the prompt as the client wrote it, so `raw`, `suffix`,
    `template` and `context` mean to Ollama what they meant to the client."""
    payload: dict[str, Any] = {"model": model, "prompt": gen.prompt, "stream": True}
    for key in ("suffix", "system", "template", "raw", "images", "context"):
        value = getattr(gen, key)
        if value is not None:
            payload[key] = value
    return payload


def build_payload(call: ProviderCall) -> dict[str, Any]:
    req: ChatRequest = call.request
    payload: dict[str, Any]
    native = call.ollama
    if native is not None and native.prompt is not None:
        payload = _generate_fields(call.model, native)
    else:
        payload = {
            "model": call.model,
            "messages": [_message(m) for m in req.messages],
            "stream": True,
        }
    if req.keep_alive is not None:
        payload["keep_alive"] = req.keep_alive
    options = _extra_options(req)
    if req.temperature is not None:
        options["temperature"] = req.temperature
    if req.top_p is not None:
        options["top_p"] = req.top_p
    if req.seed is not None:
        options["seed"] = req.seed
    if req.stop_list:
        options["stop"] = req.stop_list
    if req.token_limit is not None:
        options["num_predict"] = req.token_limit
    if options:
        payload["options"] = options
    if call.schema is not None:
        payload["format"] = call.schema
    elif call.json_mode:
        payload["format"] = "json"
    # `think` only when asked for: Ollama answers 400 for models without thinking.
    if native is not None and native.think is not None:
        payload["think"] = native.think  # an Ollama client's own value, as it wrote it
    elif req.reasoning_effort is not None:
        effort = req.reasoning_effort
        payload["think"] = (
            False if effort in ("none", "minimal") else ("high" if effort == "xhigh" else effort)
        )
    if req.tools:
        payload["tools"] = req.tools
    return payload


def _tool_calls(raw: list[dict[str, Any]] | None, start: int) -> list[ToolCall] | None:
    if not raw:
        return None
    calls = []
    for offset, item in enumerate(raw):
        fn = item.get("function") or {}
        args = fn.get("arguments", {})
        calls.append(
            ToolCall(
                index=start + offset,
                id=f"call_{start + offset}_{int(time.time() * 1000) % 100000}",
                function=FunctionCall(
                    name=fn.get("name"),
                    arguments=args if isinstance(args, str) else json.dumps(args),
                ),
            )
        )
    return calls


class OllamaProvider:
    """An endpoint of kind `ollama`."""

    local = True

    def __init__(
        self,
        base_url: str,
        timeouts: Mapping[str, float],
        models_timeout: float,
        idle_timeout: float = 60.0,
        *,
        name: str,
    ) -> None:
        self.name = name
        self._base_url = base_url.rstrip("/")
        self._models_timeout = short_timeout(models_timeout)
        self._idle_timeout = idle_timeout
        self._http = UpstreamHTTP(
            "Ollama", timeouts, where=lambda: self._base_url, unreachable=self._unreachable
        )

    @classmethod
    def from_endpoint(
        cls, endpoint: EndpointConfig, options: ProviderOptions, key: Callable[[], str | None]
    ) -> OllamaProvider:
        """The registry's factory for kind `ollama` (Ollama takes no key)."""
        return cls(
            endpoint.base_url,
            options.timeouts,
            options.models_timeout,
            idle_timeout=options.idle_timeout,
            name=endpoint.name,
        )

    @property
    def base_url(self) -> str:
        return self._base_url

    def configure(self, base_url: str) -> None:
        self._base_url = base_url.rstrip("/")

    async def aclose(self) -> None:
        await self._http.aclose()

    def _unreachable(self) -> UpstreamUnavailableError:
        return UpstreamUnavailableError(
            f"Ollama is not reachable at {self._base_url}. Start it with `ollama serve`, "
            f"or set the URL of endpoint '{self.name}' in Settings.",
            code="ollama_unreachable",
        )

    def _status_error(
        self, status: int, body: bytes, model: str, headers: Mapping[str, str]
    ) -> ConnectorError:
        error = ErrorDetail.of(status, body, headers)
        if status == 404:
            return ModelNotFoundError(
                f"Model '{model}' is not available in Ollama ({error.message}). "
                f"Pull it with `ollama pull {model}`."
            )
        if status == 503:
            return UpstreamUnavailableError(f"Ollama is busy or overloaded: {error.message}")
        return common_status_error("Ollama", error)

    def _checked(self, answer: Answer, model: str = "") -> Answer:
        if answer.status >= 400:
            raise self._status_error(answer.status, answer.body, model, answer.headers)
        return answer

    async def stream(self, call: ProviderCall) -> AsyncGenerator[ProviderChunk, None]:
        payload = build_payload(call)
        generating = call.ollama is not None and call.ollama.prompt is not None
        path = "/api/generate" if generating else "/api/chat"
        tool_index = 0

        def pieces(batch: list[bytes]) -> Iterator[ProviderChunk]:
            """The pieces of one read's NDJSON lines."""
            nonlocal tool_index
            for line in batch:
                data = parse_stream_object(line, "Ollama")
                # /api/generate sends `response` and `thinking` at the top level.
                message = data if generating else (data.get("message") or {})
                calls = _tool_calls(message.get("tool_calls"), tool_index)
                if calls:
                    tool_index += len(calls)
                chunk = ProviderChunk(
                    content=message.get("response" if generating else "content") or "",
                    reasoning=message.get("thinking") or "",
                    tool_calls=calls,
                )
                if data.get("done"):
                    prompt = int(data.get("prompt_eval_count") or 0)
                    completion = int(data.get("eval_count") or 0)
                    chunk.usage = Usage(
                        prompt_tokens=prompt,
                        completion_tokens=completion,
                        total_tokens=prompt + completion,
                    )
                    chunk.finish_reason = (
                        "tool_calls" if tool_index else (data.get("done_reason") or "stop")
                    )
                    chunk.timings = {
                        k: int(data[k]) for k in TIMING_FIELDS if data.get(k) is not None
                    }
                yield chunk

        async with self._http.stream("POST", f"{self._base_url}{path}", body=payload) as response:
            if response.status >= 400:
                body = await response.read()
                raise self._status_error(response.status, body, call.model, response.headers)
            # aclosing: as in the OpenAI provider, the idle timer ends with the stream.
            async with aclosing(idle_limited(response, self._idle_timeout, "Ollama")) as batches:
                async for batch in batches:
                    for piece in per_read(pieces(batch)):
                        yield piece

    async def _get_json(self, path: str) -> Any:
        answer = await self._http.request(
            "GET", f"{self._base_url}{path}", timeouts=self._models_timeout
        )
        if answer.status >= 400:
            raise UpstreamError(f"Ollama answered {answer.status} for {path}")
        return self._json(answer, path)

    @staticmethod
    def _json(answer: Answer, path: str) -> Any:
        try:
            return answer.json()
        except ValueError as exc:
            raise UpstreamError(f"Ollama sent data that is not JSON for {path}") from exc

    async def list_models(self) -> ModelListing:
        try:
            data = await self._get_json("/api/tags")
        except ConnectorError as exc:
            return ModelListing(available=False, reason=exc.message)
        models = [
            ModelInfo(
                id=str(item.get("name") or item.get("model")),
                provider=self.name,
                size=item.get("size"),
                details=item.get("details") or {},
            )
            for item in (data.get("models") if isinstance(data, dict) else None) or []
            if isinstance(item, dict)
        ]
        return ModelListing(available=True, models=models)

    async def check(self) -> str:
        data = await self._get_json("/api/version")
        version = data.get("version", "?") if isinstance(data, dict) else "?"
        return f"Ollama {version} at {self._base_url}"

    async def pull(
        self, name: str, insecure: bool | None = None
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Stream Ollama's pull progress objects; cancelling stops the pull request."""
        sent: dict[str, Any] = {"model": name, "stream": True}
        if insecure is not None:
            sent["insecure"] = insecure
        async with self._http.stream("POST", f"{self._base_url}/api/pull", body=sent) as response:
            if response.status >= 400:
                body = await response.read()
                raise self._status_error(response.status, body, name, response.headers)
            async for batch in lines(response):
                for line in batch:
                    yield parse_stream_object(line, "Ollama")

    async def call_api(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        model: str = "",
        slow: bool = False,
    ) -> Any:
        """One of Ollama's own JSON routes (tags, show, ps, delete, a load call), its
        answer passed back as Ollama wrote it (None for an empty body); an error status
        becomes the matching ConnectorError (404: the `ollama pull` hint for `model`).
        `slow` calls (loading a model) get the generation read timeout."""
        answer = self._checked(
            await self._http.request(
                method,
                f"{self._base_url}{path}",
                body=body,
                timeouts=None if slow else self._models_timeout,
            ),
            model,
        )
        return self._json(answer, path) if answer.body else None

    async def embed(self, call: EmbedCall) -> EmbedResult:
        if not isinstance(call.input, str) and not all(isinstance(i, str) for i in call.input):
            raise BadRequestError(
                "Ollama embeds text: input must be a string or a list of strings "
                "(token ids are for OpenAI models).",
                param="input",
            )
        body: dict[str, Any] = {"model": call.model}
        if call.legacy:
            body["prompt"] = call.input if isinstance(call.input, str) else " ".join(call.input)
        else:
            body["input"] = call.input
            if call.truncate is not None:
                body["truncate"] = call.truncate
            if call.dimensions is not None:
                body["dimensions"] = call.dimensions
        if call.options:
            body["options"] = call.options
        if call.keep_alive is not None:
            body["keep_alive"] = call.keep_alive
        path = "/api/embeddings" if call.legacy else "/api/embed"
        # Embedding a long batch takes as long as a generation: the read timeout.
        answer = await self._http.request("POST", f"{self._base_url}{path}", body=body)
        data = self._json(self._checked(answer, call.model), path)
        if not isinstance(data, dict):
            raise UpstreamError(f"Ollama sent unexpected data for {path}")
        vectors = [data.get("embedding") or []] if call.legacy else data.get("embeddings") or []
        return EmbedResult(
            body=data, vectors=vectors, prompt_tokens=int(data.get("prompt_eval_count") or 0)
        )
