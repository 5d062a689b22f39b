"""Model discovery (both providers asked concurrently), Ollama pulls, and
per-provider connection tests."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter
from fastapi.responses import Response

from connector.api.deps import ServicesDep
from connector.api.routes.chat import ERRORS, SSE_DOC
from connector.api.sse import events_from
from connector.errors import ConnectorError
from connector.providers.base import ModelListing
from connector.schemas import (
    ModelsResponse,
    OpenAIModel,
    OpenAIModelList,
    ProviderCheck,
    ProviderModels,
    PullRequest,
)
from connector.services.container import Services

router = APIRouter(tags=["models"])


async def _listings(services: Services) -> list[ProviderModels]:
    providers = services.providers.all()
    timeout = services.settings.models_timeout + 0.5

    async def one(provider_name: str) -> ModelListing:
        provider = services.providers.get(provider_name)
        try:
            return await asyncio.wait_for(provider.list_models(), timeout)
        except TimeoutError:
            return ModelListing(
                available=False, reason=f"{provider_name} did not answer within {timeout:.0f} s."
            )

    results = await asyncio.gather(*(one(p.name) for p in providers))
    return [
        ProviderModels(
            name=p.name,
            available=r.available,
            reason=r.reason,
            base_url=p.base_url,
            models=r.models,
        )
        for p, r in zip(providers, results, strict=True)
    ]


@router.get("/models", response_model=ModelsResponse)
async def list_models(services: ServicesDep) -> ModelsResponse:
    return ModelsResponse(
        default_provider=services.runtime.default_provider,
        default_model=services.runtime.default_model,
        providers=await _listings(services),
    )


@router.get("/v1/models", response_model=OpenAIModelList)
async def v1_models(services: ServicesDep) -> OpenAIModelList:
    data = [
        OpenAIModel(id=f"{listing.name}/{model.id}", owned_by=listing.name)
        for listing in await _listings(services)
        for model in listing.models
    ]
    return OpenAIModelList(data=data)


@router.post("/models/pull", responses={**ERRORS, **SSE_DOC})
async def pull_model(body: PullRequest, services: ServicesDep) -> Response:
    """Pull an Ollama model, streaming Ollama's progress as SSE; closing the request
    cancels the pull."""
    return events_from(services.providers.ollama.pull(body.name))


@router.post("/providers/{name}/test", response_model=ProviderCheck)
async def test_provider(name: str, services: ServicesDep) -> ProviderCheck:
    provider = services.providers.get(name)
    started = time.perf_counter()
    try:
        detail, ok = await provider.check(), True
    except ConnectorError as exc:
        detail, ok = exc.message, False
    return ProviderCheck(
        provider=provider.name,
        ok=ok,
        detail=detail,
        latency_ms=round((time.perf_counter() - started) * 1000, 2),
    )
