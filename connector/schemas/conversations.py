"""Conversations kept for the UI."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from connector.config import ProviderName


class ConversationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field("New chat", max_length=200)
    provider: ProviderName | None = None
    model: str | None = Field(None, max_length=200)


class ConversationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=200)
    provider: ProviderName | None = None
    model: str | None = Field(None, max_length=200)


class MessageIn(BaseModel):
    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    reasoning_content: str | None = None
    parsed: Any | None = None
    metrics: dict[str, Any] | None = None


class MessagesReplace(BaseModel):
    messages: list[MessageIn] = Field(..., max_length=10_000)


class MessagePublic(MessageIn):
    id: int
    created_at: datetime


class ConversationPublic(BaseModel):
    id: str
    title: str
    provider: ProviderName | None
    model: str | None
    created_at: datetime
    updated_at: datetime
    message_count: int = 0


class ConversationDetail(ConversationPublic):
    messages: list[MessagePublic] = Field(default_factory=list)


class Health(BaseModel):
    """`degraded`: the server answers, but something needs attention (`problems`);
    chats still work."""

    status: Literal["ok", "degraded"] = "ok"
    problems: list[str] | None = None
