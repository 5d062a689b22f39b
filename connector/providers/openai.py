"""OpenAI, or any OpenAI-compatible server, through the official `openai` SDK."""

from __future__ import annotations

import importlib
import json
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from typing import TYPE_CHECKING, Any, Literal

from connector.errors import (
    AuthenticationError,
    BadRequestError,
    ConnectorError,
    ModelNotFoundError,
    RateLimitError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from connector.providers.base import (
    KEEPALIVE_CONNECTIONS,
    STALE_TRIES,
    EmbedCall,
    EmbedResult,
    ModelListing,
    ProviderCall,
    ProviderChunk,
    ProviderOptions,
    idle_limited,
    parse_stream_object,
)
from connector.providers.endpoints import EndpointConfig
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
# What a provider that needs no key sends as its bearer (the SDK always sends one).
NO_KEY = "no-key"

if TYPE_CHECKING:
    import openai


def _sdk() -> Any:
    """The `openai` module, imported on first use: it takes over a second to import,
    which would otherwise delay every start (the desktop window most of all)."""
    import openai

    return openai


def _pool_limits(sdk: Any) -> Any:
    """The SDK's connection limits with a smaller idle pool (see KEEPALIVE_CONNECTIONS),
    built with the SDK's own HTTP package (httpx2 now, httpx before): the one its
    default client derives from."""
    base = next(c for c in sdk.DefaultAsyncHttpxClient.__mro__ if c.__name__ == "AsyncClient")
    http = importlib.import_module(base.__module__.split(".")[0])
    return http.Limits(
        max_connections=1000, max_keepalive_connections=KEEPALIVE_CONNECTIONS, keepalive_expiry=5.0
    )


def _transport_errors(sdk: Any) -> tuple[type[BaseException], ...]:
    """Transport errors: the SDK's HTTP package's base class, httpx's, a bare OSError."""
    base = next(c for c in sdk.DefaultAsyncHttpxClient.__mro__ if c.__name__ == "AsyncClient")
    http = importlib.import_module(base.__module__.split(".")[0])
    import httpx

    return (http.HTTPError, httpx.HTTPError, OSError)


def preload() -> None:
    """Import the SDK ahead of the first request (called off the event loop)."""
    _sdk()


def _error_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return exc.message


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
        self._timeouts = timeouts
        self._models_timeout = models_timeout
        self._client: openai.AsyncOpenAI | None = None
        self._client_for: tuple[str, str] | None = None
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

    def _get_client(self) -> openai.AsyncOpenAI:
        key = self._key_getter()
        if not key and not self._key_required:
            # A local server that wants no key; the SDK sends some bearer anyway.
            key = NO_KEY
        if not key:
            raise AuthenticationError(
                f"No API key is set for endpoint '{self.name}'. Add one in Settings.",
                code="missing_api_key",
            )
        wanted = (key, self._base_url)
        if self._client is None or self._client_for != wanted:
            # Rebuilt when the key or base URL changes; the old client's pool is
            # left to close with its last request.
            sdk = _sdk()
            self._client = sdk.AsyncOpenAI(
                api_key=key,
                base_url=self._base_url,
                # The SDK ships its own HTTP client (httpx2) with its own Timeout type.
                timeout=sdk.Timeout(**self._timeouts),
                # A gateway passes failures on at once; clients decide about retries.
                max_retries=0,
                http_client=sdk.DefaultAsyncHttpxClient(limits=_pool_limits(sdk)),
            )
            self._client_for = wanted
        return self._client

    @contextmanager
    def _translated(self, model: str | None = None) -> Iterator[None]:
        sdk = _sdk()
        try:
            yield
        except sdk.APITimeoutError as exc:
            raise UpstreamTimeoutError(
                f"OpenAI at {self._base_url} did not answer in time."
            ) from exc
        except sdk.APIConnectionError as exc:
            raise UpstreamUnavailableError(
                f"OpenAI is not reachable at {self._base_url}. Check the network or the "
                "OpenAI base URL in Settings (OPENAI_BASE_URL).",
                code="openai_unreachable",
            ) from exc
        except sdk.APIStatusError as exc:
            raise self._status_error(exc, model) from exc
        except sdk.APIError as exc:
            raise UpstreamError(f"OpenAI stream failed: {exc.message}") from exc
        except _transport_errors(sdk) as exc:
            # Mid-stream the SDK hands the body over raw: a reset connection surfaces
            # as its HTTP package's error (or a bare OSError), not as an APIError.
            raise UpstreamError(
                f"The connection to OpenAI at {self._base_url} broke ({type(exc).__name__})."
            ) from exc

    def _status_error(self, exc: openai.APIStatusError, model: str | None) -> ConnectorError:
        status = exc.status_code
        text = _error_message(exc)
        code = exc.code if isinstance(exc.code, str) else None
        if status == 401:
            return AuthenticationError(f"OpenAI rejected the API key: {text}", code=code)
        if status == 404:
            return ModelNotFoundError(f"OpenAI: {text}", code=code or "model_not_found")
        if status == 429:
            return RateLimitError(
                f"OpenAI: {text}", retry_after=exc.response.headers.get("retry-after"), code=code
            )
        if status in (400, 422):
            return BadRequestError(f"OpenAI refused the request: {text}", code=code)
        if status == 403:
            return AuthenticationError(f"OpenAI denied access: {text}", code=code)
        if status == 503:  # llama.cpp still loading, vLLM or OpenAI overloaded
            return UpstreamUnavailableError(
                f"The OpenAI-compatible API is busy or overloaded: {text}",
                code="upstream_overloaded",
            )
        return UpstreamError(f"OpenAI answered {status}: {text}", code=code)

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
        params = build_params(call)
        client = self._get_client()
        sdk = _sdk()
        with self._translated(call.model):
            # The SDK builds, authenticates and sends the request and maps error
            # statuses; the SSE lines are read raw, because the SDK's per-chunk model
            # parsing costs several milliseconds a request.
            async with AsyncExitStack() as stack:
                for attempt in range(1, STALE_TRIES + 1):
                    try:
                        response = await stack.enter_async_context(
                            client.chat.completions.with_streaming_response.create(
                                model=call.model,
                                messages=[],  # replaced by params["messages"]
                                stream=True,
                                stream_options={"include_usage": True},
                                # The body goes as plain JSON: our schemas have checked
                                # it, unknown OpenAI fields pass through, and the SDK's
                                # typed-parameter transform (0.3 ms for two messages,
                                # 5.5 ms for fifty, on the event loop) is skipped.
                                extra_body=params,
                            )
                        )
                        break
                    except sdk.APITimeoutError:
                        raise
                    except sdk.APIConnectionError:
                        # A pooled connection the server had already closed (llama.cpp
                        # closes after every stream): nothing was received, so one
                        # retry (on the next connection) is safe.
                        if attempt == STALE_TRIES:
                            raise
                async for line in idle_limited(response.iter_lines(), self._idle_timeout, "OpenAI"):
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        # Keep reading to the body's end: leaving early would close
                        # the connection instead of returning it to the pool.
                        continue
                    yield _chunk(parse_stream_object(data, "OpenAI"))

    async def list_models(self) -> ModelListing:
        try:
            client = self._get_client()
        except ConnectorError as exc:
            return ModelListing(available=False, reason=exc.message)
        try:
            with self._translated():
                page = await client.models.list(timeout=self._models_timeout)
        except ConnectorError as exc:
            return ModelListing(available=False, reason=exc.message)
        ids = sorted(model.id for model in page.data)
        if self._base_url == OFFICIAL_BASE_URL:
            # The official list mixes in embeddings, audio and image models.
            ids = [i for i in ids if i.startswith(_CHAT_PREFIXES)]
        return ModelListing(
            available=True, models=[ModelInfo(id=i, provider=self.name) for i in ids]
        )

    async def embed(self, call: EmbedCall) -> EmbedResult:
        client = self._get_client()
        extra: dict[str, Any] = {}
        if call.dimensions is not None:
            extra["dimensions"] = call.dimensions
        fmt: Literal["float", "base64"] = "base64" if call.encoding_format == "base64" else "float"
        with self._translated(call.model):
            # The raw answer: passed on as is to OpenAI-shaped clients (base64 vectors
            # stay strings), read for its vectors and token count otherwise.
            raw = await client.embeddings.with_raw_response.create(
                model=call.model, input=call.input, encoding_format=fmt, **extra
            )
        try:
            data = json.loads(raw.text)
        except ValueError as exc:
            raise UpstreamError("OpenAI sent embeddings that are not JSON") from exc
        items = sorted(data.get("data") or [], key=lambda item: item.get("index", 0))
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
            client = self._get_client()
        except ConnectorError:
            return None
        params = build_params(call)
        sdk = _sdk()
        options: Any = {"timeout": self._models_timeout}
        try:
            rendered = await client.post(
                f"{root}/apply-template",
                body={k: params[k] for k in ("messages", "tools") if k in params},
                cast_to=object,
                options=options,
            )
            prompt = rendered.get("prompt") if isinstance(rendered, dict) else None
            if not isinstance(prompt, str):
                return None
            counted = await client.post(
                f"{root}/tokenize",
                # As llama.cpp tokenizes a chat prompt: BOS added, special tokens parsed.
                body={"content": prompt, "add_special": True, "parse_special": True},
                cast_to=object,
                options=options,
            )
        except sdk.APIStatusError as exc:
            if exc.status_code in (404, 405, 501):
                self._cannot_count.add(root)
            return None
        except sdk.APIError:
            return None
        found = counted.get("tokens") if isinstance(counted, dict) else None
        return len(found) if isinstance(found, list) else None

    async def check(self) -> str:
        client = self._get_client()
        with self._translated():
            page = await client.models.list(timeout=self._models_timeout)
        return f"OpenAI-compatible API at {self._base_url}: {len(page.data)} models"

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
