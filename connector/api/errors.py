"""The one place errors become responses: OpenAI error objects with their status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from connector.errors import ConnectorError
from connector.redact import redact

log = logging.getLogger(__name__)

_HTTP_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
}


def error_body(exc: ConnectorError) -> dict[str, Any]:
    body = exc.to_body()
    body["error"]["message"] = redact(body["error"]["message"])
    return body


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(ConnectorError)
    async def connector_error(_: Request, exc: ConnectorError) -> JSONResponse:
        return JSONResponse(error_body(exc), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        where = _loc(tuple(first.get("loc", ())))
        message = f"Invalid request: {where}: {first.get('msg')}"
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more problems)"
        body = {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": where,
                "code": "invalid_body",
            }
        }
        return JSONResponse(body, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        status = exc.status_code
        message = str(exc.detail)
        if status == 413:
            message = "Request body is too large."
        body = {
            "error": {
                "message": message,
                "type": _HTTP_TYPES.get(status, "error"),
                "param": None,
                "code": "request_too_large" if status == 413 else None,
            }
        }
        return JSONResponse(body, status_code=status, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("Unexpected error: %s", type(exc).__name__, exc_info=exc)
        body = {
            "error": {
                "message": "Internal error in the connector; see its log.",
                "type": "internal_error",
                "param": None,
                "code": None,
            }
        }
        return JSONResponse(body, status_code=500)
