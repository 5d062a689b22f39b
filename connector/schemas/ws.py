"""The messages on the two WebSockets, so the server builds them from one definition and
the UI's TypeScript types are generated from them (`connector.openapi` adds these to the
OpenAPI document's components, which OpenAPI's paths cannot describe for a WebSocket).

`/ws/chat`: the client sends `chat` and `cancel`; the server answers each request id with
`chunk`s then `done`, or `error`, or `cancelled`.
`/ws/monitoring`: the server sends a `snapshot`, then a `record` per finished request,
`in_flight` when a request starts, and `budget` when a key's (or the global) budget
crosses 80 % or 100 %.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter
from pydantic.json_schema import models_json_schema

from connector.schemas.chat import ChatCompletion, ChatCompletionChunk, ChatRequest, ErrorBody
from connector.schemas.usage import Totals, UsageRecordPublic, UsageSummary

# --- /ws/chat ---------------------------------------------------------------------


class ChatSocketChat(BaseModel):
    """Start a chat request; `id` names it in the answers and in a `cancel`."""

    type: Literal["chat"]
    id: str
    request: ChatRequest


class ChatSocketCancel(BaseModel):
    type: Literal["cancel"]
    id: str


ChatClientMessage = Annotated[ChatSocketChat | ChatSocketCancel, Field(discriminator="type")]


class ChatSocketChunk(BaseModel):
    type: Literal["chunk"] = "chunk"
    id: str
    chunk: ChatCompletionChunk


class ChatSocketDone(BaseModel):
    """The whole answer, once the stream ended (fields without a value left out)."""

    type: Literal["done"] = "done"
    id: str
    response: ChatCompletion


class ChatSocketError(BaseModel):
    """`id` is null when the message itself could not be read."""

    type: Literal["error"] = "error"
    id: str | None
    status: int
    error: ErrorBody


class ChatSocketCancelled(BaseModel):
    type: Literal["cancelled"] = "cancelled"
    id: str


ChatServerMessage = Annotated[
    ChatSocketChunk | ChatSocketDone | ChatSocketError | ChatSocketCancelled,
    Field(discriminator="type"),
]

# --- /ws/monitoring ---------------------------------------------------------------


class MonitorSnapshot(BaseModel):
    type: Literal["snapshot"] = "snapshot"
    usage: UsageSummary
    in_flight: int


class MonitorRecord(BaseModel):
    """One finished request, with the running totals of every record."""

    type: Literal["record"] = "record"
    record: UsageRecordPublic
    totals: Totals
    in_flight: int


class MonitorInFlight(BaseModel):
    type: Literal["in_flight"] = "in_flight"
    in_flight: int


# The budget names are the fields of `connector.schemas.keys.Limits` (the limits a key
# or the whole connector has); requests per minute has no threshold events.
BudgetKind = Literal["usd_per_day", "usd_per_month", "tokens_per_day", "tokens_per_month"]


class MonitorBudget(BaseModel):
    """A budget crossed a threshold: 80 (a warning) or 100 (requests are refused)."""

    type: Literal["budget"] = "budget"
    key_id: str | None = Field(description="The app key's id; null for the global budget.")
    key_name: str | None = None
    budget: BudgetKind
    threshold: int = Field(description="Percent of the limit crossed: 80 or 100.")
    spent: float
    limit: float
    resets_at: datetime | None = None


MonitorMessage = Annotated[
    MonitorSnapshot | MonitorRecord | MonitorInFlight | MonitorBudget,
    Field(discriminator="type"),
]

# Every message type, for the OpenAPI document (and so the UI's generated types).
WS_MODELS: tuple[type[BaseModel], ...] = (
    ChatSocketChat,
    ChatSocketCancel,
    ChatSocketChunk,
    ChatSocketDone,
    ChatSocketError,
    ChatSocketCancelled,
    MonitorSnapshot,
    MonitorRecord,
    MonitorInFlight,
    MonitorBudget,
)

_UNIONS: dict[str, Any] = {
    "ChatClientMessage": ChatClientMessage,
    "ChatServerMessage": ChatServerMessage,
    "MonitorMessage": MonitorMessage,
}


def json_schemas(ref_template: str = "#/components/schemas/{model}") -> dict[str, Any]:
    """Every message's JSON schema and the schemas they use, by name. Validation mode:
    fields the server may leave out (a chunk's delta, `exclude_none` answers) are optional."""
    _, top = models_json_schema([(m, "validation") for m in WS_MODELS], ref_template=ref_template)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    for name, union in _UNIONS.items():
        adapter: TypeAdapter[Any] = TypeAdapter(union)
        schema = adapter.json_schema(ref_template=ref_template)
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    # A discriminator is always sent, though the server's models default it.
    for model in WS_MODELS:
        required = schemas[model.__name__].setdefault("required", [])
        if "type" not in required:
            required.insert(0, "type")
    # A field with a default may be left out (compact deltas, `exclude_none` answers);
    # openapi-typescript would type a defaulted field as always present.
    for schema in schemas.values():
        required = set(schema.get("required", ()))
        for name, prop in schema.get("properties", {}).items():
            if name not in required:
                prop.pop("default", None)
    return schemas
