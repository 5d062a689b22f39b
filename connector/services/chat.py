"""ChatService: the one path every surface takes (the connector's REST/SSE/WS routes,
/v1, and every client dialect in `connector.dialects`).

    dialect route -> ChatService.open(request, caller) -> Provider.stream(call)
                 finally: price -> UsageEntry -> UsageService (writer) -> MonitorHub

A blocking answer drains the same stream. The record is written in `finally`, so
upstream errors and client disconnects are recorded too, with the caller's surface
and program, the endpoint that served it and every endpoint tried.

Fallback (an alias naming a list, `ProviderRegistry.routes`): the next route is tried
when one fails unreachable, by timeout, with a 429 or a 5xx, and only while nothing
has been sent to the client; once a token went out, a failure ends the stream.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from connector.errors import (
    ConnectorError,
    RateLimitError,
    ServerShuttingDownError,
    StructuredOutputError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from connector.providers.base import OllamaInput, Provider, ProviderCall, ProviderChunk
from connector.providers.registry import ProviderRegistry, Route
from connector.schemas import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatRequest,
    Choice,
    ChunkChoice,
    Delta,
    FunctionCall,
    Metrics,
    ToolCall,
    Usage,
)
from connector.services import pricing
from connector.services.budgets import BudgetService, Ticket
from connector.services.callers import Caller
from connector.services.monitor import MonitorHub
from connector.services.request_log import RequestLog
from connector.services.settings import RuntimeSettings
from connector.services.shutdown import ShutdownCoordinator, take_back_cancel
from connector.services.structured import parse_and_validate, requested_schema
from connector.services.usage import (
    MIN_RATE_WINDOW_MS,
    InflightEntry,
    UsageEntry,
    UsageService,
)


@dataclass(slots=True)
class _Accumulator:
    """Collects a stream into the final message."""

    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    tool_calls: dict[int, ToolCall] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: Usage | None = None

    def add(self, chunk: ProviderChunk) -> None:
        if chunk.content:
            self.content.append(chunk.content)
        if chunk.reasoning:
            self.reasoning.append(chunk.reasoning)
        for call in chunk.tool_calls or ():
            index = call.index if call.index is not None else len(self.tool_calls)
            known = self.tool_calls.get(index)
            if known is None:
                self.tool_calls[index] = ToolCall(
                    index=index,
                    id=call.id,
                    function=FunctionCall(
                        name=call.function.name, arguments=call.function.arguments or ""
                    ),
                )
            else:  # OpenAI streams a call's arguments in pieces
                known.id = known.id or call.id
                known.function.name = known.function.name or call.function.name
                known.function.arguments = (known.function.arguments or "") + (
                    call.function.arguments or ""
                )
        if chunk.finish_reason:
            self.finish_reason = chunk.finish_reason
        if chunk.usage is not None:
            self.usage = chunk.usage

    @property
    def text(self) -> str:
        return "".join(self.content)


@dataclass(slots=True)
class ChatStream:
    """One running request: its chunks, then (once drained) the whole completion."""

    id: str
    provider: str  # the endpoint serving it (the next one's after a fallback)
    model: str
    completion: ChatCompletion | None = None
    tried: list[str] = field(default_factory=list)  # endpoints tried, in order
    chunks: AsyncGenerator[ChatCompletionChunk, None] = field(init=False)
    # The upstream's own counters when it reports them (Ollama: durations in ns).
    timings: dict[str, int] | None = None
    # The task consuming the stream right now, and whether shutdown ended it (see
    # services/shutdown.py).
    task: asyncio.Task[Any] | None = None
    shutting_down: bool = False
    # Chunks go to the client as they come (False: drained into one answer, so nothing
    # reaches the client before the end, and the in-flight row need not lead).
    streamed: bool = True
    # Only the completion is wanted (`ChatService.drain`): no chunk per piece.
    drained: bool = False


class ChatService:
    def __init__(
        self,
        providers: ProviderRegistry,
        runtime: RuntimeSettings,
        usage: UsageService,
        hub: MonitorHub,
        shutdown: ShutdownCoordinator | None = None,
        budgets: BudgetService | None = None,
        request_log: RequestLog | None = None,
    ) -> None:
        self._providers = providers
        self._runtime = runtime
        self._usage = usage
        self._hub = hub
        self._shutdown = shutdown or ShutdownCoordinator(grace=0)
        self._budgets = budgets
        self._request_log = request_log

    def resolve(self, request: ChatRequest) -> tuple[Provider, ProviderCall]:
        routes, call = self._routes(request)
        return routes[0].provider, call

    def _routes(self, request: ChatRequest) -> tuple[list[Route], ProviderCall]:
        routes = self._providers.routes(
            request.model or self._runtime.default_model,
            request.provider,
            self._runtime.default_provider,
        )
        json_mode, schema = requested_schema(request.response_format)
        call = ProviderCall(
            model=routes[0].model, request=request, schema=schema, json_mode=json_mode
        )
        return routes, call

    def open(
        self,
        request: ChatRequest,
        caller: Caller,
        *,
        ollama: OllamaInput | None = None,
        streamed: bool = True,
    ) -> ChatStream:
        """Validate and resolve (raising before anything is recorded), then return the
        stream. Its usage record is written however the stream ends. `ollama` carries
        what an Ollama client said that a ChatRequest cannot (`think` as written,
        /api/generate's prompt fields) to a provider that speaks Ollama's API.
        `streamed=False`: the caller drains the stream into one answer."""
        self._shutdown.check_accepting()
        routes, call = self._routes(request)
        call.ollama = ollama
        stream = ChatStream(
            id=f"chatcmpl-{uuid.uuid4().hex[:24]}",
            provider=routes[0].provider.name,
            model=call.model,
            streamed=streamed,
        )
        stream.chunks = self._run(stream, routes, call, caller)
        return stream

    async def complete(self, request: ChatRequest, caller: Caller) -> ChatCompletion:
        return await self.drain(self.open(request, caller, streamed=False))

    async def drain(self, stream: ChatStream) -> ChatCompletion:
        """The stream's whole completion, building nothing per piece on the way."""
        stream.drained = True
        async for _ in stream.chunks:
            pass
        assert stream.completion is not None
        return stream.completion

    async def _run(
        self, stream: ChatStream, routes: list[Route], call: ProviderCall, caller: Caller
    ) -> AsyncGenerator[ChatCompletionChunk, None]:
        # Over a budget: refused here, before the upstream call and before anything is
        # recorded (the first chunk is awaited before any answer starts, so the 429
        # keeps its status in every dialect).
        ticket = (
            await self._budgets.admit_when_summed(caller.key) if self._budgets is not None else None
        )
        created = int(time.time())
        acc = _Accumulator()
        started = time.perf_counter()
        # Time spent waiting on the upstream; the rest is the connector's own.
        waited = [0.0]
        first_token: float | None = None
        status = "error"
        error_type: str | None = "internal_error"
        sent_role = False
        retask = 2  # chunks after which the consuming task is looked up again
        metrics: Metrics | None = None
        recorded = False
        provider = routes[0].provider
        self._hub.request_started()
        stream.task = asyncio.current_task()
        self._shutdown.track(stream)
        begun = self._usage.begin(
            InflightEntry(
                request_id=stream.id,
                surface=caller.surface,
                client=caller.client,
                kind="chat",
                provider=stream.provider,
                model=call.model,
                structured=call.json_mode,
                key_id=caller.key_id,
                key_name=caller.key_name,
            ),
            urgent=stream.streamed,
        )

        def chunk(choices: list[ChunkChoice], **extra: Any) -> ChatCompletionChunk:
            return ChatCompletionChunk(
                id=stream.id,
                created=created,
                model=call.model,
                provider=stream.provider,
                choices=choices,
                **extra,
            )

        try:
            await self._prepare_prices(routes)
            for attempt, route in enumerate(routes):
                provider, call.model = route.provider, route.model
                stream.provider, stream.model = provider.name, route.model
                stream.tried.append(provider.name)
                try:
                    # aclosing: when this generator is closed early (a client gone, a cancel),
                    # the provider's stream is closed at once too, and with it the upstream
                    # request; otherwise it would linger until garbage collection.
                    async with aclosing(provider.stream(call)) as pieces:
                        while True:
                            asked = time.perf_counter()
                            try:
                                piece = await anext(pieces)
                            except StopAsyncIteration:
                                break
                            finally:
                                waited[0] += time.perf_counter() - asked
                            acc.add(piece)
                            if piece.timings:
                                stream.timings = piece.timings
                            has_output = bool(piece.content or piece.reasoning or piece.tool_calls)
                            if not (has_output or piece.finish_reason):
                                continue
                            if first_token is None and has_output:
                                first_token = time.perf_counter()
                            if stream.drained:
                                # Drained into one answer: no chunk is built for a piece
                                # (a fallback still ends once output has come).
                                sent_role = True
                                continue
                            delta = Delta(
                                role=None if sent_role else "assistant",
                                content=piece.content or None,
                                reasoning_content=piece.reasoning or None,
                                tool_calls=piece.tool_calls,
                            )
                            if not sent_role and stream.streamed:
                                # On the books before the client sees anything: committed
                                # while the upstream answered, so rarely waited for.
                                await self._usage.durable(begun)
                            sent_role = True
                            yield chunk(
                                [ChunkChoice(delta=delta, finish_reason=piece.finish_reason)]
                            )
                            # The consumer may change (open_stream reads the first chunk in the
                            # route's task, the response streams the rest in its own), once:
                            # after the second chunk it is known (asking costs on every token).
                            if retask:
                                retask -= 1
                                stream.task = asyncio.current_task()

                    break
                except ConnectorError as exc:
                    if not _upstream_failure(exc):
                        raise
                    self._providers.catalogue.note_failure(provider.name, exc.message)
                    if sent_role or attempt == len(routes) - 1:
                        raise
                    # Nothing went out yet: the next route answers instead.
                    acc = _Accumulator()
            self._providers.catalogue.note_success(provider.name)

            parsed: Any = None
            if call.json_mode:
                parsed = parse_and_validate(
                    acc.text,
                    call.schema,
                    truncated=acc.finish_reason == "length",
                    token_limit=call.request.token_limit,
                )
            usage = acc.usage or Usage()
            metrics = self._metrics(
                stream.provider, call.model, usage, started, first_token, caller, waited[0]
            )
            stream.completion = ChatCompletion(
                id=stream.id,
                created=created,
                model=call.model,
                provider=stream.provider,
                choices=[
                    Choice(
                        message=AssistantMessage(
                            content=acc.text if acc.content or not acc.tool_calls else None,
                            reasoning_content="".join(acc.reasoning) or None,
                            tool_calls=list(acc.tool_calls.values()) or None,
                            parsed=parsed,
                        ),
                        finish_reason=acc.finish_reason or "stop",
                    )
                ],
                usage=usage,
                metrics=metrics,
            )
            status, error_type = "ok", None
            # Durable before the end goes out: the final chunk (and with it the blocking
            # body, `[DONE]`, the WS `done`) waits for the commit of this record.
            recorded = True
            self._hub.request_finished()
            commit = self._record(stream, call, caller, usage, metrics, status, error_type, ticket)
            await self._usage.durable(commit)
            yield chunk([], usage=usage, metrics=metrics, parsed=parsed)
        except asyncio.CancelledError:
            if not stream.shutting_down:
                status, error_type = "cancelled", "cancelled"
                raise
            # Ended by shutdown: the consumer's own error framing writes the final frame.
            take_back_cancel()
            error = ServerShuttingDownError()
            status, error_type = "interrupted", error.code
            raise error from None
        except GeneratorExit:
            status, error_type = "cancelled", "cancelled"
            raise
        except ConnectorError as exc:
            error_type = exc.error_type
            raise
        finally:
            self._shutdown.untrack(stream)
            stream.task = None
            if not recorded:
                self._hub.request_finished()
                usage = acc.usage or Usage()
                if metrics is None:  # failed or cancelled: measured now
                    metrics = self._metrics(
                        stream.provider, call.model, usage, started, first_token, caller, waited[0]
                    )
                self._record(stream, call, caller, usage, metrics, status, error_type, ticket)

    def _metrics(
        self,
        provider: str,
        model: str,
        usage: Usage,
        started: float,
        first_token: float | None,
        caller: Caller,
        waited_s: float,
    ) -> Metrics:
        now = time.perf_counter()
        latency_ms = (now - started) * 1000
        # From the request's arrival (its parsing and checks count), minus the upstream.
        context = caller.context
        arrived = context.arrived if context is not None else started
        if context is not None:
            context.upstream_s = waited_s
        overhead_ms = max(0.0, (now - arrived - waited_s) * 1000)
        ttft_ms = (first_token - started) * 1000 if first_token is not None else None
        gen_s = (now - first_token) if first_token is not None else 0.0
        cost, reference = self._costs(provider, model, usage)
        return Metrics(
            latency_ms=round(latency_ms, 3),
            ttft_ms=round(ttft_ms, 3) if ttft_ms is not None else None,
            tokens_per_s=round(usage.completion_tokens / gen_s, 2)
            if gen_s * 1000 >= MIN_RATE_WINDOW_MS and usage.completion_tokens
            else None,
            cost_usd=cost,
            reference_cost_usd=reference,
            overhead_ms=round(overhead_ms, 3),
        )

    async def _prepare_prices(self, routes: list[Route]) -> None:
        """The prices the record will need, looked up now: a model first seen is
        priced in a thread, which may load genai-prices (connector/services/pricing.py)."""
        cloud = (r.model for r in routes if not self._providers.is_local(r.provider.name))
        await pricing.prepare(self._runtime.reference_model, *cloud)

    def _costs(self, endpoint: str, model: str, usage: Usage) -> tuple[float, float | None]:
        return pricing.chat_costs(
            self._providers.is_local(endpoint),
            model,
            usage.prompt_tokens,
            usage.completion_tokens,
            self._runtime.reference_model,
        )

    def _record(
        self,
        stream: ChatStream,
        call: ProviderCall,
        caller: Caller,
        usage: Usage,
        metrics: Metrics,
        status: str,
        error_type: str | None,
        ticket: Ticket | None,
    ) -> asyncio.Future[bool] | None:
        entry = UsageEntry(
            request_id=stream.id,
            surface=caller.surface,
            client=caller.client,
            provider=stream.provider,
            model=call.model,
            status=status,
            error_type=None if status == "ok" else error_type,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            total_tokens=usage.total_tokens or usage.prompt_tokens + usage.completion_tokens,
            latency_ms=metrics.latency_ms,
            ttft_ms=metrics.ttft_ms,
            cost_usd=metrics.cost_usd,
            reference_cost_usd=metrics.reference_cost_usd,
            structured=call.json_mode,
            key_id=caller.key_id,
            key_name=caller.key_name,
            overhead_ms=metrics.overhead_ms,
            endpoint=stream.provider,
            tried=",".join(stream.tried),
            saved_usd=pricing.saved_usd(
                self._providers.is_local(stream.provider), metrics.reference_cost_usd
            ),
        )
        if self._budgets is not None:
            self._budgets.settle(ticket, caller.key, entry.total_tokens, entry.cost_usd)
        if self._request_log is not None and self._request_log.enabled:
            self._request_log.add(entry, call.request, stream.completion)
        return self._usage.record(entry)


def _upstream_failure(exc: ConnectorError) -> bool:
    """A failure the next endpoint of a fallback list may not have: unreachable, a
    timeout, 429, or a 5xx the upstream answered (not a bad request, a missing model or
    key, an answer that failed its schema, or this server shutting down)."""
    if isinstance(exc, StructuredOutputError | ServerShuttingDownError):
        return False
    return isinstance(
        exc, UpstreamUnavailableError | UpstreamTimeoutError | RateLimitError | UpstreamError
    )
