"""OpenAI, or any OpenAI-compatible server, over its HTTP API (`/chat/completions` with
SSE streaming, `/models`, `/embeddings`).

Straight over HTTP rather than through the `openai` SDK: the SDK took over a second and
tens of MB to import, and its client stack (httpx) half of the CPU time of a request.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterator, Mapping
from contextlib import aclosing
from typing import Any

from connector.errors import (
    AuthenticationError,
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
    parse_stream_object,
    short_timeout,
)
from connector.schemas import (
    ChatRequest,
    CompletionTokensDetails,
    FunctionCall,
    ModelInfo,
    ToolCall,
    Usage,
)

# Fields of ChatRequest the connector handles itself and never forwards verbatim.
_OWN_FIELDS = {
    "provider",
    "model",
    "messages",
    "stream",
    "stream_options",
    "response_format",
    # Ollama's fields
    "options",
    "keep_alive",
}
_CHAT_PREFIXES = ("gpt-", "o1", "o3", "o4", "chatgpt-")
OFFICIAL_BASE_URL = "https://api.openai.com/v1"
# What a provider that needs no key sends as its bearer (servers that check none
# still expect the header's shape, as the SDKs always send one).
NO_KEY = "no-key"
_STREAM_OPTIONS = {"include_usage": True}


def build_params(call: ProviderCall) -> dict[str, Any]:
    req: ChatRequest = call.request
    params: dict[str, Any] = req.model_dump(
        exclude=_OWN_FIELDS, exclude_none=True, by_alias=True, mode="json"
    )
    params["messages"] = [m.model_dump(exclude_none=True, mode="json") for m in req.messages]
    for message in params["messages"]:
        # Our own field: OpenAI rejects unknown message keys.
        message.pop("reasoning_content", None)
    if req.response_format is not None:
        params["response_format"] = req.response_format.model_dump(
            exclude_none=True, by_alias=True, mode="json"
        )
    return params


def _pieces(batch: list[bytes]) -> Iterator[ProviderChunk]:
    """The pieces of one read's SSE lines."""
    for line in batch:
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if data == b"[DONE]":
            # Keep reading to the body's end: leaving early would close the connection
            # instead of returning it to the pool.
            continue
        yield _chunk(parse_stream_object(data, "OpenAI"))


def _chunk(event: dict[str, Any]) -> ProviderChunk:
    chunk = ProviderChunk()
    choices = event.get("choices") or []
    if choices:
        choice = choices[0]
        delta = choice.get("delta") or {}
        chunk.content = delta.get("content") or ""
        # OpenAI-compatible servers (llama.cpp, vLLM, Ollama's /v1) send thinking
        # as reasoning_content or reasoning.
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        chunk.reasoning = reasoning if isinstance(reasoning, str) else ""
        if delta.get("tool_calls"):
            chunk.tool_calls = [
                ToolCall(
                    index=tc.get("index"),
                    id=tc.get("id"),
                    function=FunctionCall(
                        name=(tc.get("function") or {}).get("name"),
                        arguments=(tc.get("function") or {}).get("arguments"),
                    ),
                )
                for tc in delta["tool_calls"]
            ]
        chunk.finish_reason = choice.get("finish_reason")
    usage = event.get("usage")
    if usage:
        details = usage.get("completion_tokens_details") or {}
        chunk.usage = Usage(
            prompt_tokens=usage.get("prompt_tokens") or 0,
            completion_tokens=usage.get("completion_tokens") or 0,
            total_tokens=usage.get("total_tokens") or 0,
            completion_tokens_details=CompletionTokensDetails(
                reasoning_tokens=details.get("reasoning_tokens") or 0
            ),
        )
    return chunk


