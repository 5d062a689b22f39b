"""Builds, starts and stops every service of one app instance (no globals)."""

from __future__ import annotations

import asyncio
import gc
import logging
from dataclasses import dataclass

from sqlalchemy import Engine

from connector.config import Settings
from connector.db import make_engine, migrate
from connector.endpoint_keys import EndpointKeys
from connector.providers import endpoints as endpoint_config
from connector.providers.registry import ProviderRegistry
from connector.secrets import KeyStore
from connector.services import pricing
from connector.services.app_keys import AppKeyService
from connector.services.budgets import BudgetService
from connector.services.chat import ChatService
from connector.services.conversations import ConversationService
from connector.services.embeddings import EmbeddingService
from connector.services.endpoints import EndpointService
from connector.services.metrics import PrometheusMetrics
from connector.services.monitor import MonitorHub
from connector.services.profile import ProfileService
from connector.services.request_log import RequestLog
from connector.services.responses_store import ResponsesStore
from connector.services.settings import RuntimeSettings
from connector.services.shutdown import ShutdownCoordinator
from connector.services.usage import UsageService

log = logging.getLogger(__name__)

# In the data directory: the rates of the models priced so far (services/pricing.py).
PRICES_FILE = "prices.json"
# Collections of the middle generation between two full collections (Python's default 10).
FULL_COLLECTION_AFTER = 100


@dataclass
class Services:
    settings: Settings
    engine: Engine
    keys: KeyStore
    providers: ProviderRegistry
    runtime: RuntimeSettings
    hub: MonitorHub
    usage: UsageService
    shutdown: ShutdownCoordinator
    chat: ChatService
    embeddings: EmbeddingService
    responses: ResponsesStore
    conversations: ConversationService
    profile: ProfileService
    budgets: BudgetService
    app_keys: AppKeyService
    request_log: RequestLog
    metrics: PrometheusMetrics
    endpoint_keys: EndpointKeys
    endpoints: EndpointService
    # The SDK import (and heap settling) running in a thread after start-up.
    warmed_up: asyncio.Future[None] | None = None

    @classmethod
    def build(cls, settings: Settings) -> Services:
        engine = make_engine(settings.resolved_database_url)
        keys = KeyStore(settings)
        endpoint_keys = EndpointKeys(keys)
        configured, aliases = endpoint_config.configured(settings)
        providers = ProviderRegistry(settings, endpoint_keys.getter, configured, aliases)
        given = {e.name: key for e in configured if (key := e.configured_key())}
        endpoints = EndpointService(engine, providers, endpoint_keys, given)
        runtime = RuntimeSettings(settings, engine, keys, providers, endpoints)
        hub = MonitorHub()
        usage = UsageService(engine, hub)
        shutdown = ShutdownCoordinator(settings.shutdown_grace)
        budgets = BudgetService(engine, hub)
        request_log = RequestLog(engine)
        metrics = PrometheusMetrics(hub)
        usage.recorder.on_committed.append(metrics.observe)
        return cls(
            settings=settings,
            engine=engine,
            keys=keys,
            providers=providers,
            runtime=runtime,
            hub=hub,
            usage=usage,
            shutdown=shutdown,
            chat=ChatService(providers, runtime, usage, hub, shutdown, budgets, request_log),
            embeddings=EmbeddingService(providers, runtime, usage, hub, budgets),
            responses=ResponsesStore(engine),
            conversations=ConversationService(engine),
            profile=ProfileService(engine),
            endpoint_keys=endpoint_keys,
            endpoints=endpoints,
            budgets=budgets,
            app_keys=AppKeyService(engine, keys, budgets, runtime),
            request_log=request_log,
            metrics=metrics,
        )

    async def start(self, *, settle_heap: bool = False) -> None:
        def blocking_start() -> None:
            migrate(self.engine)
            self.keys.load()
            self.runtime.load()
            self.budgets.load()
            self.app_keys.load()
            self.request_log.load()
            self.endpoints.load()
            pricing.use_saved(self.settings.data_dir / PRICES_FILE)

        await asyncio.to_thread(blocking_start)
        await self.usage.start()
        # The budgets sum the same history as the usage totals.
        self.budgets.start(self.usage.history_end)
        # Not awaited: the server answers while the reference model is priced in a
        # thread (which loads genai-prices only when its rates are not saved).
        self.warmed_up = asyncio.get_running_loop().run_in_executor(
            None, _warm_up, self.runtime.reference_model, settle_heap
        )
        # The model catalogue's first listing after that: the first requests, which
        # arrive with the start (a benchmark, a desktop window's first page), get the
        # CPU before the upstreams' model lists are fetched and parsed.
        self.warmed_up.add_done_callback(
            lambda _: self.providers.catalogue.start(self.providers.listings)
        )

    async def stop(self) -> None:
        await self.providers.catalogue.stop()
        await self.budgets.stop()
        await self.usage.stop()
        await self.providers.aclose()
        self.responses.close()
        self.engine.dispose()


def _warm_up(reference_model: str, settle_heap: bool) -> None:
    # After start-up rather than before it: a first request's cost is reckoned at its
    # end, by which time the tables are in (or it waits there for the rest of the load).
    # The JSON Schema validator is not loaded here: it costs 3 MB for as long as the
    # process lives, and only structured-output requests use it (the first one loads it,
    # about 0.07 s).
    try:
        pricing.warm_up(reference_model)
    finally:
        if settle_heap:
            # What is loaded by now (FastAPI, pydantic, SQLAlchemy, the prices) lives as
            # long as the process. Freezing it takes it out of the cycle collector's view:
            # full collections had been pausing the event loop for 60-115 ms, stalling
            # every open stream at once. Only for a process that owns its heap (the server
            # and the desktop app), not for an app embedded in someone else's. Those two
            # start with the collector off (their `__main__`): collections of the heap
            # as it grew took about 0.13 s of the 0.7 s of imports. It is on from here.
            # Frozen without a collection first: one found about 1,100 unreachable
            # objects of 177,000 (no RSS freed) and held the GIL for 47 ms in the first
            # moments of serving, when a start's first requests arrive (measured
            # 2026-12-04).
            gc.freeze()
            # A full collection walks every live object not frozen: with 500 streams
            # open, 30,000-110,000 of them (their tasks, coroutines, sockets), 25-97 ms
            # with the loop stopped, and every stream's next chunk late by as much. By
            # default one runs after ten collections of the middle generation, several a
            # second under such a load; after a hundred, the young ones still free what
            # dies young and the full walks come a tenth as often. Measured 2026-12-04,
            # 500 paced WebSocket streams (60 tokens 50 ms apart) three times a start, on
            # two starts each: a stall past twice the pacing in 6 of 6 runs at 10, in 1
            # of 6 at 100; peak RSS 118 -> 123 MB, the cyclic garbage kept longer.
            young, middle, _ = gc.get_threshold()
            gc.set_threshold(young, middle, FULL_COLLECTION_AFTER)
            gc.enable()
