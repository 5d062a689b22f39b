"""The HTTP client every provider talks to its upstream through: kept-alive
connections per provider, and the one place where the clients' and asyncio's errors
become the connector's.

Two clients behind it: `providers/h1.py` for `http://` upstreams while no proxy is set
(the model servers on this machine or network, where the connector's own microseconds
are what a request costs), and aiohttp (`providers/aio.py`, imported on first use) for
https and proxies.
"""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.request
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from connector.errors import (
    BadRequestError,
    ConnectorError,
    RateLimitError,
    UpstreamError,
    UpstreamTimeoutError,
)
from connector.providers import h1
from connector.providers.h1 import Timeouts

if TYPE_CHECKING:
    from connector.providers import aio

# Idle connections each upstream client keeps open for reuse. A server gives each open
# connection a worker (llama.cpp a thread of its HTTP pool) and the connector a socket:
# a pool left holding one per request of a past burst ties both up for nothing, while
# 32 still let 32 concurrent streams reuse their connections. (httpcore also probed
# every idle socket on each request, 1.3 ms a request with 100 idle; aiohttp does not.)
KEEPALIVE_CONNECTIONS = 32
# Tries of a request whose pooled connection turned out dead before any answer (the
# upstream restarted, or closed it): each later try takes the next idle connection or a
# fresh one. Three, because the model catalogue's listing leaves a second idle
# connection beside a chat's, and both die together when the upstream restarts.
STALE_TRIES = 3
# Open connections per upstream at most (streams beyond it wait for one to finish).
MAX_CONNECTIONS = 1000
# An idle pooled connection older than this is closed rather than reused: servers drop
# idle keep-alive connections after a few seconds (uvicorn 5 s, llama.cpp 5 s), and a
# reused one they already closed costs a failed try.
KEEPALIVE_EXPIRY = 4.0
JSON_HEADERS = {"Content-Type": "application/json"}
USER_AGENT = "ai-connector"
# Answers the plain client hands to aiohttp, which follows them (to https, say).
REDIRECTS = frozenset({301, 302, 303, 307, 308})


def dumps(value: Any) -> bytes:
    """A request body. orjson: about 0.35 us for a short chat against 6 us for json."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def loads(data: bytes | str) -> Any:
    """A JSON document; ValueError when it is not one. orjson parses a streamed chunk in
    about 0.7 us against 2-4 us for json; json still reads what orjson refuses and JSON
    readers accept (NaN, integers beyond 64 bits)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def client_timeout(timeouts: Mapping[str, float]) -> Timeouts:
    """The connector's four timeouts (connect, read, write, pool) as the clients take
    them. Neither has a write timeout: both read the answer while they write the body,
    so a body the upstream stops taking runs into the read timeout instead."""
    return Timeouts(pool=timeouts["pool"], connect=timeouts["connect"], read=timeouts["read"])


def short_timeout(seconds: float) -> Timeouts:
    """Every phase within `seconds`: for calls that must answer quickly (model lists)."""
    return Timeouts(pool=seconds, connect=seconds, read=seconds)


class Body(Protocol):
    def iter_any(self) -> AsyncIterator[bytes]: ...

    def set_exception(self, exc: BaseException) -> None: ...


class Streamed(Protocol):
    """An answer whose headers are in and whose body is still coming: aiohttp's
    `ClientResponse` (through `aio.Response`) or `h1.Response`."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> Body: ...

    async def read(self) -> bytes: ...

    def release(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole answer: status, body, headers."""

    status: int
    body: bytes
    headers: Mapping[str, str]

    def json(self) -> Any:
        return loads(self.body)


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """What an error answer says: its message and code (OpenAI's `{"error": {"message",
    "code"}}`, Ollama's `{"error": "..."}`, or plain text), and Retry-After."""

    status: int
    message: str
    code: str | None
    retry_after: str | None

    @classmethod
    def of(cls, status: int, body: bytes, headers: Mapping[str, str]) -> ErrorDetail:
        text = body.decode("utf-8", "replace").strip()
        message: str | None = None
        code: str | None = None
        try:
            data = loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict):
            inner = data.get("error", data)
            if isinstance(inner, dict):
                if inner.get("message"):
                    message = str(inner["message"])
                code = inner["code"] if isinstance(inner.get("code"), str) else None
            elif isinstance(inner, str) and inner:
                message = inner
        if message is None:
            message = text[:500] or f"Error code: {status}"
        return cls(status, message, code, headers.get("retry-after"))


