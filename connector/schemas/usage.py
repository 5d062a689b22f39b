"""Usage records and their aggregates."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
)

from connector.config import ProviderName

# The route family a request came in on: the connector's own REST/SSE/WS routes, the
# OpenAI-compatible /v1, and the other client dialects.
Surface = Literal["rest", "sse", "ws", "v1", "ollama", "anthropic", "responses"]
_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _iso_only(value: Any) -> Any:
    # Pydantic would read 0.5 (or "0.5") as seconds since 1970; the contract says an ISO
    # time, so a number is the wrong type, not a date in January 1970.
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("must be an ISO 8601 time such as 2026-12-01T00:00:00Z, not a number")
    return value


# A time filter: ISO 8601 only.
IsoTime = Annotated[datetime, BeforeValidator(_iso_only)]
# What a record meters: a chat (or generate) turn, or an embedding call.
RecordKind = Literal["chat", "embed"]
# `interrupted`: cut off by a shutdown (after its grace) or a crash (found at next start).
RecordStatus = Literal["ok", "error", "cancelled", "interrupted"]
Bucket = Literal["minute", "hour", "day"]


class UsageRecordPublic(BaseModel):
    id: int
    request_id: str
    created_at: datetime
    surface: Surface
    client: str
    kind: RecordKind
    provider: ProviderName
    model: str
    status: RecordStatus
    error_type: str | None = None
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    total_tokens: int
    latency_ms: float
    ttft_ms: float | None = None
    cost_usd: float
    reference_cost_usd: float | None = None
    structured: bool
    key_id: str | None = Field(
        None, description="The app key that made it (`admin`: the admin token; null: none)."
    )
    key_name: str | None = None
    overhead_ms: float | None = Field(
        None, description="The connector's own time (the request's time not spent upstream)."
    )
    endpoint: str | None = Field(None, description="The endpoint that served it.")
    tried: str | None = Field(
        None, description="Every endpoint tried, in order, comma-separated (the last served)."
    )
    saved_usd: float = Field(0.0, description="What it saved (a local endpoint's reference cost).")


class Totals(BaseModel):
    requests: int = 0
    ok: int = 0
    errors: int = 0
    cancelled: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0
    saved_usd: float = 0.0


class _Spend(BaseModel):
    """What every breakdown row counts, beside the columns it is grouped by."""

    requests: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    total_tokens: int
    cost_usd: float
    saved_usd: float


class ModelUsage(_Spend):
    provider: ProviderName
    model: str
    avg_latency_ms: float | None
    avg_ttft_ms: float | None
    tokens_per_s: float | None


class SeriesPoint(BaseModel):
    bucket_start: datetime
    requests: int
    total_tokens: int
    cost_usd: float
    saved_usd: float


class ClientSurfaceUsage(_Spend):
    """One calling program on one surface: what it spent (the Monitoring page's
    "By client" table)."""

    client: str
    surface: Surface
    embeds: int = Field(description="Embedding calls among `requests`.")
    avg_latency_ms: float | None


class EndpointUsage(_Spend):
    """One endpoint: what it served (the Monitoring page's "By endpoint" table)."""

    endpoint: str
    fallbacks: int = Field(description="Requests it served after another endpoint failed.")
    avg_latency_ms: float | None
    avg_ttft_ms: float | None


class KeyUsage(_Spend):
    """One app key: what its requests spent (the Monitoring page's "By key" table)."""

    key_id: str | None = Field(description="Null: requests made without a key.")
    key_name: str | None = None
    avg_latency_ms: float | None
    avg_overhead_ms: float | None


class UsageSummary(BaseModel):
    totals: Totals
    by_model: list[ModelUsage]
    by_client: list[ClientSurfaceUsage]
    by_key: list[KeyUsage] = Field(default_factory=list)
    by_endpoint: list[EndpointUsage] = Field(default_factory=list)
    series: list[SeriesPoint]
    recent: list[UsageRecordPublic]
    bucket: Bucket
    since: datetime | None = None
    until: datetime | None = None
    client: str | None = None
    surface: Surface | None = None
    key_id: str | None = None


class ClientUsage(BaseModel):
    """One calling program (from the records' `client`): how much and how lately."""

    client: str
    requests: int = Field(description="Requests at or after `since` (all of them without it).")
    total_requests: int
    last_seen: datetime
    last_surface: Surface
