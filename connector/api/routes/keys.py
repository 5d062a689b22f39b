"""App keys and budgets (admin surface): create (the key is shown once), list, rename,
set limits, revoke; the global budgets. See `connector.services.app_keys`."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Response

from connector.api.deps import ServicesDep, SettingsWriter
from connector.api.routes.chat import ERRORS
from connector.api.routing import DocumentedRoute
from connector.schemas.keys import (
    AppKeyCreate,
    AppKeyCreated,
    AppKeyPublic,
    AppKeyUpdate,
    GlobalBudgets,
    Limits,
)
from connector.services.budgets import GLOBAL


async def _spending_summed(services: ServicesDep) -> None:
    # Every view here shows what is spent, which a start sums while it answers.
    await services.budgets.summed()


router = APIRouter(
    tags=["keys"], route_class=DocumentedRoute, dependencies=[Depends(_spending_summed)]
)


@router.get("/keys", response_model=list[AppKeyPublic])
async def list_keys(services: ServicesDep) -> list[AppKeyPublic]:
    """Every key (revoked ones too, the programs' key first when it exists), with its
    limits and what is spent of each now. Never the keys themselves."""
    return await services.app_keys.all()


@router.post(
    "/keys",
    response_model=AppKeyCreated,
    status_code=201,
    dependencies=[SettingsWriter],
    responses=ERRORS,
)
async def create_key(
    change: AppKeyCreate, services: ServicesDep, response: Response
) -> AppKeyCreated:
    """A new key, returned this once (only its hash is kept). Programs send it as
    `Authorization: Bearer KEY` (`x-api-key` for Anthropic clients, `?token=` on
    WebSockets). From the first key on, the model API wants a key."""
    response.headers["Cache-Control"] = "no-store"
    return await services.app_keys.create(change)


@router.get("/keys/{key_id}", response_model=AppKeyPublic, responses=ERRORS)
async def get_key(key_id: str, services: ServicesDep) -> AppKeyPublic:
    return await services.app_keys.get(key_id)


@router.patch(
    "/keys/{key_id}", response_model=AppKeyPublic, dependencies=[SettingsWriter], responses=ERRORS
)
async def update_key(key_id: str, change: AppKeyUpdate, services: ServicesDep) -> AppKeyPublic:
    """Rename, or change limits: the limit fields given replace the old ones (null
    removes a limit), the others stay. `programs` is the programs' key."""
    return await services.app_keys.update(key_id, change)


@router.delete(
    "/keys/{key_id}", response_model=AppKeyPublic, dependencies=[SettingsWriter], responses=ERRORS
)
async def revoke_key(key_id: str, services: ServicesDep) -> AppKeyPublic:
    """Revoke: the next request with the key is a 401. The key stays listed, revoked."""
    return await services.app_keys.revoke(key_id)


@router.get("/budgets", response_model=GlobalBudgets)
async def get_budgets(services: ServicesDep) -> GlobalBudgets:
    """The budgets of every request together (any key or none)."""
    budgets = services.budgets
    return GlobalBudgets(limits=budgets.limits(GLOBAL), usage=budgets.usage(GLOBAL))


@router.patch(
    "/budgets", response_model=GlobalBudgets, dependencies=[SettingsWriter], responses=ERRORS
)
async def update_budgets(change: Limits, services: ServicesDep) -> GlobalBudgets:
    """The fields given replace the old limits (null removes one); the others stay."""
    budgets = services.budgets
    values = budgets.limits(GLOBAL).model_dump()
    values.update({name: getattr(change, name) for name in change.model_fields_set})
    await asyncio.to_thread(budgets.save_limits, GLOBAL, Limits.model_validate(values))
    return GlobalBudgets(limits=budgets.limits(GLOBAL), usage=budgets.usage(GLOBAL))
