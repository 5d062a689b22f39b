"""Anthropic's error object: the one producer of `{"type": "error", "error": {...}}`,
for error responses and for the stream's `event: error` frame."""

from __future__ import annotations

from starlette.responses import JSONResponse

from connector.dialects.base import dumps, public_message
from connector.errors import ConnectorError, ModelNotFoundError, NotFoundError
from connector.schemas.anthropic import ErrorBody

# Anthropic's error types by status (docs "Errors"). Statuses Anthropic never uses
# are folded into its nearest one: 422 is a 400 there, and an upstream failure (502,
# or 503 when the upstream cannot be reached) is its 500 `api_error`.
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
OVERLOADED_CODE = "upstream_overloaded"


def _status(exc: ConnectorError) -> int:
    status = exc.status_code
    # An upstream that answered 503 is busy, which Anthropic says with 529; one that
    # cannot be reached at all is not "overloaded" (its code names it unreachable).
    if status == 503 and (exc.code == OVERLOADED_CODE or exc.code is None):
        return 529
    if status == 422:
        return 400
    if status >= 500 and status not in _ERROR_TYPES:
        return 500
    return status


def error_body(exc: ConnectorError) -> ErrorBody:
    """Anthropic's error object for `exc`: the one producer of this envelope."""
    status = _status(exc)
    kind = _ERROR_TYPES.get(status, "invalid_request_error")
    return {"type": "error", "error": {"type": kind, "message": public_message(exc)}}


def error_response(exc: ConnectorError) -> JSONResponse:
    return JSONResponse(error_body(exc), status_code=_status(exc), headers=exc.headers)


def error_frame(exc: ConnectorError) -> bytes:
    return event("error", error_body(exc))


def event(kind: str, data: object) -> bytes:
    """One SSE frame as Anthropic sends them: the event's name, then its data."""
    return f"event: {kind}\ndata: {dumps(data)}\n\n".encode()


def model_not_found(exc: ModelNotFoundError, model: str) -> ConnectorError:
    """Claude Code asks for its own `claude-*` models for background work unless told
    otherwise: say exactly how to point it at a model this connector has."""
    if not model.rpartition("/")[2].lower().startswith("claude"):
        return exc
    return NotFoundError(
        f"model: {model} is not served here: no provider of this connector has it. "
        "Claude Code uses its own claude-* model names unless told otherwise. Choose a "
        "model you have: `claude --model ollama/gpt-oss:20b` (or ANTHROPIC_MODEL), and "
        "for its background work set ANTHROPIC_DEFAULT_HAIKU_MODEL, "
        "ANTHROPIC_DEFAULT_SONNET_MODEL and ANTHROPIC_DEFAULT_OPUS_MODEL "
        "(ANTHROPIC_SMALL_FAST_MODEL in older versions) to one too. Names are "
        "ollama/NAME, openai/NAME, or a bare name for the default provider.",
        code="model_not_found",
        param="model",
    )
