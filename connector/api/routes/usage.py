"""Usage and cost: totals, per provider/model, time series, recent requests."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query

from connector.api.deps import ServicesDep
from connector.schemas import Bucket, UsageSummary

router = APIRouter(tags=["usage"])


@router.get("/usage", response_model=UsageSummary)
async def get_usage(
    services: ServicesDep,
    since: datetime | None = Query(None, description="ISO time; records at or after it"),
    until: datetime | None = Query(None, description="ISO time; records before it"),
    bucket: Bucket = Query("hour", description="Time-series bucket size"),
) -> UsageSummary:
    return await services.usage.summary(since, until, bucket)
