"""Runtime settings (with the programs' key) and the user's profile."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from connector.api.access import served_dialects
from connector.api.deps import ServicesDep, SettingsWriter
from connector.api.routes.chat import ERRORS
from connector.api.routing import DocumentedRoute
from connector.schemas import (
    ListenAddress,
    ProfilePublic,
    ProfileUpdate,
    SettingsPublic,
    SettingsUpdate,
)
from connector.schemas.settings import Dialect, ProgramKeyReveal

router = APIRouter(tags=["settings"], route_class=DocumentedRoute)


def _listen(request: Request, services: ServicesDep) -> ListenAddress:
    """The configured listen address, with the port this server really answers on
    (the desktop app may have had to pick a free one)."""
    server = request.scope.get("server")
    port = server[1] if server and server[1] is not None else services.settings.port
    return ListenAddress(host=services.settings.host, port=int(port))


def _dialects(request: Request) -> list[Dialect]:
    """What this app serves, read from its routes: a dialect shows up once its routes do."""
    return served_dialects(request.app.router.routes)


@router.get("/settings", response_model=SettingsPublic)
async def get_settings(request: Request, services: ServicesDep) -> SettingsPublic:
    return services.runtime.public(_listen(request, services), _dialects(request))


@router.post(
    "/settings", response_model=SettingsPublic, dependencies=[SettingsWriter], responses=ERRORS
)
async def update_settings(
    change: SettingsUpdate, request: Request, services: ServicesDep
) -> SettingsPublic:
    """Change any subset; `openai_api_key: ""` clears the key. The key is write-only.
    `programs_need_key: true` makes the programs' key first if there is none."""
    return await services.runtime.update(change, _listen(request, services), _dialects(request))


@router.post(
    "/settings/program-key/rotate",
    response_model=ProgramKeyReveal,
    dependencies=[SettingsWriter],
    responses=ERRORS,
)
async def rotate_program_key(services: ServicesDep, response: Response) -> ProgramKeyReveal:
    """A new key for programs (the old one stops working at once), returned this once."""
    response.headers["Cache-Control"] = "no-store"
    return ProgramKeyReveal(key=await services.runtime.rotate_program_key())


@router.post(
    "/settings/program-key/reveal",
    response_model=ProgramKeyReveal,
    dependencies=[SettingsWriter],
    responses=ERRORS,
)
async def reveal_program_key(services: ServicesDep, response: Response) -> ProgramKeyReveal:
    """The programs' key, for the UI's copy button. A POST on the admin surface: it
    wants what settings changes want (the desktop's per-launch token, or a loopback
    caller when no token is set) and a same-origin page; GET never shows the key."""
    response.headers["Cache-Control"] = "no-store"
    return ProgramKeyReveal(key=await services.runtime.reveal_program_key())


@router.get("/profile", response_model=ProfilePublic)
async def get_profile(services: ServicesDep) -> ProfilePublic:
    return await services.profile.get()


@router.post("/profile", response_model=ProfilePublic)
async def update_profile(change: ProfileUpdate, services: ServicesDep) -> ProfilePublic:
    return await services.profile.update(change)
