"""Model listings, pulls and provider checks."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    Field,
)

from connector.config import ProviderName


class ModelInfo(BaseModel):
    id: str
    provider: ProviderName
    size: int | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class ProviderModels(BaseModel):
    """One endpoint's models."""

    name: ProviderName
    kind: str = Field("", description="The endpoint's kind: `ollama`, `openai-compatible`, ...")
    local: bool = Field(False, description="Priced as local (free, counted as saved).")
    available: bool
    reason: str | None = None
    base_url: str
    models: list[ModelInfo] = Field(default_factory=list)


class ModelsResponse(BaseModel):
    default_provider: ProviderName
    default_model: str
    providers: list[ProviderModels]


class OpenAIModel(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str


class OpenAIModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[OpenAIModel]


class PullRequest(BaseModel):
    name: str = Field(..., min_length=1, max_length=200)


class ProviderCheck(BaseModel):
    provider: ProviderName
    ok: bool
    detail: str
    latency_ms: float
