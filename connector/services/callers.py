"""Who made a request: the surface (dialect route) it came in on and the calling
program, read from its `User-Agent`. Every usage record carries both."""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from connector.schemas import Surface

UNKNOWN_CLIENT = "unknown"
BROWSER_CLIENT = "browser"
_MAX = 64
# `name/version`, then an optional bare version: "OpenAI/Python 2.3.0" and
# "Anthropic/Python 0.60.0" name the SDK in two tokens.
_PRODUCT = re.compile(r"^([^\s/;()]+)(?:/([^\s;()]+))?(?:\s+(\d[^\s;()]*))?")


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
class Caller:
    surface: Surface
    client: str = UNKNOWN_CLIENT

    @classmethod
    def of(cls, conn: HTTPConnection, surface: Surface) -> Caller:
        return cls(surface=surface, client=client_name(conn.headers.get("user-agent")))
