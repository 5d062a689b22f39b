"""Anthropic Messages API shapes: the request models (validated) and the response and
stream event shapes (TypedDicts: typed at no cost on the streaming path).

Requests follow Anthropic's API reference (`POST /v1/messages`,
`POST /v1/messages/count_tokens`). Fields the connector does not use are accepted and
ignored (`cache_control`, `context_management`, `container`, `service_tier`, ...), as
Claude Code sends many of them; block and tool types it does not know are kept as
`OtherBlock` / `ServerTool` rather than refused.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    Tag,
)
from typing_extensions import TypedDict

from connector.schemas.strict import NonNegativeInt, PositiveInt

# -- request: content blocks ---------------------------------------------------------


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TextBlock(_Lenient):
    type: Literal["text"]
    text: str


class Base64Source(_Lenient):
    type: Literal["base64"]
    media_type: str
    data: str


class UrlSource(_Lenient):
    type: Literal["url"]
    url: str


class ImageBlock(_Lenient):
    type: Literal["image"]
    source: Annotated[Base64Source | UrlSource, Field(discriminator="type")]


class ToolUseBlock(_Lenient):
    type: Literal["tool_use"]
    id: str = Field(..., min_length=1)
    name: str = Field(..., min_length=1)
    input: dict[str, Any] = Field(default_factory=dict)


class ThinkingBlock(_Lenient):
    type: Literal["thinking"]
    thinking: str
    signature: str | None = None


class RedactedThinkingBlock(_Lenient):
    type: Literal["redacted_thinking"]
    data: str = ""


class OtherBlock(BaseModel):
    """A block type the connector cannot pass on (documents, server tool results,
    search results, ...): accepted, its text kept where it has one."""

    model_config = ConfigDict(extra="allow")
    type: str


def _tag(known: frozenset[str]) -> Any:
    def tag(value: Any) -> str:
        kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
        # Not a string (`{"type": {}}`): no known block; OtherBlock rejects it.
        return kind if isinstance(kind, str) and kind in known else "other"

    return tag


_RESULT_TYPES = frozenset({"text", "image"})
ToolResultContent = Annotated[
    Annotated[TextBlock, Tag("text")]
    | Annotated[ImageBlock, Tag("image")]
    | Annotated[OtherBlock, Tag("other")],
    Discriminator(_tag(_RESULT_TYPES)),
]


class ToolResultBlock(_Lenient):
    type: Literal["tool_result"]
    tool_use_id: str = Field(..., min_length=1)
    content: str | list[ToolResultContent] | None = None
    is_error: StrictBool = False


_BLOCK_TYPES = frozenset(
    {"text", "image", "tool_use", "tool_result", "thinking", "redacted_thinking"}
)
ContentBlock = Annotated[
    Annotated[TextBlock, Tag("text")]
    | Annotated[ImageBlock, Tag("image")]
    | Annotated[ToolUseBlock, Tag("tool_use")]
    | Annotated[ToolResultBlock, Tag("tool_result")]
    | Annotated[ThinkingBlock, Tag("thinking")]
    | Annotated[RedactedThinkingBlock, Tag("redacted_thinking")]
    | Annotated[OtherBlock, Tag("other")],
    Discriminator(_tag(_BLOCK_TYPES)),
]


class MessageParam(_Lenient):
    # "system" in `messages`: Claude Code's mid-conversation system beta sends it.
    role: Literal["user", "assistant", "system"]
    content: str | list[ContentBlock]


# -- request: tools and controls -------------------------------------------------------


class CustomTool(_Lenient):
    type: Literal["custom"] | None = None
    name: str = Field(..., min_length=1, max_length=128)
    description: str | None = None
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})


class ServerTool(BaseModel):
    """One of Anthropic's own tools (`web_search_*`, `bash_*`, `text_editor_*`, ...):
    run by Anthropic's servers, so no local model can be given it."""

    model_config = ConfigDict(extra="allow")
    type: str
    name: str | None = None


def _tool_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "custom" if kind in (None, "custom") else "server"


Tool = Annotated[
    Annotated[CustomTool, Tag("custom")] | Annotated[ServerTool, Tag("server")],
    Discriminator(_tool_tag),
]


class ToolChoiceAuto(_Lenient):
    type: Literal["auto"]
    disable_parallel_tool_use: StrictBool | None = None


class ToolChoiceAny(_Lenient):
    type: Literal["any"]
    disable_parallel_tool_use: StrictBool | None = None


class ToolChoiceTool(_Lenient):
    type: Literal["tool"]
    name: str = Field(..., min_length=1)
    disable_parallel_tool_use: StrictBool | None = None


class ToolChoiceNone(_Lenient):
    type: Literal["none"]


ToolChoice = Annotated[
    ToolChoiceAuto | ToolChoiceAny | ToolChoiceTool | ToolChoiceNone,
    Field(discriminator="type"),
]


class ThinkingEnabled(_Lenient):
    type: Literal["enabled"]
    budget_tokens: PositiveInt


class ThinkingAdaptive(_Lenient):
    type: Literal["adaptive"]


class ThinkingDisabled(_Lenient):
    type: Literal["disabled"]


Thinking = Annotated[
    ThinkingEnabled | ThinkingAdaptive | ThinkingDisabled, Field(discriminator="type")
]


class OutputConfig(_Lenient):
    effort: str | None = None


class Metadata(_Lenient):
    user_id: str | None = None


class CountTokensRequest(_Lenient):
    """`POST /v1/messages/count_tokens`: what would be sent, without generating."""

    model: str = Field(..., min_length=1)
    messages: list[MessageParam] = Field(..., min_length=1)
    system: str | list[TextBlock] | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    thinking: Thinking | None = None
    output_config: OutputConfig | None = None


class MessagesRequest(CountTokensRequest):
    """`POST /v1/messages`, as Anthropic defines it."""

    max_tokens: PositiveInt
    stop_sequences: list[str] | None = None
    temperature: StrictFloat | None = Field(None, ge=0, le=1)
    top_p: StrictFloat | None = Field(None, ge=0, le=1)
    top_k: NonNegativeInt | None = None
    metadata: Metadata | None = None
    stream: StrictBool = False


# -- response and stream shapes ------------------------------------------------------

StopReason = Literal["end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal"]


class UsageBody(TypedDict):
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int


class MessageBody(TypedDict):
    id: str
    type: Literal["message"]
    role: Literal["assistant"]
    model: str
    content: list[dict[str, Any]]
    stop_reason: StopReason | None
    stop_sequence: str | None
    usage: UsageBody


class TokenCountBody(TypedDict):
    input_tokens: int


class ErrorDetail(TypedDict):
    type: str
    message: str


class ErrorBody(TypedDict):
    type: Literal["error"]
    error: ErrorDetail
