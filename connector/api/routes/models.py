"""Model discovery (every endpoint asked concurrently), pulls on an endpoint that pulls
(`Puller`), and per-endpoint connection tests."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from connector.api.deps import ServicesDep
from connector.api.routes.chat import ERRORS, SSE_DOC
from connector.api.routing import DocumentedRoute
from connector.api.sse import events_from
from connector.schemas import (
    ModelsResponse,
    OpenAIModel,
    OpenAIModelList,
    ProviderCheck,
    ProviderModels,
    PullRequest,
)
from connector.services.container import Services
from connector.services.ollama_models import OllamaModels

router = APIRouter(tags=["models"], route_class=DocumentedRoute)


async def _listings(services: Services) -> list[ProviderModels]:
    return [
        ProviderModels(
            name=p.name,
            kind=services.providers.endpoint(p.name).kind,
            local=p.local,
            available=r.available,
            reason=r.reason,
            base_url=p.base_url,
            models=r.models,
        )
        for p, r in await services.providers.listings()
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
    """Pull a model on an endpoint that pulls (Ollama): `ENDPOINT/NAME`, or a bare name
    for the first such endpoint. Streams its progress as SSE; closing the request
    cancels the pull."""
    models = OllamaModels(services.providers, services.runtime.default_provider)
    return events_from(models.pull(body.name, None))


@router.post("/providers/{name}/test", response_model=ProviderCheck, responses=ERRORS)
async def test_provider(name: str, services: ServicesDep) -> ProviderCheck:
    """The endpoint `name` asked now (the same as `POST /endpoints/{name}/test`)."""
    return await services.endpoints.test(name)
