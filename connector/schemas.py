"""API shapes: what clients send and receive. Database tables live in `tables.py`."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

from connector.config import ProviderName

# --------------------------------------------------------------------------- chat


class FunctionCall(BaseModel):
    name: str | None = None
    arguments: str | None = None


class ToolCall(BaseModel):
    index: int | None = None
    id: str | None = None
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(BaseModel):
    """One message of the conversation, as OpenAI defines it."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    reasoning_content: str | None = None


class JsonSchemaFormat(BaseModel):
    name: str = "output"
    description: str | None = None
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    strict: bool | None = None

    model_config = ConfigDict(populate_by_name=True)


class ResponseFormat(BaseModel):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool | None = None


ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh"]


class ChatRequest(BaseModel):
    """An OpenAI chat request plus `provider`. Unknown OpenAI fields are kept and
    passed on to OpenAI-compatible upstreams."""

    model_config = ConfigDict(extra="allow")

    provider: ProviderName | None = Field(
        None, description="`ollama` or `openai`; defaults to the configured provider."
    )
    model: str | None = Field(
        None, description="Model name; `ollama/NAME` or `openai/NAME` also picks the provider."
    )
    messages: list[ChatMessage] = Field(..., min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    response_format: ResponseFormat | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    reasoning_effort: ReasoningEffort | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None

    @property
    def token_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def stop_list(self) -> list[str] | None:
        if self.stop is None:
            return None
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)


class CompletionTokensDetails(BaseModel):
    reasoning_tokens: int = 0


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    completion_tokens_details: CompletionTokensDetails = Field(
        default_factory=CompletionTokensDetails
    )

    @property
    def reasoning_tokens(self) -> int:
        return self.completion_tokens_details.reasoning_tokens


class Metrics(BaseModel):
    """What the connector measured for one request."""

    latency_ms: float
    ttft_ms: float | None = None
    tokens_per_s: float | None = None
    cost_usd: float = 0.0
    reference_cost_usd: float | None = None


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[ToolCall] | None = None
    parsed: Any | None = None


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: str | None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    provider: ProviderName
    choices: list[Choice]
    usage: Usage
    metrics: Metrics | None = None


def _without_none(handler: SerializerFunctionWrapHandler, value: BaseModel) -> dict[str, Any]:
    return {k: v for k, v in handler(value).items() if v is not None}


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[ToolCall] | None = None

    @model_serializer(mode="wrap")
    def _compact(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # OpenAI sends only the fields a delta carries.
        return _without_none(handler, self)


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: str | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    provider: ProviderName
    choices: list[ChunkChoice]
    usage: Usage | None = None
    metrics: Metrics | None = None
    parsed: Any | None = None

    @model_serializer(mode="wrap")
    def _compact(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # `finish_reason: null` stays on every choice, as OpenAI sends it; our own
        # extras (metrics, parsed) appear only on the chunk that has them.
        data = handler(self)
        for key in ("metrics", "parsed"):
            if data.get(key) is None:
                data.pop(key, None)
        return data


class ErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


# ------------------------------------------------------------------------- models


class ModelInfo(BaseModel):
    id: str
    provider: ProviderName
    size: int | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class ProviderModels(BaseModel):
    name: ProviderName
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


# ----------------------------------------------------------------------- settings

KeyStorage = Literal["keyring", "memory", "env", "file", "none"]


class ApiKeyStatus(BaseModel):
    set: bool
    hint: str | None = Field(None, description="The key's last 4 characters, e.g. `…abcd`.")
    storage: KeyStorage


class ListenAddress(BaseModel):
    host: str
    port: int


class SettingsPublic(BaseModel):
    openai_api_key: ApiKeyStatus
    openai_base_url: str
    ollama_base_url: str
    default_provider: ProviderName
    default_model: str
    reference_model: str
    keyring_available: bool
    listen: ListenAddress


_URL_RE = re.compile(r"^https?://[^\s/]+(/[^\s]*)?$")


class SettingsUpdate(BaseModel):
    """Any subset of the runtime settings. `openai_api_key: ""` clears the key."""

    model_config = ConfigDict(extra="forbid")

    openai_api_key: str | None = Field(None, json_schema_extra={"writeOnly": True}, max_length=500)
    openai_base_url: str | None = None
    ollama_base_url: str | None = None
    default_provider: ProviderName | None = None
    default_model: str | None = Field(None, min_length=1, max_length=200)
    reference_model: str | None = Field(None, min_length=1, max_length=200)

    @field_validator("openai_base_url", "ollama_base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not _URL_RE.match(value):
            raise ValueError("must be an http:// or https:// URL")
        return value


# ------------------------------------------------------------------------ profile

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ProfilePublic(BaseModel):
    display_name: str = ""
    email: str = ""


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str = Field("", max_length=100)
    email: str = Field("", max_length=254)

    @field_validator("display_name")
    @classmethod
    def _name(cls, value: str) -> str:
        return value.strip()

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip()
        if value and not _EMAIL_RE.match(value):
            raise ValueError("is not a valid email address")
        return value


# -------------------------------------------------------------------------- usage

Surface = Literal["rest", "sse", "ws", "v1"]
RecordStatus = Literal["ok", "error", "cancelled"]
Bucket = Literal["minute", "hour", "day"]


class UsageRecordPublic(BaseModel):
    id: int
    request_id: str
    created_at: datetime
    surface: Surface
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


class ModelUsage(BaseModel):
    provider: ProviderName
    model: str
    requests: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    total_tokens: int
    cost_usd: float
    saved_usd: float
    avg_latency_ms: float | None
    avg_ttft_ms: float | None
    tokens_per_s: float | None


class SeriesPoint(BaseModel):
    bucket_start: datetime
    requests: int
    total_tokens: int
    cost_usd: float
    saved_usd: float


class UsageSummary(BaseModel):
    totals: Totals
    by_model: list[ModelUsage]
    series: list[SeriesPoint]
    recent: list[UsageRecordPublic]
    bucket: Bucket
    since: datetime | None = None
    until: datetime | None = None


# ------------------------------------------------------------------ conversations


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
    status: Literal["ok"] = "ok"
