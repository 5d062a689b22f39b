"""Safe local defaults, checked before any route runs:

- `Host` must be a loopback name or a configured one (DNS rebinding);
- state-changing requests and WebSocket handshakes with a foreign `Origin` are refused;
- with `CONNECTOR_API_TOKEN` set, every route but `/healthz` and the SPA's static
  files needs `Authorization: Bearer TOKEN` or `x-api-key: TOKEN` (Anthropic's
  clients send that one; WebSockets: `?token=TOKEN`);
- with `CONNECTOR_API_TOKEN_SCOPE=admin` (the desktop app) the token guards only the
  admin surface, and the model API (`connector.api.access`) is open to programs on
  loopback; when the runtime setting "Programs need a key" is on, the model API wants
  the programs' key (sent the same ways) or the token.

```
Host ok? -> Origin ok (unsafe methods, WebSockets)? -> classify(method, path)
  public -> pass
  admin  -> the token, if one is set
  model  -> the programs' key, if they need one; else the token, if it guards
            everything or the peer is not on loopback; else open
```

Refusals are answered in the dialect of the path asked for (`connector.dialects`).
"""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connector import dialects
from connector.api.access import classify
from connector.config import LOOPBACK_HOSTS, Settings
from connector.errors import (
    AuthenticationError,
    ConnectorError,
    ForbiddenError,
    PayloadTooLargeError,
)

_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def is_loopback_ip(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def _hostname(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


async def _read_limited(receive: Receive, limit: int) -> bytes | None:
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        extra = {h.strip().lower() for h in settings.allowed_hosts}
        self.any_host = "*" in extra
        self.hosts = set(LOOPBACK_HOSTS) | extra
        self.origins = {o.strip().rstrip("/").lower() for o in settings.allowed_origins if o != "*"}
        self.token = settings.api_token.get_secret_value() if settings.api_token else None
        self.token_guards_model_api = settings.api_token_scope == "all"
        self.max_body = settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host_header = headers.get("host", "")
        hostname = _hostname(host_header)
        if not self.any_host and hostname not in self.hosts:
            await self._refuse(
                scope,
                receive,
                send,
                ForbiddenError(
                    f"Host '{hostname}' is not allowed. Add it to CONNECTOR_ALLOWED_HOSTS.",
                    code="forbidden",
                ),
            )
            return
        method = scope.get("method", "GET")
        origin = headers.get("origin")
        if (
            origin
            and (kind == "websocket" or method in _UNSAFE)
            and not self._origin_ok(origin, host_header)
        ):
            await self._refuse(
                scope,
                receive,
                send,
                ForbiddenError(
                    f"Origin '{origin}' is not allowed. Add it to CONNECTOR_ALLOWED_ORIGINS.",
                    code="forbidden",
                ),
            )
            return
        access = classify(method, scope["path"])
        if access != "public" and method != "OPTIONS":
            refusal = self._credential_refusal(access == "model", scope, headers)
            if refusal is not None:
                await self._refuse(scope, receive, send, refusal)
                return
        if kind == "http":
            too_large = False
            length = headers.get("content-length")
            if length and length.isdigit():
                too_large = int(length) > self.max_body
            elif method in _UNSAFE:
                # A chunked upload: read it here, up to the limit, then replay it to
                # the app, so an oversized one gets the same JSON 413.
                body = await _read_limited(receive, self.max_body)
                too_large = body is None
                if body is not None:
                    receive = _replay(body, receive)
            if too_large:
                await self._refuse(
                    scope,
                    receive,
                    send,
                    PayloadTooLargeError(
                        f"Request body is too large (limit {self.max_body} bytes; "
                        "CONNECTOR_MAX_BODY_BYTES)."
                    ),
                )
                return
        await self.app(scope, receive, send)

    def _origin_ok(self, origin: str, host_header: str) -> bool:
        value = origin.strip().rstrip("/").lower()
        if value in self.origins:
            return True
        # Same origin: the page was served by this very host:port.
        return urlsplit(value).netloc == host_header.strip().lower() and value != "null"

    def _credential_refusal(
        self, model_api: bool, scope: Scope, headers: Headers
    ) -> AuthenticationError | None:
        """None when the request may pass; else why not."""
        given = _credentials(scope, headers)
        if self.token and _matches(given, self.token):
            return None
        program_key = _required_program_key(scope) if model_api else None
        if program_key is not None:
            if _matches(given, program_key):
                return None
            return AuthenticationError(
                "This connector wants a key from programs: send `Authorization: Bearer KEY` "
                "(or `x-api-key: KEY`). The key is in the app's Settings, under "
                "Connect your tools.",
                code="invalid_api_key",
            )
        if self.token is None:
            return None
        if model_api and not self.token_guards_model_api:
            client = scope.get("client")
            if is_loopback_ip(client[0] if client else None):
                return None
        return AuthenticationError(
            "This connector needs its API token: send `Authorization: Bearer "
            "TOKEN` (or `x-api-key: TOKEN`).",
            code="invalid_api_token",
        )

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, exc: ConnectorError) -> None:
        if scope["type"] == "websocket":
            # Closing before accept makes the server answer the handshake with 403.
            await send({"type": "websocket.close", "code": 1008, "reason": exc.message[:120]})
            return
        await dialects.error_response(scope["path"], exc)(scope, receive, send)


def _credentials(scope: Scope, headers: Headers) -> list[str]:
    """What the request offers as a key: the Bearer value, `x-api-key`, and on a
    WebSocket `?token=`. All are tried: a client may fill one with a placeholder
    (an SDK's `api_key="unused"`) and put the key in the other."""
    given = []
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        given.append(auth[7:].strip())
    if "x-api-key" in headers:
        given.append(headers["x-api-key"].strip())
    if scope["type"] == "websocket":
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given.append((query.get("token") or [""])[0])
    return given


def _matches(given: list[str], expected: str) -> bool:
    want = expected.encode()
    return any(value and hmac.compare_digest(value.encode(), want) for value in given)


def _required_program_key(scope: Scope) -> str | None:
    """The programs' key when the runtime setting says programs need one. Read from
    the app's services (Starlette puts the app in the scope before any middleware)."""
    state = getattr(scope.get("app"), "state", None)
    services = getattr(state, "services", None)
    if services is None:
        return None
    key: str | None = services.runtime.required_program_key()
    return key
