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


def _listen(request: Request) -> ListenAddress | None:
    """The address this server really answers on (the configured port may have been
    taken, e.g. by the desktop app picking a free one)."""
    server = request.scope.get("server")
    if not server or server[1] is None:
        return None
    return ListenAddress(host=str(server[0]), port=int(server[1]))


@router.get("/settings", response_model=SettingsPublic)
async def get_settings(request: Request, services: ServicesDep) -> SettingsPublic:
    return services.runtime.public(_listen(request))


@router.post(
    "/settings", response_model=SettingsPublic, dependencies=[SettingsWriter], responses=ERRORS
)
async def update_settings(
    change: SettingsUpdate, request: Request, services: ServicesDep
) -> SettingsPublic:
    """Change any subset; `openai_api_key: ""` clears the key. The key is write-only."""
    return await services.runtime.update(change, _listen(request))


@router.get("/profile", response_model=ProfilePublic)
async def get_profile(services: ServicesDep) -> ProfilePublic:
    return await services.profile.get()


@router.post("/profile", response_model=ProfilePublic)
async def update_profile(change: ProfileUpdate, services: ServicesDep) -> ProfilePublic:
    return await services.profile.update(change)
