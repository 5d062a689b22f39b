"""SQLModel tables. API shapes live in `schemas.py`; the schema itself is managed by
Alembic migrations in `connector/migrations`."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class AppSetting(SQLModel, table=True):
    """Non-secret runtime settings (base URLs, defaults). Never the API key."""

    __tablename__ = "app_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str


class Profile(SQLModel, table=True):
    __tablename__ = "profile"

    id: int = Field(default=1, primary_key=True)
    display_name: str = ""
    email: str = ""
    updated_at: datetime = Field(default_factory=utcnow)


class UsageRecord(SQLModel, table=True):
    __tablename__ = "usage_record"
    # Every request writes a record, and every index costs each commit a B-tree page
    # (migration 0007): `key_id` is indexed for keyed records only. Only SQLite's
    # option is named here: a `postgresql_where` would import SQLAlchemy's PostgreSQL
    # dialect at every start (about 50 ms and 2 MB, measured 2026-12-03). The schema is
    # made by the migrations, and 0007 gives PostgreSQL the same partial index.
    __table_args__ = (
        Index("ix_usage_record_key_id", "key_id", sqlite_where=text("key_id IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    surface: str = Field(max_length=16)
    client: str = Field(default="unknown", max_length=64, index=True)
    kind: str = Field(default="chat", max_length=8)
    provider: str = Field(max_length=32)
    model: str = Field(max_length=200)
    status: str = Field(max_length=16)
    error_type: str | None = Field(default=None, max_length=64)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    total_tokens: int = 0
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    cost_usd: float = 0.0
    reference_cost_usd: float | None = None
    structured: bool = False
    # The app key that made the request (None: no key, or the admin token's "admin").
    key_id: str | None = Field(default=None, max_length=32)
    key_name: str | None = Field(default=None, max_length=64)
    # The connector's own time: the request's wall time minus its waits on the upstream.
    overhead_ms: float | None = None
    # The endpoint that served it, and every endpoint tried in order (comma-separated,
    # the serving one last); what it saved (connector/services/pricing.py).
    endpoint: str | None = Field(default=None, max_length=32)
    tried: str | None = Field(default=None, max_length=200)
    saved_usd: float = 0.0


class UsageInflight(SQLModel, table=True):
    """A request that has started and not yet ended. Deleted in the transaction that
    writes its record; rows found at start-up were cut off by a crash."""

    __tablename__ = "usage_inflight"
    # One B-tree keyed by request_id (migration 0007): a row is written and deleted
    # for every streamed request.
    __table_args__ = {"sqlite_with_rowid": False}

    request_id: str = Field(primary_key=True, max_length=64)
    started_at: datetime = Field(default_factory=utcnow)
    surface: str = Field(max_length=16)
    client: str = Field(default="unknown", max_length=64)
    kind: str = Field(default="chat", max_length=8)
    provider: str = Field(max_length=32)
    model: str = Field(max_length=200)
    structured: bool = False
    key_id: str | None = Field(default=None, max_length=32)
    key_name: str | None = Field(default=None, max_length=64)


class Conversation(SQLModel, table=True):
    __tablename__ = "conversation"

    id: str = Field(primary_key=True, max_length=32)
    title: str = Field(max_length=200)
    provider: str | None = Field(default=None, max_length=32)
    model: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)


class Message(SQLModel, table=True):
    __tablename__ = "message"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(foreign_key="conversation.id", index=True, ondelete="CASCADE")
    position: int
    role: str = Field(max_length=16)
    content: str = ""
    reasoning_content: str | None = None
    parsed_json: str | None = None
    metrics_json: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class StoredResponse(SQLModel, table=True):
    """A Responses API response kept with `store: true`: the response as answered, the
    request's own input items, and the response it continued (`previous_response_id`)."""

    __tablename__ = "stored_response"

    id: str = Field(primary_key=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    previous_response_id: str | None = Field(default=None, max_length=64)
    model: str = Field(max_length=200)
    status: str = Field(max_length=16)
    input_json: str
    response_json: str


class AppKey(SQLModel, table=True):
    """A key handed to a program or a person: only its SHA-256 is kept (the key itself
    is shown once, at creation). Revoked keys stay, so old records keep their name."""

    __tablename__ = "app_key"

    id: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=64)
    key_hash: str = Field(max_length=64, unique=True)
    hint: str = Field(max_length=8)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    # Budgets and limits (connector.schemas.keys.Limits) as JSON.
    limits_json: str = "{}"
