"""Who made a request: the surface (dialect route) it came in on and the calling
program, read from its `User-Agent`. Every usage record carries both."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from starlette.requests import HTTPConnection

from connector.schemas import Surface

UNKNOWN_CLIENT = "unknown"
BROWSER_CLIENT = "browser"
_MAX = 64
# `name/version`, then an optional bare version: "OpenAI/Python 2.3.0" and
# "Anthropic/Python 0.60.0" name the SDK in two tokens.
_PRODUCT = re.compile(r"^([^\s/;()]+)(?:/([^\s;()]+))?(?:\s+(\d[^\s;()]*))?")


# A machine's programs send a handful of User-Agents, each on every request.
@lru_cache(maxsize=256)
def client_name(user_agent: str | None) -> str:
    """The calling program as `name/version` (`ollama-python/0.6.3`, `claude-cli/2.1.197`,
    `curl/8.5.0`, `OpenAI/Python 2.3.0`), `browser` for a web page, else `unknown`."""
    agent = (user_agent or "").strip()
    if not agent:
        return UNKNOWN_CLIENT
    if agent.startswith("Mozilla/"):
        return BROWSER_CLIENT
    match = _PRODUCT.match(agent)
    if match is None:
        return agent[:_MAX]
    name, version, bare = match.groups()
    if version and bare and not version[0].isdigit():
        return f"{name}/{version} {bare}"[:_MAX]
    return (f"{name}/{version}" if version else name)[:_MAX]


@dataclass(frozen=True, slots=True)
class KeyIdentity:
    """The key a request presented: an app key (`connector.services.app_keys`), the
    programs' key (id `programs`) or the admin token (id `admin`)."""

    id: str
    name: str


ADMIN_KEY = KeyIdentity(id="admin", name="admin token")


@dataclass(slots=True)
class RequestContext:
    """What the middleware learns about one HTTP request before any route runs (put in
    the ASGI scope under `connector`), and what the chat path adds to it."""

    arrived: float  # time.perf_counter() when the request reached the connector
    key: KeyIdentity | None = None
    # Seconds spent waiting on the upstream, set by the chat and embedding paths: the
    # rest of the request's time is the connector's own (`x-connector-overhead-ms`).
    upstream_s: float | None = None


SCOPE_KEY = "connector"


def request_context(scope: Any) -> RequestContext | None:
    ctx = scope.get(SCOPE_KEY)
    return ctx if isinstance(ctx, RequestContext) else None


@dataclass(frozen=True, slots=True)
class Caller:
    surface: Surface
    client: str = UNKNOWN_CLIENT
    key: KeyIdentity | None = None
    # The HTTP request's context (None on a WebSocket: a socket carries many requests).
    context: RequestContext | None = field(default=None, compare=False)

    @property
    def key_id(self) -> str | None:
        return self.key.id if self.key else None

    @property
    def key_name(self) -> str | None:
        return self.key.name if self.key else None

    @classmethod
    def of(cls, conn: HTTPConnection, surface: Surface) -> Caller:
        ctx = request_context(conn.scope)
        return cls(
            surface=surface,
            client=client_name(conn.headers.get("user-agent")),
            key=ctx.key if ctx else None,
            context=ctx if ctx is not None and conn.scope["type"] == "http" else None,
        )
