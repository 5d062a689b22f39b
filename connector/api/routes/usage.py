"""Usage and cost: totals, per provider/model, time series, recent requests."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.requests import HTTPConnection

from connector.api.deps import ServicesDep
from connector.api.routing import DocumentedRoute
from connector.schemas import Bucket, Surface, UsageSummary
from connector.schemas.usage import ClientUsage, IsoTime
from connector.services.callers import ADMIN_KEY, request_context
from connector.services.usage import DEFAULT_POINTS, MAX_POINTS

router = APIRouter(tags=["usage"], route_class=DocumentedRoute)


def own_key(conn: HTTPConnection, wanted: str | None) -> str | None:
    """An app key reads only its own usage; the admin token (and a caller without a
    key, where that is allowed) reads any."""
    context = request_context(conn.scope)
    key = context.key if context is not None else None
    return wanted if key is None or key == ADMIN_KEY else key.id


@router.get("/usage", response_model=UsageSummary)
async def get_usage(
    request: Request,
    services: ServicesDep,
    since: IsoTime | None = Query(None, description="ISO time; records at or after it"),
    until: IsoTime | None = Query(None, description="ISO time; records before it"),
    bucket: Bucket = Query("hour", description="Time-series bucket size"),
    points: int = Query(
        DEFAULT_POINTS,
        ge=1,
        le=MAX_POINTS,
        description="At most this many time-series buckets, the newest ones",
    ),
    client: str | None = Query(
        None, description="Only this calling program (`client`, e.g. `ollama-python/0.6.3`)"
    ),
    surface: Surface | None = Query(None, description="Only requests on this surface"),
    key: str | None = Query(
        None, description="Only this app key's requests (its id; an app key sees only its own)"
    ),
) -> UsageSummary:
    key_id = own_key(request, key)
    return await services.usage.summary(since, until, bucket, points, client, surface, key_id)


@router.get("/usage/clients", response_model=list[ClientUsage])
async def get_usage_clients(
    services: ServicesDep,
    since: IsoTime | None = Query(
        None, description="ISO time; `requests` counts the records at or after it"
    ),
) -> list[ClientUsage]:
    """The programs that called this connector (from their `User-Agent`), newest first."""
    return await services.usage.clients(since)