def common_status_error(upstream: str, error: ErrorDetail) -> ConnectorError:
    """The statuses every upstream means alike; each provider says its own 401, 403,
    404 and 503 (a key, a model to pull, a server still loading) before this."""
    status, text, code = error.status, error.message, error.code
    extra: dict[str, Any] = {} if code is None else {"code": code}
    if status == 429:
        return RateLimitError(f"{upstream}: {text}", retry_after=error.retry_after, **extra)
    if status in (400, 422):
        return BadRequestError(f"{upstream} refused the request: {text}", **extra)
    return UpstreamError(f"{upstream} answered {status}: {text}", **extra)


def parse_stream_object(raw: bytes | str, upstream: str) -> dict[str, Any]:
    """One streamed JSON object (an NDJSON line or an SSE `data:`). An `error` object,
    how both Ollama and OpenAI report a failure after the stream started, raises."""
    try:
        data = loads(raw)
    except ValueError as exc:
        raise UpstreamError(f"{upstream} sent data that is not JSON: {_shown(raw)!r}") from exc
    if not isinstance(data, dict):
        raise UpstreamError(f"{upstream} sent unexpected data: {_shown(raw)!r}")
    if "error" in data:
        error = data["error"]
        message = error.get("message") if isinstance(error, dict) else error
        raise UpstreamError(f"{upstream}: {message}")
    return data


def _shown(raw: bytes | str) -> str:
    return raw[:200].decode("utf-8", "replace") if isinstance(raw, bytes) else raw[:200]


class _IdleWatch:
    """One stream's idle timeout: one timer, re-armed only when it fires early, that
    ends a stuck read by setting the error on the body's reader. An object, not a
    closure that names itself to re-arm: that closure and what it held (the answer,
    its connection) were a reference cycle, left for a full collection to free."""

    __slots__ = ("_content", "_loop", "_timeout", "_timer", "_upstream", "waiting_since")

    def __init__(self, content: Body, idle_timeout: float, upstream: str) -> None:
        self._content = content
        self._loop = asyncio.get_running_loop()
        self._timeout = idle_timeout
        self._upstream = upstream
        self._timer: asyncio.TimerHandle | None = None
        self.waiting_since: float | None = None  # None while the consumer has the batch

    def arm(self) -> None:
        if self._timer is None:
            self._timer = self._loop.call_later(self._timeout, self._fire)

    def waiting(self) -> None:
        self.waiting_since = self._loop.time()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None  # its handle holds this watch: let go of each other

    def _fire(self) -> None:
        since = self.waiting_since
        left = self._timeout if since is None else since + self._timeout - self._loop.time()
        if left > 0:
            self._timer = self._loop.call_later(left, self._fire)
            return
        self._timer = None
        self._content.set_exception(
            UpstreamTimeoutError(
                f"{self._upstream} stopped sending mid-stream: nothing for "
                f"{self._timeout:g} s (CONNECTOR_IDLE_TIMEOUT)."
            )
        )


async def idle_limited(
    response: Streamed, idle_timeout: float, upstream: str
) -> AsyncGenerator[list[bytes], None]:
    """A streamed body's lines (`lines`), the first under the client's read timeout (a
    model load may take minutes), every later one within `idle_timeout`
    (CONNECTOR_IDLE_TIMEOUT): a stream that has started and then says nothing that
    long is stuck. Only time spent waiting for the upstream counts, never the time
    the consumer takes with a batch (a slow client). One timer per stream (`_IdleWatch`):
    an `asyncio.timeout` entered around each line cost about 4% of a request's CPU
    time. Close it (`aclosing`) when leaving early, so the timer ends with the stream."""
    watch = _IdleWatch(response.content, idle_timeout, upstream)
    try:
        async for batch in lines(response):
            watch.arm()  # from the first line on
            watch.waiting_since = None
            yield batch
            watch.waiting()
    finally:
        watch.stop()


async def lines(response: Streamed) -> AsyncIterator[list[bytes]]:
    """The body's lines that hold anything (NDJSON objects, SSE's `data:` lines; a
    line may end in `\\r`), without their newline, any length, in the batches they
    arrived in. One step per network read, not per line: with SSE's blank separator
    lines that halves the steps through the generators above, each a few
    microseconds on every token."""
    rest = b""
    async for data in response.content.iter_any():
        if rest:
            data = rest + data
        *complete, rest = data.split(b"\n")
        batch = [line for line in complete if line.strip()]
        if batch:
            yield batch
    if rest.strip():
        yield [rest]


