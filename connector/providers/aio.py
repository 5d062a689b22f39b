"""The aiohttp side of the upstream client: https upstreams (the cloud) and every
upstream while proxies are set in the environment, which aiohttp applies (with
`no_proxy`). Imported on the first such request only: a connector that talks to
local servers alone never loads aiohttp (about 10 MB and 0.1 s of start-up).

aiohttp rather than httpx: on one core a relay on httpx carried about 500 requests a
second, on aiohttp about 4,000; httpcore's pool and the `openai` SDK on top of it were
half of the connector's CPU time per request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Literal

import aiohttp

from connector.providers.h1 import Timeouts

Failure = Literal["unreachable", "connecting", "reading", "broken"]
_CLOSE = {"Connection": "close"}


def failure(exc: BaseException) -> Failure | None:
    """What an aiohttp error means, or None when it is not one of aiohttp's."""
    unreachable = (aiohttp.ClientConnectorError, aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)
    if isinstance(exc, unreachable):
        return "unreachable"  # down, unresolvable, or not an http(s) URL
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return "connecting"
    if isinstance(exc, aiohttp.ClientError):
        return "reading" if isinstance(exc, TimeoutError) else "broken"
    return None


def _timeout(limits: Timeouts) -> aiohttp.ClientTimeout:
    """The limits in aiohttp's terms. Its `connect` covers waiting for a pooled
    connection and opening a new one, so it is pool + connect; `sock_read` is the
    longest wait for the next bytes. aiohttp has no write timeout: it reads the answer
    while it writes the body, so a body the upstream stops taking runs into the read
    timeout instead."""
    phases = [t for t in (limits.pool, limits.connect) if t is not None]
    return aiohttp.ClientTimeout(
        total=None,
        connect=sum(phases) if phases else None,
        sock_connect=limits.connect,
        sock_read=limits.read,
    )


class Session:
    """One aiohttp session, bound to the loop it was made on."""

    def __init__(
        self, *, keep: int, expiry: float, limit: int, user_agent: str, proxies: bool
    ) -> None:
        self._keep = keep
        self.loop = asyncio.get_running_loop()
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=limit, keepalive_timeout=expiry),
            headers={"User-Agent": user_agent},
            # Proxies looked up per request only where some are set.
            trust_env=proxies,
        )
        self._busy = 0  # requests holding a connection (or about to)

    @property
    def usable(self) -> bool:
        return not self._session.closed and self.loop is asyncio.get_running_loop()

    async def request(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: dict[str, str],
        limits: Timeouts,
        tries: int,
    ) -> Response:
        if self._busy >= self._keep:
            # The idle pool stays bounded: a request that starts while that many others
            # hold connections asks for its own to be closed after the answer, so no
            # more than `keep` are ever returned to the pool (aiohttp bounds open
            # connections, not idle ones).
            headers = {**headers, **_CLOSE}
        timeout = _timeout(limits)
        attempt = 1
        self._busy += 1
        try:
            while True:
                try:
                    answer = await self._session.request(
                        method, url, data=body, headers=headers, timeout=timeout
                    )
                    return Response(answer, self)
                except aiohttp.ClientConnectorError:
                    raise
                except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                    # A pooled connection the upstream had closed (restarted since, or
                    # its keep-alive ran out) fails before any answer: nothing was
                    # received, so a retry (on the next connection, or a new one) is safe.
                    if attempt == tries:
                        raise
                    attempt += 1
        except BaseException:
            self._busy -= 1
            raise

    def done(self) -> None:
        self._busy -= 1

    async def aclose(self) -> None:
        if not self._session.closed:
            await self._session.close()

    def abandon(self) -> None:
        """Let go of a session made on another loop: closed there while that loop
        runs; its sockets are gone with a closed loop."""
        if self.loop.is_closed():
            self._session.detach()
        else:
            asyncio.run_coroutine_threadsafe(self._session.close(), self.loop)


class Response:
    """aiohttp's answer with the session's count of busy connections kept."""

    def __init__(self, answer: aiohttp.ClientResponse, session: Session) -> None:
        self._answer = answer
        self._session: Session | None = session
        self.status = answer.status
        self.headers: Mapping[str, str] = answer.headers
        self.content = answer.content

    async def read(self) -> bytes:
        return await self._answer.read()

    def release(self) -> None:
        self._answer.release()
        if self._session is not None:
            self._session.done()
            self._session = None
