"""The published contract says what the server does: the OpenAPI document, completed
with what FastAPI cannot see from a route's signature.

- Statuses every route can answer besides its own: 400 for a body that is not JSON,
  413 for one too large, 401/403 from the security middleware (token, Host, Origin),
  404 for an unknown id in the path, 503 `server_shutting_down` for a route that starts
  upstream work. Each in the error shape the route already documents (its dialect's).
- Server-sent events documented as `text/event-stream` with the schema of one event
  (OpenAPI 3.1 reads `schema` per event): the chat stream's `data:` is a JSON
  `chat.completion.chunk` or error object, or `[DONE]`.

The TypeScript client is generated from this document, so its types are the server's.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import TypeAdapter

from connector.schemas import ChatCompletionChunk, ErrorResponse

SSE = "text/event-stream"
JSON = "application/json"
_REF = "#/components/schemas/{model}"
# The security middleware lets /healthz through without a token.
_NO_TOKEN = ("/healthz",)
_DESCRIPTIONS = {
    "400": "The body is not valid JSON, or the request is not one this route can serve.",
    "401": "A token is required (CONNECTOR_API_TOKEN) and was missing or wrong.",
    "403": "Refused: an unexpected Host or Origin, or a change only this machine may make.",
    "404": "Nothing has the id or name in the path.",
    "413": "The body is larger than CONNECTOR_MAX_BODY_BYTES.",
    "503": "An upstream is unreachable, or the connector is shutting down "
    "(`server_shutting_down`, with Retry-After).",
}


def _json_data(schema: dict[str, Any]) -> dict[str, Any]:
    """An SSE `data:` field holding JSON of `schema`."""
    return {"type": "string", "contentMediaType": JSON, "contentSchema": schema}


def _event(data: dict[str, Any], *, named: bool = False) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "data": data,
        "event": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer"},
    }
    return {"type": "object", "required": ["data", *(["event"] if named else [])],
            "properties": properties}  # fmt: skip


def _chat_event() -> dict[str, Any]:
    chunk_or_error = {
        "anyOf": [
            {"$ref": _REF.format(model="ChatCompletionChunk")},
            {"$ref": _REF.format(model="ErrorResponse")},
        ]
    }
    return _event({"anyOf": [{"const": "[DONE]"}, _json_data(chunk_or_error)]})


# Event schemas of the streams the connector's own dialect frames; any other stream
# without one is documented as generic server-sent events.
_STREAMS: dict[str, Callable[[], dict[str, Any]]] = {
    "/chat/completions": _chat_event,
    "/chat/completions/stream": _chat_event,
    "/v1/chat/completions": _chat_event,
    "/models/pull": lambda: _event(
        {"anyOf": [{"const": "[DONE]"}, _json_data({"type": "object"})]}
    ),
}


def install(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            complete(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ChatCompletionChunk, ErrorResponse):
        if model.__name__ in components:
            continue
        generated = TypeAdapter(model).json_schema(ref_template=_REF, mode="serialization")
        for name, definition in generated.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components[model.__name__] = generated
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                _complete_operation(path, method, operation)


def _error_content(operation: dict[str, Any]) -> dict[str, Any]:
    """The error body this operation already documents (its dialect's), else OpenAI's."""
    for status, response in operation["responses"].items():
        if status.startswith(("4", "5")) and status != "422":
            content = (response.get("content") or {}).get(JSON)
            if content and content.get("schema"):
                return copy.deepcopy(content)
    return {"schema": {"$ref": _REF.format(model="ErrorResponse")}}


def _complete_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation["responses"]
    # 400: a body that is not JSON, or a request the route cannot serve (an unknown
    # provider, a history the upstream cannot take) that no schema can express.
    wanted = ["400", "403"]
    if path not in _NO_TOKEN:
        wanted.append("401")
    if "requestBody" in operation:
        wanted.append("413")
    if "{" in path:
        wanted.append("404")
    if "502" in responses or "504" in responses:
        wanted.append("503")
    content = _error_content(operation)
    for status in wanted:
        response = responses.setdefault(status, {"description": _DESCRIPTIONS[status]})
        response.setdefault("content", {JSON: copy.deepcopy(content)})
    for status, response in responses.items():
        stream = (response.get("content") or {}).get(SSE)
        if stream is None:
            continue
        make = _STREAMS.get(path)
        if make is not None:
            stream["schema"] = make()
        elif not stream.get("schema") or stream["schema"] == {"type": "string"}:
            stream["schema"] = _event({"type": "string"})
        if status == "200" and not response.get("description"):
            response["description"] = "Server-sent events."
