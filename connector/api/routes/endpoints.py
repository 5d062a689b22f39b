"""Endpoints and aliases (Settings), and the endpoints' health (Monitoring)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from connector.api.deps import ServicesDep, SettingsWriter
from connector.api.routes.chat import ERRORS
from connector.api.routing import DocumentedRoute
from connector.schemas import ProviderCheck
from connector.schemas.endpoints import (
    AliasesUpdate,
    AliasPublic,
    EndpointCreate,
    EndpointHealth,
    EndpointPublic,
    EndpointsPublic,
    EndpointUpdate,
)
from connector.services.endpoints import EndpointService

router = APIRouter(tags=["endpoints"], route_class=DocumentedRoute)


async def _endpoints(services: ServicesDep) -> EndpointService:
    return services.endpoints


EndpointsDep = Annotated[EndpointService, Depends(_endpoints)]


@router.get("/endpoints", response_model=EndpointsPublic)
async def list_endpoints(endpoints: EndpointsDep) -> EndpointsPublic:
    """Every endpoint (keys masked) with its health, the aliases, the known kinds."""
    return endpoints.public()


@router.post(
    "/endpoints",
    response_model=EndpointPublic,
    status_code=201,
    dependencies=[SettingsWriter],
    responses=ERRORS,
)
async def create_endpoint(body: EndpointCreate, endpoints: EndpointsDep) -> EndpointPublic:
    """Add an endpoint; its key (write-only) goes to the OS keyring when there is one."""
    return await endpoints.create(body)


@router.patch(
    "/endpoints/{name}",
    response_model=EndpointPublic,
    dependencies=[SettingsWriter],
    responses=ERRORS,
)
async def update_endpoint(
    name: str, change: EndpointUpdate, endpoints: EndpointsDep
) -> EndpointPublic:
    """Change any subset; `api_key: ""` clears the key."""
    return await endpoints.update(name, change)


@router.delete(
    "/endpoints/{name}", status_code=204, dependencies=[SettingsWriter], responses=ERRORS
)
async def delete_endpoint(name: str, endpoints: EndpointsDep) -> Response:
    """Remove an endpoint and its key (the default endpoint cannot be removed)."""
    await endpoints.delete(name)
    return Response(status_code=204)


@router.post("/endpoints/{name}/test", response_model=ProviderCheck, responses=ERRORS)
async def test_endpoint(name: str, endpoints: EndpointsDep) -> ProviderCheck:
    return await endpoints.test(name)


@router.put(
    "/endpoints/aliases",
    response_model=list[AliasPublic],
    dependencies=[SettingsWriter],
    responses=ERRORS,
)
async def set_aliases(body: AliasesUpdate, endpoints: EndpointsDep) -> list[AliasPublic]:
    """Replace the aliases (order matters: the first matching glob wins)."""
    return await endpoints.set_aliases(body)


@router.get("/endpoints/health", response_model=list[EndpointHealth])
async def endpoint_health(endpoints: EndpointsDep, refresh: bool = False) -> list[EndpointHealth]:
    """Each endpoint up or down, its last error and latency; `refresh=true` asks them now."""
    return await endpoints.refresh() if refresh else endpoints.health()