class OpenAIProvider:
    """An endpoint of kind `openai-compatible` (OpenAI itself, llama.cpp, vLLM, LM
    Studio, OpenRouter, Groq, ...)."""

    local = False

    def __init__(
        self,
        base_url: str,
        key_getter: Callable[[], str | None],
        timeouts: dict[str, float],
        models_timeout: float,
        idle_timeout: float = 60.0,
        *,
        name: str,
        key_required: bool = True,
    ) -> None:
        self.name = name
        self._key_required = key_required
        self._base_url = base_url.rstrip("/")
        self._idle_timeout = idle_timeout
        self._key_getter = key_getter
        self._models_timeout = short_timeout(models_timeout)
        self._auth_key: str | None = None
        self._auth: dict[str, str] = {}
        self._http = UpstreamHTTP(
            "OpenAI", timeouts, where=lambda: self._base_url, unreachable=self._unreachable
        )
        self._cannot_count: set[str] = set()  # roots without /apply-template + /tokenize

    @classmethod
    def from_endpoint(
        cls, endpoint: EndpointConfig, options: ProviderOptions, key: Callable[[], str | None]
    ) -> OpenAIProvider:
        """The registry's factory for kind `openai-compatible`."""
        return cls(
            endpoint.base_url,
            key,
            options.timeouts,
            options.models_timeout,
            idle_timeout=options.idle_timeout,
            name=endpoint.name,
            key_required=bool(endpoint.key_required),
        )

    @property
    def base_url(self) -> str:
        return self._base_url

    def configure(self, base_url: str) -> None:
        self._base_url = base_url.rstrip("/")

    def _headers(self) -> dict[str, str]:
        """The bearer for this call: the key as it is now (it may be changed in
        Settings at any time). It goes in this header only, never into a message."""
        key = self._key_getter()
        if not key and not self._key_required:
            key = NO_KEY  # a local server that wants no key
        if not key:
            raise AuthenticationError(
                f"No API key is set for endpoint '{self.name}'. Add one in Settings.",
                code="missing_api_key",
            )
        if key != self._auth_key:
            self._auth_key, self._auth = key, {"Authorization": f"Bearer {key}"}
        return self._auth

    def _unreachable(self) -> UpstreamUnavailableError:
        return UpstreamUnavailableError(
            f"OpenAI is not reachable at {self._base_url}. Check the network or the "
            "OpenAI base URL in Settings (OPENAI_BASE_URL).",
            code="openai_unreachable",
        )

    def _status_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> ConnectorError:
        error = ErrorDetail.of(status, body, headers)
        text, code = error.message, error.code
        if status == 401:
            return AuthenticationError(f"OpenAI rejected the API key: {text}", code=code)
        if status == 404:
            return ModelNotFoundError(f"OpenAI: {text}", code=code or "model_not_found")
        if status == 403:
            return AuthenticationError(f"OpenAI denied access: {text}", code=code)
        if status == 503:  # llama.cpp still loading, vLLM or OpenAI overloaded
            return UpstreamUnavailableError(
                f"The OpenAI-compatible API is busy or overloaded: {text}",
                code="upstream_overloaded",
            )
        return common_status_error("OpenAI", error)

    def _checked(self, answer: Answer) -> Answer:
        if answer.status >= 400:
            raise self._status_error(answer.status, answer.body, answer.headers)
        return answer

    async def stream(self, call: ProviderCall) -> AsyncGenerator[ProviderChunk, None]:
        gen = call.ollama
        if gen is not None and (gen.suffix or gen.raw or gen.template):
            # Chat Completions always applies the model's chat template and has no
            # fill-in-the-middle: these cannot be honoured, so they are refused.
            raise BadRequestError(
                "suffix, raw and template need an Ollama model; "
                f"'{call.model}' is served by an OpenAI-compatible API.",
                param="suffix" if gen.suffix else ("raw" if gen.raw else "template"),
            )
        body = {
            "model": call.model,
            **build_params(call),
            "stream": True,
            "stream_options": _STREAM_OPTIONS,
        }
        url = f"{self._base_url}/chat/completions"
        async with self._http.stream("POST", url, body=body, headers=self._headers()) as response:
            if response.status >= 400:
                raise self._status_error(response.status, await response.read(), response.headers)
            # aclosing: a stream closed early (its last chunk in hand, a client gone)
            # ends the reader's idle timer now, not when the collector finds it.
            async with aclosing(idle_limited(response, self._idle_timeout, "OpenAI")) as batches:
                async for batch in batches:
                    for piece in per_read(_pieces(batch)):
                        yield piece

    async def _model_ids(self) -> list[str]:
        answer = self._checked(
            await self._http.request(
                "GET",
                f"{self._base_url}/models",
                headers=self._headers(),
                timeouts=self._models_timeout,
            )
        )
        try:
            data = answer.json()
        except ValueError as exc:
            raise UpstreamError("OpenAI sent a model list that is not JSON") from exc
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise UpstreamError("OpenAI sent a model list without `data`")
        return [str(m["id"]) for m in items if isinstance(m, dict) and m.get("id") is not None]

    async def list_models(self) -> ModelListing:
        try:
            ids = sorted(await self._model_ids())
        except ConnectorError as exc:
            return ModelListing(available=False, reason=exc.message)
        if self._base_url == OFFICIAL_BASE_URL:
            # The official list mixes in embeddings, audio and image models.
            ids = [i for i in ids if i.startswith(_CHAT_PREFIXES)]
        return ModelListing(
            available=True, models=[ModelInfo(id=i, provider=self.name) for i in ids]
        )

    async def embed(self, call: EmbedCall) -> EmbedResult:
        body: dict[str, Any] = {
            "input": call.input,
            "model": call.model,
            "encoding_format": "base64" if call.encoding_format == "base64" else "float",
        }
        if call.dimensions is not None:
            body["dimensions"] = call.dimensions
        answer = self._checked(
            await self._http.request(
                "POST", f"{self._base_url}/embeddings", body=body, headers=self._headers()
            )
        )
        # The raw answer: passed on as is to OpenAI-shaped clients (base64 vectors
        # stay strings), read for its vectors and token count otherwise.
        try:
            data = answer.json()
        except ValueError as exc:
            raise UpstreamError("OpenAI sent embeddings that are not JSON") from exc
        if not isinstance(data, dict):
            raise UpstreamError("OpenAI sent embeddings in an unexpected shape")
        items = sorted(
            (i for i in data.get("data") or [] if isinstance(i, dict)),
            key=lambda item: item.get("index", 0),
        )
        usage = data.get("usage") or {}
        return EmbedResult(
            body=data,
            vectors=[item.get("embedding") for item in items],
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            openai_shaped=True,
        )

    async def count_tokens(self, call: ProviderCall) -> int | None:
        """The prompt's tokens as llama.cpp's server counts them: `/apply-template`
        renders the chat as a completion would, `/tokenize` counts it with the model's
        tokenizer. OpenAI itself, vLLM and Ollama's /v1 have no such pair: None."""
        root = self._base_url.removesuffix("/v1")
        if self._base_url == OFFICIAL_BASE_URL or root in self._cannot_count:
            return None
        try:
            headers = self._headers()
            params = build_params(call)
            rendered = await self._counting_call(
                root,
                "/apply-template",
                {k: params[k] for k in ("messages", "tools") if k in params},
                headers,
            )
            prompt = rendered.get("prompt") if isinstance(rendered, dict) else None
            if not isinstance(prompt, str):
                return None
            # As llama.cpp tokenizes a chat prompt: BOS added, special tokens parsed.
            body = {"content": prompt, "add_special": True, "parse_special": True}
            counted = await self._counting_call(root, "/tokenize", body, headers)
        except ConnectorError:
            return None
        found = counted.get("tokens") if isinstance(counted, dict) else None
        return len(found) if isinstance(found, list) else None

    async def _counting_call(
        self, root: str, path: str, body: dict[str, Any], headers: Mapping[str, str]
    ) -> Any:
        answer = await self._http.request(
            "POST", f"{root}{path}", body=body, headers=headers, timeouts=self._models_timeout
        )
        if answer.status in (404, 405, 501):
            self._cannot_count.add(root)
        try:
            return self._checked(answer).json()
        except ValueError as exc:
            raise UpstreamError(f"OpenAI sent data that is not JSON for {path}") from exc

    async def check(self) -> str:
        ids = await self._model_ids()
        return f"OpenAI-compatible API at {self._base_url}: {len(ids)} models"

    async def aclose(self) -> None:
        await self._http.aclose()
