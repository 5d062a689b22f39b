"""Safe local defaults, checked before any route runs:

- `Host` must be a loopback name or a configured one (DNS rebinding);
- state-changing requests and WebSocket handshakes with a foreign `Origin` are refused;
- with `CONNECTOR_API_TOKEN` set, every route but `/healthz` and the SPA's static
  files needs `Authorization: Bearer TOKEN` (WebSockets: `?token=TOKEN`).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connector.config import LOOPBACK_HOSTS, Settings

_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_PUBLIC_PREFIXES = ("/app/", "/assets/")
_REFUSALS = {
    401: ("authentication_error", "invalid_api_token"),
    403: ("permission_error", "forbidden"),
    413: ("invalid_request_error", "request_too_large"),
}
_PUBLIC_PATHS = {"/", "/healthz", "/app", "/favicon.ico", "/favicon.svg"}


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
                403,
                f"Host '{hostname}' is not allowed. Add it to CONNECTOR_ALLOWED_HOSTS.",
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
                403,
                f"Origin '{origin}' is not allowed. Add it to CONNECTOR_ALLOWED_ORIGINS.",
            )
            return
        if self.token and method != "OPTIONS" and not self._public(scope["path"]):
            if not self._token_ok(scope, headers):
                await self._refuse(
                    scope,
                    receive,
                    send,
                    401,
                    "This connector needs its API token: send `Authorization: Bearer TOKEN`.",
                )
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
                    413,
                    f"Request body is too large (limit {self.max_body} bytes; "
                    "CONNECTOR_MAX_BODY_BYTES).",
                )
                return
        await self.app(scope, receive, send)

    def _origin_ok(self, origin: str, host_header: str) -> bool:
        value = origin.strip().rstrip("/").lower()
        if value in self.origins:
            return True
        # Same origin: the page was served by this very host:port.
        return urlsplit(value).netloc == host_header.strip().lower() and value != "null"

    @staticmethod
    def _public(path: str) -> bool:
        return path in _PUBLIC_PATHS or path.startswith(_PUBLIC_PREFIXES)

    def _token_ok(self, scope: Scope, headers: Headers) -> bool:
        assert self.token is not None
        given = ""
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        elif scope["type"] == "websocket":
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given = (query.get("token") or [""])[0]
        return hmac.compare_digest(given.encode(), self.token.encode())

    @staticmethod
    async def _refuse(
        scope: Scope, receive: Receive, send: Send, status: int, message: str
    ) -> None:
        if scope["type"] == "websocket":
            # Closing before accept makes the server answer the handshake with 403.
            await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
            return
        kind, code = _REFUSALS[status]
        body = json.dumps(
            {"error": {"message": message, "type": kind, "param": None, "code": code}}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
