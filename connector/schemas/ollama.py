"""Ollama's own API (`/api/*`): the request bodies the connector validates, and the
answer shapes as TypedDicts (typed at no runtime cost, as ollama-python's `_types.py`).

Field names and defaults follow Ollama's docs/api.md and api/types.go: `stream`
defaults to true, `format` is `"json"` or a JSON schema, `think` a bool or a level,
tool-call `arguments` are JSON objects, images bare base64. Unknown fields are
ignored, as Ollama's server ignores them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictStr,
    model_validator,
)

from connector.schemas.strict import JsonInt, PositiveInt

ThinkLevel = Literal["low", "medium", "high", "max"]
# "" is what some clients send for "no format".
Format = Literal["json", ""] | dict[str, Any]
# Strict: a duration string or seconds; `true` is neither.
KeepAlive = StrictStr | JsonInt | StrictFloat
# Images are bare base64 (or a base64 data URL), checked as the provider decodes them.
Image = Annotated[
    str,
    Field(
        pattern=r"^(data:[^,]*,)?(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
    ),
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class OllamaFunctionCall(_Body):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    index: JsonInt | None = None


class OllamaToolCall(_Body):
    id: str | None = None
    function: OllamaFunctionCall


class OllamaMessage(_Body):
    role: Literal["system", "user", "assistant", "tool"]
    content: str | None = ""
    thinking: str | None = None
    images: list[Image] | None = None
    tool_calls: list[OllamaToolCall] | None = None
    tool_name: str | None = None
    tool_call_id: str | None = None


class _Generation(_Body):
    model: str = Field(..., min_length=1)
    format: Format | None = None
    options: dict[str, Any] | None = None
    stream: StrictBool = True
    keep_alive: KeepAlive | None = None
    # Strict: Ollama takes true/false or a level; "yes" is not a boolean there.
    think: StrictBool | ThinkLevel | None = None


class OllamaChatRequest(_Generation):
    """`POST /api/chat`. An empty `messages` list is Ollama's load (or, with
    `keep_alive: 0`, unload) call."""

    messages: list[OllamaMessage] = Field(default_factory=list)
    tools: list[dict[str, Any]] | None = None


class OllamaGenerateRequest(_Generation):
    """`POST /api/generate`. An empty `prompt` is the load/unload call."""

    prompt: str | None = None
    suffix: str | None = None
    system: str | None = None
    template: str | None = None
    context: list[JsonInt] | None = None
    raw: StrictBool | None = None
    images: list[Image] | None = None


class _Named(_Body):
    """Ollama takes `model`, and `name` from older clients: one of them, not empty."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "anyOf": [
                {"required": ["model"], "properties": {"model": {"type": "string"}}},
                {"required": ["name"], "properties": {"name": {"type": "string"}}},
            ]
        },
    )

    model: str | None = Field(None, min_length=1)
    name: str | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _some_name(self) -> _Named:
        if not (self.model or self.name):
            raise ValueError("model is required")
        return self

    @property
    def model_name(self) -> str:
        return str(self.model or self.name)


class OllamaShowRequest(_Named):
    verbose: StrictBool | None = None


class OllamaPullRequest(_Named):
    insecure: StrictBool | None = None
    stream: StrictBool = True


class OllamaDeleteRequest(_Named):
    pass


class OllamaEmbedRequest(_Body):
    """`POST /api/embed`: one text or a list of them."""

    model: str = Field(..., min_length=1)
    input: str | list[str]
    truncate: StrictBool | None = None
    options: dict[str, Any] | None = None
    keep_alive: KeepAlive | None = None
    dimensions: PositiveInt | None = None

    @property
    def inputs(self) -> list[str]:
        return [self.input] if isinstance(self.input, str) else list(self.input)


class OllamaEmbeddingsRequest(_Body):
    """`POST /api/embeddings`, the older single-text endpoint."""

    model: str = Field(..., min_length=1)
    prompt: str = ""
    options: dict[str, Any] | None = None
    keep_alive: KeepAlive | None = None


# -- answers (what goes on the wire) -------------------------------------------------


class Timings(TypedDict, total=False):
    """The done chunk's counters; durations in nanoseconds."""

    total_duration: int
    load_duration: int
    prompt_eval_count: int
    prompt_eval_duration: int
    eval_count: int
    eval_duration: int


class ModelDetails(TypedDict):
    parent_model: str
    format: str
    family: str
    families: list[str]
    parameter_size: str
    quantization_level: str


class ListedModel(TypedDict):
    name: str
    model: str
    modified_at: str
    size: int
    digest: str
    details: ModelDetails


class EmbedAnswer(TypedDict, total=False):
    model: str
    embeddings: list[list[float]]
    total_duration: int
    load_duration: int
    prompt_eval_count: int
