"""OpenAI's embeddings API (`POST /v1/embeddings`), plus `provider` as on chat."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from connector.config import ProviderName


class EmbeddingsRequest(BaseModel):
    """OpenAI's request. Token-id inputs (lists of integers) are OpenAI's only: Ollama
    embeds text."""

    model_config = ConfigDict(extra="allow")

    provider: ProviderName | None = Field(
        None, description="`ollama` or `openai`; defaults to the configured provider."
    )
    model: str = Field(
        ..., min_length=1, description="`ollama/NAME` or `openai/NAME` also picks the provider."
    )
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, ge=1)
    user: str | None = None


class Embedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str  # a base64 string with encoding_format "base64"


class EmbeddingsUsage(BaseModel):
    prompt_tokens: int = 0
    total_tokens: int = 0


class EmbeddingsResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingsUsage


def texts_of(value: Any) -> list[str] | None:
    """The request's input as texts, or None when it is token ids."""
    if isinstance(value, str):
        return [value]
    if all(isinstance(item, str) for item in value):
        return list(value)
    return None
