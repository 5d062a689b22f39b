"""Runtime settings and the user's profile."""

from __future__ import annotations

from fastapi import APIRouter

from connector.api.deps import ServicesDep, SettingsWriter
from connector.api.routes.chat import ERRORS
from connector.schemas import ProfilePublic, ProfileUpdate, SettingsPublic, SettingsUpdate

router = APIRouter(tags=["settings"])


@router.get("/settings", response_model=SettingsPublic)
async def get_settings(services: ServicesDep) -> SettingsPublic:
    return services.runtime.public()


@router.post(
    "/settings", response_model=SettingsPublic, dependencies=[SettingsWriter], responses=ERRORS
)
async def update_settings(change: SettingsUpdate, services: ServicesDep) -> SettingsPublic:
    """Change any subset; `openai_api_key: ""` clears the key. The key is write-only."""
    return await services.runtime.update(change)


@router.get("/profile", response_model=ProfilePublic)
async def get_profile(services: ServicesDep) -> ProfilePublic:
    return await services.profile.get()


@router.post("/profile", response_model=ProfilePublic)
async def update_profile(change: ProfileUpdate, services: ServicesDep) -> ProfilePublic:
    return await services.profile.update(change)
