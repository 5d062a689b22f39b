"""OpenAI Responses API shapes (`POST /v1/responses`), as the `openai` SDK and Codex
send and read them.

Requests are typed where the connector acts on a field and open (`extra="allow"`)
everywhere else: OpenAI adds fields often (`prompt_cache_key`, `client_metadata`,
`truncation`, `service_tier`, ...) and clients send them whether a server uses them or
not. Input items and tools of kinds the connector cannot run parse as `OtherItem` /
`OtherTool`, so the dialect can leave them out instead of refusing the request.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, StrictBool, StrictInt, Tag

from connector.config import ProviderName
from connector.schemas.chat import ReasoningEffort, StrictNumber

_OPEN = ConfigDict(extra="allow")


# -- content parts ---------------------------------------------------------------------
class InputText(BaseModel):
    model_config = _OPEN
    type: Literal["input_text"]
    text: str


class InputImage(BaseModel):
    model_config = _OPEN
    type: Literal["input_image"]
    image_url: str | None = Field(None, description="A URL or a `data:` URL (base64).")
    file_id: str | None = None
    detail: str | None = None


class InputFile(BaseModel):
    model_config = _OPEN
    type: Literal["input_file"]


class OutputText(BaseModel):
    model_config = _OPEN
    type: Literal["output_text"]
    text: str


class Refusal(BaseModel):
    model_config = _OPEN
    type: Literal["refusal"]
    refusal: str


ContentPart = Annotated[
    InputText | InputImage | InputFile | OutputText | Refusal, Field(discriminator="type")
]


# -- input items -----------------------------------------------------------------------
class MessageItem(BaseModel):
    model_config = _OPEN
    type: Literal["message"] = "message"
    role: Literal["user", "assistant", "system", "developer"]
    content: str | list[ContentPart]
    id: str | None = None


class FunctionCallItem(BaseModel):
    model_config = _OPEN
    type: Literal["function_call"]
    call_id: str
    name: str
    arguments: str = ""
    id: str | None = None


class FunctionCallOutputItem(BaseModel):
    model_config = _OPEN
    type: Literal["function_call_output"]
    call_id: str
    output: str | list[ContentPart]
    id: str | None = None


class ReasoningText(BaseModel):
    model_config = _OPEN
    type: str = "reasoning_text"
    text: str


class ReasoningItem(BaseModel):
    """A reasoning item from an earlier turn (what the model thought before answering)."""

    model_config = _OPEN
    type: Literal["reasoning"]
    id: str | None = None
    summary: list[ReasoningText] = Field(default_factory=list)
    content: list[ReasoningText] | None = None
    encrypted_content: str | None = None


class OtherItem(BaseModel):
    """An item kind the connector does not turn into chat (hosted tool calls and the
    like): left out of what the model sees."""

    model_config = _OPEN
    type: str


_ITEM_KINDS = {"message", "function_call", "function_call_output", "reasoning"}


def _item_kind(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if kind is None:  # an "easy" message: {"role": ..., "content": ...}
        return "message"
    # Anything else (a non-string type too) is validated, and refused, as OtherItem.
    return kind if isinstance(kind, str) and kind in _ITEM_KINDS else "other"


InputItem = Annotated[
    Annotated[MessageItem, Tag("message")]
    | Annotated[FunctionCallItem, Tag("function_call")]
    | Annotated[FunctionCallOutputItem, Tag("function_call_output")]
    | Annotated[ReasoningItem, Tag("reasoning")]
    | Annotated[OtherItem, Tag("other")],
    Discriminator(_item_kind),
]


# -- tools -----------------------------------------------------------------------------
class FunctionTool(BaseModel):
    model_config = _OPEN
    type: Literal["function"]
    name: str = Field(..., min_length=1)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class OtherTool(BaseModel):
    """A hosted or client-specific tool (web_search, file_search, namespace, custom,
    computer_use, local_shell, ...): not offered to the model."""

    model_config = _OPEN
    type: str


def _tool_kind(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "function" if kind == "function" else "other"


Tool = Annotated[
    Annotated[FunctionTool, Tag("function")] | Annotated[OtherTool, Tag("other")],
    Discriminator(_tool_kind),
]


# -- text.format, reasoning ------------------------------------------------------------
class TextFormatText(BaseModel):
    type: Literal["text"]


class TextFormatJsonObject(BaseModel):
    type: Literal["json_object"]


class TextFormatJsonSchema(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    type: Literal["json_schema"]
    name: str = Field(..., min_length=1)
    schema_: dict[str, Any] = Field(..., alias="schema")
    description: str | None = None
    strict: bool | None = None


TextFormat = Annotated[
    TextFormatText | TextFormatJsonObject | TextFormatJsonSchema, Field(discriminator="type")
]


class TextConfig(BaseModel):
    model_config = _OPEN
    format: TextFormat | None = None


class ReasoningConfig(BaseModel):
    model_config = _OPEN
    effort: ReasoningEffort | None = None
    summary: Literal["auto", "concise", "detailed"] | None = None


# -- the request -----------------------------------------------------------------------
class ResponsesRequest(BaseModel):
    """`POST /v1/responses`. Fields not listed are accepted and ignored."""

    model_config = _OPEN

    model: str | None = Field(
        None, description="Model name; `ollama/NAME` or `openai/NAME` also picks the provider."
    )
    provider: ProviderName | None = Field(
        None, description="`ollama` or `openai`; defaults to the configured provider."
    )
    input: str | list[InputItem] = Field(..., description="A string, or input items.")
    instructions: str | None = None
    tools: list[Tool] | None = None
    tool_choice: Literal["auto", "none", "required"] | dict[str, Any] | None = None
    # Strict scalars, as on the chat routes: "yes" or 1 is no boolean, true no number.
    parallel_tool_calls: StrictBool | None = None
    text: TextConfig | None = None
    reasoning: ReasoningConfig | None = None
    max_output_tokens: StrictInt | None = Field(None, ge=1)
    temperature: StrictNumber | None = Field(None, ge=0, le=2)
    top_p: StrictNumber | None = Field(None, ge=0, le=1)
    stream: StrictBool = False
    store: StrictBool = Field(True, description="Keep the response and its input (default).")
    previous_response_id: str | None = Field(
        None, description="Continue from a stored response: its input and output come first."
    )
    metadata: dict[str, str] | None = None
    include: list[str] | None = None


# -- what the connector answers --------------------------------------------------------
class InputTokensDetails(BaseModel):
    cached_tokens: int = 0


class OutputTokensDetails(BaseModel):
    reasoning_tokens: int = 0


class ResponseUsage(BaseModel):
    input_tokens: int = 0
    input_tokens_details: InputTokensDetails = Field(default_factory=InputTokensDetails)
    output_tokens: int = 0
    output_tokens_details: OutputTokensDetails = Field(default_factory=OutputTokensDetails)
    total_tokens: int = 0


class ResponseError(BaseModel):
    code: str
    message: str


class IncompleteDetails(BaseModel):
    reason: Literal["max_output_tokens", "content_filter"]


class ResponseObject(BaseModel):
    """A response as OpenAI returns it; `output` items are reasoning, message and
    function_call items. `output_text` joins the message text (what the SDKs offer)."""

    model_config = _OPEN

    id: str
    object: Literal["response"] = "response"
    created_at: int
    completed_at: int | None = None
    status: Literal["completed", "incomplete", "failed", "in_progress"]
    error: ResponseError | None = None
    incomplete_details: IncompleteDetails | None = None
    model: str
    output: list[dict[str, Any]]
    output_text: str = ""
    usage: ResponseUsage | None = None


class DeletedResponse(BaseModel):
    id: str
    object: Literal["response"] = "response"
    deleted: bool = True


class InputItemList(BaseModel):
    object: Literal["list"] = "list"
    data: list[dict[str, Any]]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False
