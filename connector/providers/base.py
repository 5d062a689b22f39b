"""The Provider protocol: everything the chat service needs from an upstream.

A provider turns one `ProviderCall` into an async stream of `ProviderChunk`s and
wraps its transport's errors in `ConnectorError` subclasses. It owns one pooled,
long-lived HTTP client (`http.UpstreamHTTP`), so swapping the client never touches
routes or services.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from connector.errors import ConnectorError
from connector.schemas import ChatRequest, ModelInfo, ToolCall, Usage


@dataclass(slots=True)
class OllamaInput:
    """What a client of Ollama's own API sent that a ChatRequest cannot say exactly,
    for a provider that speaks Ollama's API: `think` as written (true, false or a
    level; `request.reasoning_effort` holds its nearest OpenAI meaning), and, for a
    call that came in on `/api/generate`, its prompt fields (`request.messages` then
    hold the same prompt as chat messages, for providers that only chat)."""

    think: bool | str | None = None
    prompt: str | None = None  # set: this is an /api/generate call
    suffix: str | None = None
    system: str | None = None
    template: str | None = None
    raw: bool | None = None
    images: list[str] | None = None
    context: list[int] | None = None


@dataclass(frozen=True, slots=True)
class ProviderOptions:
    """What every provider is built with besides its endpoint: the upstream timeouts
    (connect, read, write, pool), the model-list timeout, the mid-stream idle timeout."""

    timeouts: dict[str, float]
    models_timeout: float
    idle_timeout: float


@dataclass(slots=True)
class ProviderCall:
    """A chat request with its provider and model resolved."""

    model: str
    request: ChatRequest
    schema: dict[str, Any] | None = None  # json_schema's schema, when one was asked for
    json_mode: bool = False  # json_object or json_schema
    ollama: OllamaInput | None = None  # set by the Ollama dialect


@dataclass(slots=True)
class ProviderChunk:
    content: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCall] | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    # The upstream's own counters (Ollama's done line: durations in ns), passed on
    # so the Ollama dialect can answer with Ollama's figures rather than measured ones.
    timings: dict[str, int] | None = None

    def absorb(self, later: ProviderChunk) -> bool:
        """Take in `later`, the next piece of the same network read, when both say the
        same kind of thing (thinking, text, tool calls) or one says none (the role, the
        finish, the usage); False when `later` must stay a piece of its own, so a
        client still sees thinking, text and tool calls in separate deltas, in order.

        Why: a blocking answer's whole stream often arrives in one read (a dozen
        pieces), and every piece passed on costs its steps through the provider's,
        the chat service's and the dialect's generators; pieces that arrived
        together reach the client no later for travelling as one."""
        mine, theirs = self._kinds(), later._kinds()
        if mine and theirs and mine != theirs:
            return False
        self.content += later.content
        self.reasoning += later.reasoning
        if later.tool_calls:
            calls = self.tool_calls = self.tool_calls or []
            for call in later.tool_calls:
                last = calls[-1] if calls else None
                if (
                    last is not None
                    and last.index == call.index
                    and call.id in (None, last.id)
                    and call.function.name in (None, last.function.name)
                ):
                    # The same call's next arguments (OpenAI streams them in pieces).
                    last.function.arguments = (last.function.arguments or "") + (
                        call.function.arguments or ""
                    )
                else:
                    calls.append(call)
        if later.finish_reason:
            self.finish_reason = later.finish_reason
        if later.usage is not None:
            self.usage = later.usage
        if later.timings:
            self.timings = later.timings
        return True

    def _kinds(self) -> int:
        """Which of thinking (1), text (2) and tool calls (4) this piece holds."""
        return (
            (1 if self.reasoning else 0)
            | (2 if self.content else 0)
            | (4 if self.tool_calls else 0)
        )


def per_read(pieces: Iterator[ProviderChunk]) -> Iterator[ProviderChunk]:
    """The pieces parsed from one network read, as few as `ProviderChunk.absorb` makes
    them. When parsing fails midway (an upstream's error object), what came before the
    failure goes out first."""
    held: ProviderChunk | None = None
    try:
        for piece in pieces:
            if held is None:
                held = piece
            elif not held.absorb(piece):
                yield held
                held = piece
    except ConnectorError:
        if held is not None:
            yield held
        raise
    if held is not None:
        yield held


@dataclass(slots=True)
class EmbedCall:
    """One embedding request with its provider and model resolved."""

    model: str
    input: str | list[Any]  # texts; OpenAI also takes token ids
    options: dict[str, Any] | None = None  # Ollama only
    keep_alive: str | int | float | None = None  # Ollama only
    truncate: bool | None = None  # Ollama only
    dimensions: int | None = None
    encoding_format: str | None = None  # OpenAI only: "float" or "base64"
    legacy: bool = False  # Ollama's older /api/embeddings: one prompt, no token count


@dataclass(slots=True)
class EmbedResult:
    body: dict[str, Any]  # the upstream's answer in its own shape, for passthrough
    vectors: list[Any]  # one per input: lists of floats (or base64 strings)
    prompt_tokens: int = 0
    latency_ms: float = 0.0  # measured by the embedding service
    openai_shaped: bool = False  # `body` is an OpenAI embeddings answer (pass it on)


@dataclass(slots=True)
class ModelListing:
    available: bool
    reason: str | None = None
    models: list[ModelInfo] = field(default_factory=list)


class Provider(Protocol):
    name: str  # the endpoint's name
    local: bool  # priced as local (free, counted as saved) rather than cloud

    @property
    def base_url(self) -> str: ...

    def configure(self, base_url: str) -> None: ...

    def stream(self, call: ProviderCall) -> AsyncGenerator[ProviderChunk, None]:
        """Yield chunks; raise ConnectorError subclasses. Cancelling the iteration
        must cancel the upstream request."""
        ...

    async def list_models(self) -> ModelListing: ...

    async def embed(self, call: EmbedCall) -> EmbedResult:
        """Embed the call's input; raise ConnectorError subclasses."""
        ...

    async def check(self) -> str:
        """Return a human-readable description of the upstream; raise when unusable."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class Puller(Protocol):
    """A provider whose upstream downloads models on request (Ollama's pull)."""

    name: str

    def pull(
        self, name: str, insecure: bool | None = None
    ) -> AsyncGenerator[dict[str, Any], None]: ...


@runtime_checkable
class OllamaNative(Puller, Protocol):
    """A provider that speaks Ollama's own API: its model routes pass through."""

    @property
    def base_url(self) -> str: ...

    async def call_api(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        model: str = "",
        slow: bool = False,
    ) -> Any: ...


@runtime_checkable
class TokenCounter(Protocol):
    """A provider whose upstream can count a prompt's tokens without generating."""

    async def count_tokens(self, call: ProviderCall) -> int | None:
        """The call's prompt tokens as the upstream counts them (its chat template and
        tokenizer), or None when this upstream cannot count."""
        ...
