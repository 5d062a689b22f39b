"""What the connector saw (admin surface): Prometheus `/metrics`, the request log
(`/requests`), and usage records exported as CSV or JSON (`/usage/export`)."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Query, Request, Response

from connector.api.deps import ServicesDep, SettingsWriter
from connector.api.routes.chat import ERRORS
from connector.api.routes.usage import own_key
from connector.api.routing import DocumentedRoute
from connector.schemas import Surface
from connector.schemas.keys import (
    RequestLogEntry,
    RequestLogPage,
    RequestLogSettings,
    RequestLogSettingsUpdate,
)
from connector.schemas.usage import IsoTime
from connector.services import usage_export
from connector.services.metrics import CONTENT_TYPE_LATEST

router = APIRouter(tags=["observability"], route_class=DocumentedRoute)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(services: ServicesDep) -> Response:
    """Prometheus text format: requests, tokens, cost, saved, latency, time to first
    token and the connector's own time (histograms), requests in flight; labelled by
    endpoint, provider, model, surface, client, key, status and kind. Counts since this
    process started. Guarded by the admin token when one is set."""
    body = await asyncio.to_thread(services.metrics.render)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.get("/requests", response_model=RequestLogPage, dependencies=[SettingsWriter])
async def list_requests(services: ServicesDep) -> RequestLogPage:
    """The request log's switch and its requests, newest first (without bodies)."""
    return services.request_log.page()


@router.get("/requests/settings", response_model=RequestLogSettings)
async def get_request_log_settings(services: ServicesDep) -> RequestLogSettings:
    return services.request_log.settings


@router.put(
    "/requests/settings",
    response_model=RequestLogSettings,
    dependencies=[SettingsWriter],
    responses=ERRORS,
)
async def update_request_log_settings(
    change: RequestLogSettingsUpdate, services: ServicesDep
) -> RequestLogSettings:
    """Off by default. On: the last `capacity` requests keep their bodies (in memory,
    secrets scrubbed). Off again: what was kept is dropped."""
    return await asyncio.to_thread(services.request_log.update, change)


@router.get(
    "/requests/{request_id}",
    response_model=RequestLogEntry,
    dependencies=[SettingsWriter],
    responses=ERRORS,
)
async def get_request(request_id: str, services: ServicesDep) -> RequestLogEntry:
    """One logged request with its bodies: messages, tools and options as the chat path
    saw them; the answer's content, reasoning, tool calls, usage and timings."""
    return services.request_log.get(request_id)


@router.get(
    "/usage/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/json": {}}}},
)
async def export_usage(
    request: Request,
    services: ServicesDep,
    format: Literal["csv", "json"] = Query("csv", description="csv or json"),
    since: IsoTime | None = Query(None, description="ISO time; records at or after it"),
    until: IsoTime | None = Query(None, description="ISO time; records before it"),
    client: str | None = Query(None, description="Only this calling program"),
    surface: Surface | None = Query(None, description="Only this surface"),
    key: str | None = Query(None, description="Only this app key (an app key: its own)"),
) -> Response:
    """Every usage record matching the filters, oldest first, as CSV (a header row)
    or a JSON array of the records `/usage` shows."""
    await services.usage.flush()
    query = usage_export.Query(since, until, client, surface, own_key(request, key))
    body = await asyncio.to_thread(usage_export.export, services.engine, query, format)
    media = "text/csv; charset=utf-8" if format == "csv" else "application/json"
    name = f"usage.{format}"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f"attachment; filename={name}"}
    )
