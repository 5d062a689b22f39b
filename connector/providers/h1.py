"""A plain HTTP/1.1 client for upstreams on `http://` with no proxy in the way: the
model servers on this machine or this network (Ollama, llama.cpp, LM Studio, vLLM).

Why not aiohttp for these too: on one core, aiohttp's request and response machinery
was about a quarter of the connector's CPU time per blocking chat (py-spy, 2026-12-02),
and a round trip through it took 134 us against 66 us for a bare protocol on the same
parser. This client is that bare protocol: asyncio's transport, httptools' parser
(llhttp, the parser uvicorn serves with), one write per request, keep-alive
connections reused newest first, and the body handed on in the pieces the network
delivered. aiohttp stays for https and proxies (the cloud), where its TLS, proxy and
environment handling matter and a network round trip dwarfs these microseconds.

It offers what `providers/http.py` uses of aiohttp's response (`status`, `headers`,
`read()`, `content.iter_any()`, `content.set_exception()`, `release()`) and raises
`ConnectFailed`, `ConnectTimeout`, `ReadTimeout` or `Disconnected`, which
`UpstreamHTTP.translated` turns into the connector's errors like aiohttp's.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools

# A body buffered beyond this, unread by the consumer (a slow client), stops reading
# from the upstream until it is taken; the kernel's buffers then hold the upstream back.
HIGH_WATER = 256 * 1024


class ConnectFailed(OSError):
    """No connection could be made (refused, unresolvable, unreachable)."""


class ConnectTimeout(TimeoutError):
    """No connection within the connect timeout."""


class ReadTimeout(TimeoutError):
    """The upstream sent nothing for the read timeout."""


class Disconnected(ConnectionError):
    """The connection ended before the answer was whole, or the answer was not HTTP."""


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds: `pool` to wait for a free connection, `connect` to open one, `read` for
    the next bytes of the answer (its headers included). None waits for ever."""

    pool: float | None
    connect: float | None
    read: float | None


