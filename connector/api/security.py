"""Safe local defaults, checked before any route runs:

- `Host` must be a loopback name or a configured one (DNS rebinding);
- state-changing requests and WebSocket handshakes with a foreign `Origin` are refused;
- with `CONNECTOR_API_TOKEN` set, every route but `/healthz` and the SPA's static
  files needs `Authorization: Bearer TOKEN` or `x-api-key: TOKEN` (Anthropic's
  clients send that one; WebSockets: `?token=TOKEN`);
- with `CONNECTOR_API_TOKEN_SCOPE=admin` (the desktop app) the token guards only the
  admin surface, and the model API (`connector.api.access`) is open to programs on
  loopback;
- app keys (`connector.services.app_keys`, the programs' key among them) open the
  model API, never the admin surface. Once any key exists (or "Programs need a key"
  is on), the model API wants a key or the token; a revoked key is refused always.
  The key a request came with is put in its context (`scope["connector"]`), for its
  usage record and budgets. Checking a key is a hash and a dict lookup, no I/O.

```
Host ok? -> Origin ok (unsafe methods, WebSockets)? -> classify(method, path)
  public -> pass
  admin  -> the token, if one is set
  model  -> an app key passes (a revoked one is refused); with keys required,
            nothing else does (but the connector's own page on a tokenless
            loopback server); else the token, if it guards everything or the peer
            is not on loopback; else open
```

Refusals are answered in the dialect of the path asked for (`connector.dialects`).
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from typing import TYPE_CHECKING
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
from connector.services.callers import ADMIN_KEY, SCOPE_KEY, RequestContext, request_context

if TYPE_CHECKING:
    from connector.services.app_keys import AppKeyService

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


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app `body` (already read) first, then the client's
    own messages (a disconnect): for middleware that had to read the body itself."""
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
            refusal = self._credential_refusal(access == "model", scope, headers, origin)
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
                    receive = replay_body(body, receive)
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
        self, model_api: bool, scope: Scope, headers: Headers, origin: str | None
    ) -> AuthenticationError | None:
        """None when the request may pass; else why not. The key it passed with goes
        into the request's context, for its usage record and its budgets."""
        given = _credentials(scope, headers)
        context = request_context(scope)
        if context is None:
            context = scope[SCOPE_KEY] = RequestContext(arrived=time.perf_counter())
        if self.token and _matches(given, self.token):
            context.key = ADMIN_KEY
            return None
        keys = _app_keys(scope) if model_api else None
        if keys is not None:
            key, revoked = keys.identify(given)
            if key is not None:
                context.key = key
                return None
            if revoked:
                return AuthenticationError(
                    "This key has been revoked. Ask for a new one (Settings > Keys).",
                    code="invalid_api_key",
                )
            if keys.required and not (self.token is None and self._own_page(scope, headers)):
                return AuthenticationError(
                    "This connector wants a key: send `Authorization: Bearer KEY` (or "
                    "`x-api-key: KEY`; on a WebSocket `?token=KEY`). Keys are made in the "
                    "app's Settings (Keys; the programs' key is under Connect your tools).",
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

    def _own_page(self, scope: Scope, headers: Headers) -> bool:
        """The connector's own UI, on this machine: a page this server served (the
        browser says so in `Sec-Fetch-Site`, or sends its origin), from loopback. On a
        server without a token anything on loopback may make itself a key anyway (the
        admin surface is open there), so keys do not lock the UI out of its own chat."""
        client = scope.get("client")
        if not is_loopback_ip(client[0] if client else None):
            return False
        if headers.get("sec-fetch-site") == "same-origin":
            return True
        origin = headers.get("origin")
        return bool(origin) and self._origin_ok(origin or "", headers.get("host", ""))

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


def _app_keys(scope: Scope) -> AppKeyService | None:
    """The app's keys (the programs' key among them). Read from the app's services
    (Starlette puts the app in the scope before any middleware)."""
    state = getattr(scope.get("app"), "state", None)
    services = getattr(state, "services", None)
    return getattr(services, "app_keys", None)
