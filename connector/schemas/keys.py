"""App keys, their budgets and limits, and the request log: API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, StrictBool, StrictFloat

from connector.schemas.strict import NonNegativeInt, json_number

# Every budget or limit a key (or the whole connector) can have.
BudgetName = Literal[
    "usd_per_day", "usd_per_month", "tokens_per_day", "tokens_per_month", "requests_per_minute"
]


class Limits(BaseModel):
    """Budgets (cloud cost in USD, tokens) per UTC day and month, and a rate limit.
    None: no limit. Local models cost nothing, so only their tokens count."""

    usd_per_day: StrictFloat | None = Field(None, ge=0)
    usd_per_month: StrictFloat | None = Field(None, ge=0)
    tokens_per_day: NonNegativeInt | None = None
    tokens_per_month: NonNegativeInt | None = None
    requests_per_minute: NonNegativeInt | None = None


class BudgetUse(BaseModel):
    """One budget and how much of it is spent in the current period."""

    budget: BudgetName
    limit: float
    spent: float = Field(description="Spent in the current period (finished requests).")
    in_flight: int = Field(description="Requests admitted that have not finished yet.")
    fraction: float = Field(description="spent / limit (1.0 and over: requests are refused).")
    resets_at: datetime


class AppKeyPublic(BaseModel):
    id: str
    name: str
    hint: str = Field(description="The key's last four characters, to tell keys apart.")
    created_at: datetime | None = None
    revoked_at: datetime | None = None
    builtin: bool = Field(
        False, description="The programs' key of the desktop app (Settings > Connect your tools)."
    )
    limits: Limits
    usage: list[BudgetUse] = Field(default_factory=list)
    requests: int = Field(0, description="Requests made with it (its usage records).")
    last_used_at: datetime | None = None


class AppKeyCreated(AppKeyPublic):
    key: str = Field(description="The key itself: shown this once, never again.")


class AppKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    limits: Limits = Field(default_factory=Limits)


class AppKeyUpdate(BaseModel):
    """Change a key's name or limits. In `limits`, the fields given replace the old
    values (null removes that limit); the others stay."""

    name: str | None = Field(None, min_length=1, max_length=64)
    limits: Limits | None = None


class GlobalBudgets(BaseModel):
    """Budgets and limits for every request together, whatever key made it."""

    limits: Limits
    usage: list[BudgetUse] = Field(default_factory=list)


class RequestLogSettings(BaseModel):
    enabled: bool = False
    capacity: int = Field(100, ge=1, le=10_000, description="How many requests are kept.")


class RequestLogSettingsUpdate(BaseModel):
    enabled: StrictBool | None = None
    capacity: Annotated[int, Field(ge=1, le=10_000), BeforeValidator(json_number)] | None = None


class RequestLogSummary(BaseModel):
    """One logged request, without its bodies."""

    request_id: str
    created_at: datetime
    surface: str
    client: str
    kind: str
    key_id: str | None = None
    key_name: str | None = None
    provider: str
    model: str
    status: str
    error_type: str | None = None
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    latency_ms: float
    ttft_ms: float | None = None
    overhead_ms: float | None = None
    cost_usd: float
    endpoint: str | None = None


class RequestLogEntry(RequestLogSummary):
    """A logged request with its bodies (secrets scrubbed): the request as the chat
    path saw it (messages, tools, options) and the answer (content, reasoning, tool
    calls, usage, metrics); `response` is None when it failed before an answer."""

    request: dict[str, Any]
    response: dict[str, Any] | None = None


class RequestLogPage(BaseModel):
    settings: RequestLogSettings
    requests: list[RequestLogSummary] = Field(description="Newest first.")
