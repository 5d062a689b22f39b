"""The one place exceptions become responses: each becomes a `ConnectorError` and is
answered in the dialect of the path that was asked for (`connector.dialects`)."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from connector import dialects
from connector.errors import (
    ConnectorError,
    NotFoundError,
    PayloadTooLargeError,
    ValidationFailedError,
    error_for_status,
)

log = logging.getLogger(__name__)

# What an unknown path is told: the surfaces this connector has.
SURFACES = (
    "OpenAI Chat Completions (/v1/chat/completions, /v1/models), "
    "OpenAI Responses (/v1/responses), "
    "Anthropic Messages (/v1/messages, /v1/messages/count_tokens), "
    "Ollama's API (/api/chat, /api/generate, /api/embed, /api/tags, /api/show), "
    "OpenAI embeddings (/v1/embeddings), "
    "the connector's own API (/chat/completions, /models, /usage, /ws/chat; see /docs)"
)


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def validation_error(errors: list[Any]) -> ValidationFailedError:
    """Pydantic's errors as one message naming the first problem's place; the HTTP
    routes and the WebSocket share it."""
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    where = _loc(tuple(first.get("loc", ())))
    message = f"Invalid request: {where}: {first.get('msg')}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problems)"
    return ValidationFailedError(message, param=where, code="invalid_body")


_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


def _allowed_methods(request: Request) -> str:
    """Every method the path serves, as the OpenAPI document lists them. Starlette names
    only those of the first route that matched the path, so a path with a GET and a
    POST route answered `Allow: GET`."""
    table: list[tuple[re.Pattern[str], set[str]]] | None = getattr(
        request.app.state, "allow_table", None
    )
    if table is None:
        table = [
            (
                re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"),
                {m.upper() for m in item if m in _METHODS},
            )
            for path, item in request.app.openapi().get("paths", {}).items()
        ]
        request.app.state.allow_table = table
    matching = [(pattern, allowed) for pattern, allowed in table if pattern.match(request.url.path)]
    # A path spelled out (`/endpoints/aliases`) is that route's, not also `/endpoints/{name}`'s.
    literal = [allowed for pattern, allowed in matching if "[^/]+" not in pattern.pattern]
    methods: set[str] = set().union(*(literal or [allowed for _, allowed in matching]))
    if "GET" in methods:
        methods.add("HEAD")  # Starlette answers HEAD wherever it answers GET
    return ", ".join(sorted(methods))


def _from_http(request: Request, exc: HTTPException) -> ConnectorError:
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        return NotFoundError(
            f"No route {request.method} {request.url.path}. This connector serves {SURFACES}.",
            code="unknown_path",
        )
    if exc.status_code == 413:
        return PayloadTooLargeError("Request body is too large.")
    if exc.status_code == 405:
        allowed = _allowed_methods(request) or headers.get("allow") or headers.get("Allow") or ""
        headers = {k: v for k, v in headers.items() if k.lower() != "allow"}
        if allowed:
            headers["Allow"] = allowed
        return error_for_status(
            405,
            f"Method {request.method} is not allowed on {request.url.path}"
            + (f"; use {allowed}." if allowed else "."),
            headers=headers,
        )
    return error_for_status(exc.status_code, str(exc.detail), headers=headers)


def as_connector_error(request: Request, exc: Exception) -> ConnectorError:
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, RequestValidationError):
        return validation_error(list(exc.errors()))
    if isinstance(exc, HTTPException):
        return _from_http(request, exc)
    log.error("Unexpected error: %s", type(exc).__name__, exc_info=exc)
    return ConnectorError("Internal error in the connector; see its log.")


async def to_response(request: Request, exc: Exception) -> Response:
    """The answer to any exception, in the dialect of the path asked for: FastAPI's
    handlers and the fast path (`api/fastpath.py`) both answer through here."""
    return dialects.error_response(request.url.path, as_connector_error(request, exc))


def install(app: FastAPI) -> None:
    for kind in (ConnectorError, RequestValidationError, HTTPException, Exception):
        app.add_exception_handler(kind, to_response)
