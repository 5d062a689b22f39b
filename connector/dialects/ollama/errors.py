"""Ollama's error object, `{"error": "..."}` with the status Ollama uses: its one
producer, for answers and for the error line of a stream that broke."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from connector.dialects.base import dumpb, public_message
from connector.errors import ConnectorError


def error_body(exc: ConnectorError) -> dict[str, str]:
    """Ollama's error object: the one producer of this envelope."""
    return {"error": public_message(exc)}


def error_status(exc: ConnectorError) -> int:
    # Ollama answers a body it cannot use with 400; the connector's 422 is that case.
    return 400 if exc.status_code == 422 else exc.status_code


def error_response(exc: ConnectorError) -> JSONResponse:
    return JSONResponse(error_body(exc), status_code=error_status(exc), headers=exc.headers)


def error_line(exc: ConnectorError) -> bytes:
    """A failure after the stream started, as Ollama reports it: one error line."""
    return line(error_body(exc))


def line(value: Any) -> bytes:
    return dumpb(value) + b"\n"
