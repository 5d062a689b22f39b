"""Endpoints and aliases as the Settings API shows and takes them. Keys are write-only:
an endpoint's key shows only as its masked status."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from connector.providers.endpoints import EndpointName, Pricing, Target, clean_url
from connector.schemas.settings import ApiKeyStatus

_KEY = Field(
    None,
    json_schema_extra={"writeOnly": True},
    max_length=500,
    # Printable ASCII without spaces: the key travels in an HTTP header.
    pattern=r"^[!-~]*$",
    description='Write-only; `""` clears the key.',
)
ModelPattern = Annotated[str, Field(min_length=1, max_length=200)]


class EndpointHealth(BaseModel):
    """The endpoint's last known state: from the catalogue's refreshes (every minute
    and on each model listing) and the chat path's upstream failures."""

    name: str
    up: bool | None = Field(description="None: not asked yet.")
    last_error: str | None = None
    latency_ms: float | None = Field(None, description="The last model listing's latency.")
    checked_at: datetime | None = None
    models: int = 0


class EndpointPublic(BaseModel):
    name: str
    kind: str
    base_url: str
    enabled: bool
    models: list[str] = Field(description="Model filter (globs); empty: every model.")
    pricing: Pricing
    key_required: bool
    api_key: ApiKeyStatus
    default: bool = Field(description="Bare names no catalogue has go here.")
    health: EndpointHealth


class AliasPublic(BaseModel):
    name: str = Field(description="A model name, or a glob such as `claude-haiku-*`.")
    targets: list[str] = Field(description="`ENDPOINT/MODEL`s in fallback order.")


class EndpointsPublic(BaseModel):
    endpoints: list[EndpointPublic]
    aliases: list[AliasPublic]
    kinds: list[str]


class _EndpointFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("base_url", check_fields=False)
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else clean_url(value)


class EndpointCreate(_EndpointFields):
    name: EndpointName
    kind: str = Field(min_length=1, max_length=32)
    base_url: str
    enabled: StrictBool = True
    models: list[ModelPattern] = Field(default_factory=list, max_length=100)
    pricing: Pricing | None = Field(None, description="Default: the kind's (ollama: local).")
    key_required: StrictBool = False
    api_key: str | None = _KEY


class EndpointUpdate(_EndpointFields):
    """Any subset; the name and kind stay."""

    base_url: str | None = None
    enabled: StrictBool | None = None
    models: list[ModelPattern] | None = Field(None, max_length=100)
    pricing: Pricing | None = None
    key_required: StrictBool | None = None
    api_key: str | None = _KEY


class AliasIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    targets: list[Target] = Field(min_length=1, max_length=8)


class AliasesUpdate(BaseModel):
    """The whole alias list (order matters: the first matching glob wins)."""

    model_config = ConfigDict(extra="forbid")

    aliases: list[AliasIn] = Field(max_length=200)
