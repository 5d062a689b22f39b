"""Runtime settings and the user's profile."""

from __future__ import annotations

from fastapi import APIRouter, Request

from connector.api.deps import ServicesDep, SettingsWriter
from connector.api.routes.chat import ERRORS
from connector.schemas import (
    ListenAddress,
    ProfilePublic,
    ProfileUpdate,
    SettingsPublic,
    SettingsUpdate,
)

router = APIRouter(tags=["settings"])


def _listen(request: Request, services: ServicesDep) -> ListenAddress:
    """The configured listen address, with the port this server really answers on
    (the desktop app may have had to pick a free one)."""
    server = request.scope.get("server")
    port = server[1] if server and server[1] is not None else services.settings.port
    return ListenAddress(host=services.settings.host, port=int(port))


@router.get("/settings", response_model=SettingsPublic)
async def get_settings(request: Request, services: ServicesDep) -> SettingsPublic:
    return services.runtime.public(_listen(request, services))


@router.post(
    "/settings", response_model=SettingsPublic, dependencies=[SettingsWriter], responses=ERRORS
)
async def update_settings(
    change: SettingsUpdate, request: Request, services: ServicesDep
) -> SettingsPublic:
    """Change any subset; `openai_api_key: ""` clears the key. The key is write-only."""
    return await services.runtime.update(change, _listen(request, services))


@router.get("/profile", response_model=ProfilePublic)
async def get_profile(services: ServicesDep) -> ProfilePublic:
    return await services.profile.get()


@router.post("/profile", response_model=ProfilePublic)
async def update_profile(change: ProfileUpdate, services: ServicesDep) -> ProfilePublic:
    return await services.profile.update(change)