@dataclass(frozen=True, slots=True)
class _Origin:
    host: str
    port: int
    authority: bytes  # the Host header


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection, carrying one request at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.response: Response | None = None
        self.lost = False
        self.idle_since = 0.0
        self.reused = False

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A TCP transport (uvloop's is not a subclass of asyncio's, hence the cast).
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        response = self.response
        if response is None:  # bytes nobody asked for: the connection is unusable
            self.close()
            return
        response.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            response.fail(Disconnected(f"the answer is not valid HTTP ({exc})"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        response = self.response
        if response is not None and not response.complete:
            if response.status and not response.length_known:
                response.finish()  # a body that ends with the connection
            else:
                response.fail(Disconnected("the upstream closed the connection"))
        # Nothing comes after this call. The parser (which holds this connection's
        # callbacks), the answer and the transport each refer back to this connection;
        # let go here, a closed connection is freed at once, not by a full cycle
        # collection, which walks every other live object too (hundreds of connections
        # close after a burst of streams).
        self.response = None
        self.transport = None
        del self.parser

    # -- httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        assert self.response is not None
        headers = self.response.headers
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text

    def on_headers_complete(self) -> None:
        response = self.response
        assert response is not None
        status = self.parser.get_status_code()
        if 100 <= status < 200:  # an interim answer (100 Continue): the real one follows
            response.headers.clear()
            return
        headers = response.headers
        response.length_known = "content-length" in headers or "chunked" in headers.get(
            "transfer-encoding", ""
        )
        response.status = status
        response.headers_arrived()

    def on_body(self, body: bytes) -> None:
        assert self.response is not None
        self.response.feed(body)

    def on_message_complete(self) -> None:
        response = self.response
        if response is not None and response.status:
            # Asked here: llhttp forgets the answer's Connection header once it resets
            # for the next message.
            response.keep_alive = self.parser.should_keep_alive()
            response.finish()

    # --

    def close(self) -> None:
        self.lost = True
        # A connection of a loop already closed went with it.
        if self.transport is not None and not self.loop.is_closed():
            self.transport.close()


class Body:
    """A response body as it arrives: `iter_any()` yields what is buffered each time,
    `set_exception` ends a waiting read with an error (the caller's idle timeout)."""

    def __init__(self, response: Response) -> None:
        self._response = response

    def iter_any(self) -> AsyncIterator[bytes]:
        return self._response.pieces()

    def set_exception(self, exc: BaseException) -> None:
        self._response.fail(exc)


class Response:
    """One answer: `status` and `headers` once they are in, then the body."""

    def __init__(self, conn: _Connection, pool: Pool, read_timeout: float | None) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.length_known = True
        self.keep_alive = False
        self.complete = False
        self.received = False  # any byte of the answer
        self._conn = conn
        self._pool = pool
        self._buffer: deque[bytes] = deque()
        self._buffered = 0
        self._paused = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._released = False
        # The read timeout: one timer per answer, re-armed only when it fires early.
        self._read_timeout = read_timeout
        self._waiting_since: float | None = None
        self._timer: asyncio.TimerHandle | None = None

    @property
    def content(self) -> Body:
        # Made on each use, not kept: a Body kept here and holding this answer would be
        # a reference cycle, left for the cycle collector instead of freed at once.
        return Body(self)

    # -- fed by the connection

    def headers_arrived(self) -> None:
        self._wake()

    def feed(self, data: bytes) -> None:
        self._buffer.append(data)
        self._buffered += len(data)
        if self._buffered > HIGH_WATER and not self._paused and self._conn.transport:
            self._paused = True
            self._conn.transport.pause_reading()
        self._wake()

    def finish(self) -> None:
        self.complete = True
        self._stop_timer()
        self._wake()
        if self._released:
            self._recycle()

    def fail(self, exc: BaseException) -> None:
        if self._error is None and not self.complete:
            self._error = exc
            self._stop_timer()
            self._conn.close()
            self._wake()

    # -- read by the consumer

    async def wait_headers(self) -> None:
        while not self.status:
            await self._wait()

    async def pieces(self) -> AsyncIterator[bytes]:
        while True:
            if self._buffer:
                data = self._buffer.popleft() if len(self._buffer) == 1 else self._take_all()
                self._buffered = 0
                if self._paused and self._conn.transport is not None:
                    self._paused = False
                    self._conn.transport.resume_reading()
                yield data
            elif self._error is not None:
                raise self._error
            elif self.complete:
                return
            else:
                await self._wait()

    async def read(self) -> bytes:
        return b"".join([piece async for piece in self.pieces()])

    def release(self) -> None:
        """Done with the answer: a whole one gives its connection back for reuse, one
        left unfinished closes it (what is still coming has no reader)."""
        if self._released:
            return
        self._released = True
        self._stop_timer()
        if self.complete and self._error is None:
            self._recycle()
        else:
            self._conn.close()
            self._pool.closed(self._conn)

    # --

    def _take_all(self) -> bytes:
        data = b"".join(self._buffer)
        self._buffer.clear()
        return data

    def _recycle(self) -> None:
        conn = self._conn
        conn.response = None
        if self._released and self.keep_alive:
            self._pool.give_back(conn)
        else:
            conn.close()
            self._pool.closed(conn)

    async def _wait(self) -> None:
        if self._error is not None:
            raise self._error
        loop = self._conn.loop
        self._waiter = waiter = loop.create_future()
        if self._read_timeout is not None:
            self._waiting_since = loop.time()
            if self._timer is None:
                self._timer = loop.call_later(self._read_timeout, self._check_timeout)
        try:
            await waiter
        finally:
            self._waiter = None
            self._waiting_since = None
        if self._error is not None and not self._buffer:
            raise self._error

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _check_timeout(self) -> None:
        assert self._read_timeout is not None
        self._timer = None
        if self._waiting_since is None:
            return  # the consumer has the data; the next wait re-arms
        left = self._waiting_since + self._read_timeout - self._conn.loop.time()
        if left > 0:
            self._timer = self._conn.loop.call_later(left, self._check_timeout)
            return
        self.fail(ReadTimeout(f"nothing for {self._read_timeout:g} s"))

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class Pool:
    """The connections to one upstream host: idle ones kept (at most `keep`, each for
    `expiry` seconds), open ones bounded by `limit`."""

    def __init__(self, origin: _Origin, *, keep: int, expiry: float, limit: int) -> None:
        self.origin = origin
        self._keep = keep
        self._expiry = expiry
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(limit)
        self._open: set[_Connection] = set()

    async def checkout(self, timeouts: Timeouts) -> _Connection:
        """An idle live connection (newest first), or a new one."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._idle:
            conn = self._idle.pop()
            if conn.lost or now - conn.idle_since > self._expiry or conn.loop is not loop:
                conn.close()
                self.closed(conn)
                continue
            conn.reused = True
            return conn
        try:
            async with asyncio.timeout(timeouts.pool):
                await self._slots.acquire()
        except TimeoutError:
            raise ConnectTimeout("no free connection") from None
        try:
            conn = await self._connect(loop, timeouts.connect)
        except BaseException:
            self._slots.release()
            raise
        self._open.add(conn)
        return conn

    async def _connect(self, loop: asyncio.AbstractEventLoop, within: float | None) -> _Connection:
        conn = _Connection(loop)
        try:
            async with asyncio.timeout(within):
                await loop.create_connection(lambda: conn, self.origin.host, self.origin.port)
        except TimeoutError:
            raise ConnectTimeout(f"no connection within {within:g} s") from None
        except OSError as exc:
            raise ConnectFailed(exc.errno, str(exc)) from exc
        return conn

    def give_back(self, conn: _Connection) -> None:
        if conn.lost or len(self._idle) >= self._keep:
            conn.close()
            self.closed(conn)
            return
        conn.idle_since = conn.loop.time()
        self._idle.append(conn)

    def closed(self, conn: _Connection) -> None:
        if conn in self._open:
            self._open.discard(conn)
            self._slots.release()

    def close(self) -> None:
        for conn in [*self._idle, *self._open]:
            conn.close()
        self._idle.clear()
        self._open.clear()


class Client:
    """Requests to `http://` URLs over pooled keep-alive connections."""

    def __init__(self, *, keep: int, expiry: float, limit: int, user_agent: str) -> None:
        self._keep, self._expiry, self._limit = keep, expiry, limit
        # Keyed by the URL's host[:port] as written: the few base URLs configured.
        self._pools: dict[str, Pool] = {}
        self._agent = user_agent.encode("latin-1")

    async def request(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: Mapping[str, str],
        timeouts: Timeouts,
        tries: int,
    ) -> Response:
        """The answer once its headers are in. A reused connection that turns out dead
        before any byte of the answer (the upstream closed it meanwhile) is retried on
        the next one, up to `tries` in all: nothing was answered, so nothing was done."""
        pool, target = self._pool(url)
        head = self._head(method, pool.origin, target, headers, body)
        attempt = 1
        while True:
            conn = await pool.checkout(timeouts)
            response = Response(conn, pool, timeouts.read)
            conn.response = response
            assert conn.transport is not None
            conn.transport.write(head + body if body else head)
            try:
                await response.wait_headers()
            except Disconnected:
                response.release()
                if not conn.reused or response.received or attempt >= tries:
                    raise
                attempt += 1
                continue
            except BaseException:
                response.release()
                raise
            return response

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()

    def _pool(self, url: str) -> tuple[Pool, bytes]:
        """The pool for a URL's origin (made on first use) and its request target."""
        _, _, rest = url.partition("://")
        netloc, slash, path = rest.partition("/")
        pool = self._pools.get(netloc)
        if pool is None:
            parts = urlsplit(url)
            if parts.hostname is None:
                raise ConnectFailed(f"no host in {url!r}")
            port = parts.port or 80
            host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
            authority = host if port == 80 else f"{host}:{port}"
            origin = _Origin(parts.hostname, port, authority.encode("idna"))
            pool = self._pools[netloc] = Pool(
                origin, keep=self._keep, expiry=self._expiry, limit=self._limit
            )
        return pool, (slash + path or "/").encode("utf-8")

    def _head(
        self,
        method: str,
        origin: _Origin,
        target: bytes,
        headers: Mapping[str, str],
        body: bytes | None,
    ) -> bytes:
        lines = [
            method.encode("ascii"),
            b" ",
            target,
            b" HTTP/1.1\r\nHost: ",
            origin.authority,
            b"\r\nUser-Agent: ",
            self._agent,
            b"\r\nAccept: */*\r\n",
        ]
        for name, value in headers.items():
            text = f"{name}: {value}"
            if "\r" in text or "\n" in text:
                raise Disconnected(f"the {name} header holds a line break")
            lines.append(text.encode("latin-1", "replace") + b"\r\n")
        lines.append(b"Content-Length: %d\r\n\r\n" % len(body or b""))
        return b"".join(lines)
