"""Chat requests, completions, stream chunks and the error object (OpenAI shapes)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    Strict,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_serializer,
)

from connector.config import ProviderName

# A JSON number (an integer is one too), never a boolean or a numeric string.
StrictNumber = Annotated[float, Strict()]


class FunctionCall(BaseModel):
    name: str | None = None
    arguments: str | None = None


class ToolCall(BaseModel):
    index: StrictInt | None = None
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
    strict: StrictBool | None = None

    model_config = ConfigDict(populate_by_name=True)


class ResponseFormat(BaseModel):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: StrictBool | None = None


ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh"]


class ChatRequest(BaseModel):
    """An OpenAI chat request plus `provider`. Unknown OpenAI fields are kept and
    passed on to OpenAI-compatible upstreams."""

    model_config = ConfigDict(extra="allow")

    provider: ProviderName | None = Field(
        None, description="`ollama` or `openai`; defaults to the configured provider."
    )
    model: str | None = Field(
        None,
        # The usage record's column: a longer name is no model anyone serves.
        max_length=200,
        description="Model name; `ollama/NAME` or `openai/NAME` also picks the provider.",
    )
    messages: list[ChatMessage] = Field(..., min_length=1)
    # Strict scalars: pydantic would read "yes" or 1 as true, "5" or true as a number;
    # the contract says a boolean or a number, so anything else is a 422.
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    response_format: ResponseFormat | None = None
    temperature: StrictNumber | None = Field(None, ge=0, le=2)
    top_p: StrictNumber | None = Field(None, ge=0, le=1)
    max_tokens: StrictInt | None = Field(None, ge=1)
    max_completion_tokens: StrictInt | None = Field(None, ge=1)
    stop: str | list[str] | None = None
    seed: StrictInt | None = None
    reasoning_effort: ReasoningEffort | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    # Ollama's own request fields; OpenAI-compatible upstreams never see them.
    options: dict[str, Any] | None = Field(
        None,
        description="Ollama model options (e.g. `num_ctx`, `top_k`, `repeat_penalty`), "
        "merged under the typed fields above. Ollama only.",
    )
    keep_alive: StrictStr | StrictInt | StrictFloat | None = Field(
        None,
        description='How long Ollama keeps the model loaded afterwards ("10m", seconds, '
        "0 to unload, -1 for ever). Ollama only.",
    )

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
    # The connector's own time: from the request's arrival, minus its upstream waits.
    overhead_ms: float | None = None


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
