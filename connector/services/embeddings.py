"""EmbeddingService: embedding calls of every surface (Ollama's /api/embed and
/api/embeddings, OpenAI's /v1/embeddings), metered like chats.

    route -> EmbeddingService.embed(request, caller) -> Provider.embed(call)
                 finally: price -> UsageEntry(kind="embed") -> UsageService -> MonitorHub

Exactly one usage record per upstream call, whatever its outcome (ok, error,
cancelled), with the caller's surface and program and the input tokens the upstream
counted (Ollama's older /api/embeddings reports none: 0).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

from connector.errors import ConnectorError
from connector.providers.base import EmbedCall, EmbedResult, Provider
from connector.providers.registry import ProviderRegistry
from connector.services import pricing
from connector.services.budgets import BudgetService
from connector.services.callers import Caller
from connector.services.monitor import MonitorHub
from connector.services.settings import RuntimeSettings
from connector.services.usage import InflightEntry, UsageEntry, UsageService


@dataclass(slots=True)
class EmbedRequest:
    """An embedding request from any surface, before its provider is resolved."""

    model: str
    call: EmbedCall  # `call.model` is replaced by the resolved bare name
    provider: str | None = None


class EmbeddingService:
    def __init__(
        self,
        providers: ProviderRegistry,
        runtime: RuntimeSettings,
        usage: UsageService,
        hub: MonitorHub,
        budgets: BudgetService | None = None,
    ) -> None:
        self._providers = providers
        self._runtime = runtime
        self._usage = usage
        self._hub = hub
        self._budgets = budgets

    def resolve(self, model: str, provider: str | None = None) -> tuple[Provider, str]:
        return self._providers.resolve(model, provider, self._runtime.default_provider)

    async def embed(self, request: EmbedRequest, caller: Caller) -> tuple[Provider, EmbedResult]:
        """Resolve (raising before anything is recorded), then call the upstream once."""
        provider, model = self.resolve(request.model, request.provider)
        # Over a budget: refused before the upstream call and before any record.
        ticket = (
            await self._budgets.admit_when_summed(caller.key) if self._budgets is not None else None
        )
        call = request.call
        call.model = model
        request_id = f"embd-{uuid.uuid4().hex[:24]}"
        started = time.perf_counter()
        status, error_type = "error", "internal_error"
        result: EmbedResult | None = None
        self._hub.request_started()
        self._usage.begin(
            InflightEntry(
                request_id=request_id,
                surface=caller.surface,
                client=caller.client,
                kind="embed",
                provider=provider.name,
                model=model,
                structured=False,
                key_id=caller.key_id,
                key_name=caller.key_name,
            )
        )
        upstream_s = 0.0
        try:
            if not provider.local:
                await pricing.prepare(model)  # in a thread when first seen
            asked = time.perf_counter()
            try:
                result = await provider.embed(call)
            finally:
                upstream_s = time.perf_counter() - asked
            status = "ok"
        except asyncio.CancelledError:
            status, error_type = "cancelled", "cancelled"
            raise
        except ConnectorError as exc:
            error_type = exc.error_type
            raise
        finally:
            self._hub.request_finished()
            tokens = result.prompt_tokens if result is not None else 0
            latency_ms = (time.perf_counter() - started) * 1000
            if result is not None:
                result.latency_ms = latency_ms
            cost = 0.0
            if not provider.local:
                cost = pricing.openai_cost(model, tokens, 0) or 0.0
            context = caller.context
            if context is not None:
                context.upstream_s = upstream_s
            arrived = context.arrived if context is not None else started
            overhead_ms = max(0.0, (time.perf_counter() - arrived - upstream_s) * 1000)
            if self._budgets is not None:
                self._budgets.settle(ticket, caller.key, tokens, cost)
            commit = self._usage.record(
                UsageEntry(
                    request_id=request_id,
                    surface=caller.surface,
                    client=caller.client,
                    kind="embed",
                    provider=provider.name,
                    model=model,
                    status=status,
                    error_type=None if status == "ok" else error_type,
                    prompt_tokens=tokens,
                    completion_tokens=0,
                    reasoning_tokens=0,
                    total_tokens=tokens,
                    latency_ms=round(latency_ms, 3),
                    ttft_ms=None,
                    cost_usd=cost,
                    # No saving is claimed: the reference price is a chat model's.
                    reference_cost_usd=None,
                    structured=False,
                    endpoint=provider.name,
                    tried=provider.name,
                    key_id=caller.key_id,
                    key_name=caller.key_name,
                    overhead_ms=round(overhead_ms, 3),
                )
            )
        # On the books before the answer goes out, as for chats.
        await self._usage.durable(commit)
        return provider, result