class UpstreamHTTP:
    """One upstream's HTTP client. `upstream` names it in errors ("Ollama"), `where`
    gives its current base URL, `unreachable` builds the provider's own 503 for an
    upstream that cannot be connected to (its message says how to start or set it)."""

    def __init__(
        self,
        upstream: str,
        timeouts: Mapping[str, float],
        *,
        where: Callable[[], str],
        unreachable: Callable[[], ConnectorError],
    ) -> None:
        self._upstream = upstream
        self._where = where
        self._unreachable = unreachable
        self._timeout = client_timeout(timeouts)
        self._plain: h1.Client | None = None
        self._plain_loop: asyncio.AbstractEventLoop | None = None
        self._session: aio.Session | None = None
        # Proxies from the environment as httpx honoured them, looked up on first use:
        # with any set, every request goes through aiohttp, which applies them (and
        # `no_proxy`).
        self._proxies: bool | None = None

    def _proxied(self) -> bool:
        if self._proxies is None:
            self._proxies = bool(urllib.request.getproxies())
        return self._proxies

    def _plain_client(self) -> h1.Client:
        """The plain-HTTP client, one per loop (its connections belong to the loop
        that opened them: an app served again gets a new one)."""
        loop = asyncio.get_running_loop()
        if self._plain is None or self._plain_loop is not loop:
            if self._plain is not None:
                self._plain.close()
            self._plain = h1.Client(
                keep=KEEPALIVE_CONNECTIONS,
                expiry=KEEPALIVE_EXPIRY,
                limit=MAX_CONNECTIONS,
                user_agent=USER_AGENT,
            )
            self._plain_loop = loop
        return self._plain

    def _aio_session(self) -> aio.Session:
        """The aiohttp session, made on first use inside the running loop (aiohttp
        binds it to one loop); a new one when the loop changed."""
        from connector.providers import aio

        if self._session is None or not self._session.usable:
            if self._session is not None:
                self._session.abandon()
            self._session = aio.Session(
                keep=KEEPALIVE_CONNECTIONS,
                expiry=KEEPALIVE_EXPIRY,
                limit=MAX_CONNECTIONS,
                user_agent=USER_AGENT,
                proxies=self._proxied(),
            )
        return self._session

    async def aclose(self) -> None:
        plain, self._plain = self._plain, None
        if plain is not None:
            plain.close()
        session, self._session = self._session, None
        if session is not None:
            await session.aclose()

    @contextmanager
    def translated(self) -> Iterator[None]:
        """The clients' and asyncio's errors as the connector's: cannot connect -> the
        provider's 503, a timeout -> 504, anything broken on the way -> 502. Errors name
        the upstream and its URL, never a header (the key)."""
        try:
            yield
        except ConnectorError:
            raise
        except Exception as exc:
            failure = _failure(exc)
            if failure is None:
                raise
            if failure == "unreachable":
                raise self._unreachable() from exc
            if failure == "broken":
                raise UpstreamError(
                    f"The connection to {self._upstream} at {self._where()} broke "
                    f"({type(exc).__name__})."
                ) from exc
            raise UpstreamTimeoutError(
                f"{self._upstream} at {self._where()} did not answer in time ({failure})."
            ) from exc

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        timeouts: Timeouts | None = None,
    ) -> AsyncIterator[Streamed]:
        """The response once its headers are in; read it (`lines`) inside the block,
        where errors are translated. Leaving before its end closes the connection."""
        with self.translated():
            response = await self._send(method, url, body, headers, timeouts or self._timeout)
            try:
                yield response
            finally:
                response.release()

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        timeouts: Timeouts | None = None,
    ) -> Answer:
        """The whole answer of one call, whatever its status."""
        async with self.stream(method, url, body=body, headers=headers, timeouts=timeouts) as r:
            return Answer(r.status, await r.read(), r.headers)

    async def _send(
        self,
        method: str,
        url: str,
        body: Any,
        headers: Mapping[str, str] | None,
        limits: Timeouts,
    ) -> Streamed:
        sent = dict(headers or {})
        data = None
        if body is not None:
            data = dumps(body)
            sent.update(JSON_HEADERS)
        if url.startswith("http://") and not self._proxied():
            answer = await self._plain_client().request(
                method, url, data, sent, limits, STALE_TRIES
            )
            if answer.status not in REDIRECTS:
                return answer
            answer.release()  # aiohttp follows it, as it always did
        return await self._aio_session().request(method, url, data, sent, limits, STALE_TRIES)


def _failure(exc: BaseException) -> str | None:
    """What a client's error means ("unreachable", a timeout's phase, "broken"), or
    None for an error that is no client's."""
    aio = sys.modules.get("connector.providers.aio")
    if aio is not None:
        failure: str | None = aio.failure(exc)
        if failure is not None:
            return failure
    if isinstance(exc, h1.ConnectFailed):
        return "unreachable"
    if isinstance(exc, h1.ConnectTimeout):
        return "connecting"
    if isinstance(exc, TimeoutError):
        return "reading"
    if isinstance(exc, OSError):
        return "broken"
    return None
