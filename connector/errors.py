"""The connector's exception tree. Every failure a client can see is one of these;
the dialect of the surface it happened on (`connector.dialects`) turns it into that
protocol's error body, and the status below is the one every dialect starts from.

    ConnectorError                 500 internal_error
    ├── BadRequestError            400 invalid_request_error
    ├── AuthenticationError        401 authentication_error
    ├── ForbiddenError             403 permission_error
    ├── NotFoundError              404 not_found_error
    │   └── ModelNotFoundError     404 model_not_found
    ├── PayloadTooLargeError       413 request_too_large
    ├── ValidationFailedError      422 invalid_request_error
    ├── RateLimitError             429 rate_limit_error (+ Retry-After)
    │   └── BudgetExceededError    429 budget_exceeded
    ├── UpstreamError              502 upstream_error
    │   └── StructuredOutputError  502 structured_output_invalid
    ├── UpstreamUnavailableError   503 upstream_unavailable
    ├── ServerShuttingDownError    503 server_shutting_down (+ Retry-After)
    └── UpstreamTimeoutError       504 upstream_timeout

`error_for_status` is the one translation of an HTTP status (Starlette's own 404/405,
an upstream's answer) into this tree.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ConnectorError(Exception):
    status_code: ClassVar[int] = 500
    error_type: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers or {}


class BadRequestError(ConnectorError):
    status_code = 400
    error_type = "invalid_request_error"


class AuthenticationError(ConnectorError):
    status_code = 401
    error_type = "authentication_error"


class ForbiddenError(ConnectorError):
    status_code = 403
    error_type = "permission_error"


class NotFoundError(ConnectorError):
    status_code = 404
    error_type = "not_found_error"


class ModelNotFoundError(NotFoundError):
    error_type = "invalid_request_error"

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("code", "model_not_found")
        kwargs.setdefault("param", "model")
        super().__init__(message, **kwargs)


class PayloadTooLargeError(ConnectorError):
    status_code = 413
    error_type = "invalid_request_error"

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("code", "request_too_large")
        super().__init__(message, **kwargs)


class ValidationFailedError(ConnectorError):
    status_code = 422
    error_type = "invalid_request_error"


class RateLimitError(ConnectorError):
    status_code = 429
    error_type = "rate_limit_error"

    def __init__(self, message: str, *, retry_after: str | None = None, **kwargs: Any) -> None:
        headers = dict(kwargs.pop("headers", None) or {})
        if retry_after:
            headers["Retry-After"] = retry_after
        kwargs.setdefault("code", "rate_limit_exceeded")
        super().__init__(message, headers=headers, **kwargs)
        self.retry_after = retry_after


class BudgetExceededError(RateLimitError):
    """A key (or the whole connector) is over one of its budgets or limits
    (`connector.services.budgets`): a 429 whose message names the budget, what was
    spent and when it resets."""

    def __init__(self, message: str, *, budget: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("code", "budget_exceeded")
        super().__init__(message, **kwargs)
        self.budget = budget


class UpstreamError(ConnectorError):
    status_code = 502
    error_type = "upstream_error"


class StructuredOutputError(UpstreamError):
    error_type = "structured_output_invalid"

    def __init__(self, message: str, *, raw: str, path: str, **kwargs: Any) -> None:
        kwargs.setdefault("code", "structured_output_invalid")
        super().__init__(message, **kwargs)
        self.raw = raw
        self.path = path


class UpstreamUnavailableError(ConnectorError):
    status_code = 503
    error_type = "upstream_unavailable"


class UpstreamTimeoutError(ConnectorError):
    status_code = 504
    error_type = "upstream_timeout"


class ServerShuttingDownError(ConnectorError):
    """The connector is stopping: raised into running requests once the shutdown
    grace is over, and at new requests during it."""

    status_code = 503
    error_type = "server_error"

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("code", "server_shutting_down")
        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault("Retry-After", "5")
        super().__init__(
            message or "The connector is shutting down; retry in a few seconds.",
            headers=headers,
            **kwargs,
        )


_BY_STATUS: dict[int, type[ConnectorError]] = {
    cls.status_code: cls
    for cls in (
        BadRequestError,
        AuthenticationError,
        ForbiddenError,
        NotFoundError,
        PayloadTooLargeError,
        ValidationFailedError,
        RateLimitError,
        UpstreamError,
        UpstreamUnavailableError,
        UpstreamTimeoutError,
    )
}


class MethodNotAllowedError(ConnectorError):
    status_code = 405
    error_type = "invalid_request_error"


_BY_STATUS[405] = MethodNotAllowedError


def error_for_status(
    status: int, message: str, *, headers: dict[str, str] | None = None, code: str | None = None
) -> ConnectorError:
    """The ConnectorError for an HTTP status; 4xx without a class of its own is a bad
    request, 5xx an upstream error."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = BadRequestError if 400 <= status < 500 else UpstreamError
    extra: dict[str, Any] = {"headers": headers}
    if code is not None:
        extra["code"] = code
    return cls(message, **extra)
