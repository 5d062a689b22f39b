"""The benchmarks' load generator: a minimal HTTP/1.1 keep-alive client on asyncio
streams (run under uvloop) that sends pre-encoded requests and times the answer's
chunks as they arrive, and the same for the connector's `/ws/chat` WebSocket (RFC 6455
framing by hand: one text frame per message, as the server sends them). Cheaper per
request than httpx or aiohttp, so one core drives the mock and a gateway well past the
rates the goals name; the direct rate to the mock is printed with every run to show the
ceiling.

Every measurement here returns numbers; which gateway or surface they belong to is the
caller's business.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import time
from dataclasses import dataclass, field
from itertools import pairwise


@dataclass(frozen=True)
class Target:
    """Where a request goes, as bytes ready to write, and what marks a streamed chunk
    that carries output text."""

    host: str
    port: int
    blocking: bytes
    streaming: bytes
    text: re.Pattern[bytes]
    # A WebSocket target: the path (and query) to upgrade on; `blocking` and
    # `streaming` are then the chat request bodies its messages carry.
    websocket: str = ""


def encode(
    host: str, port: int, path: str, body: bytes, headers: dict[str, str] | None = None
) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        "User-Agent: connector-bench",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in (headers or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Answer:
    status: int
    # perf_counter() at each chunk that carried output text (streams only).
    text_at: list[float] = field(default_factory=list)


class BadAnswer(Exception):
    """The server's answer was not HTTP/1.1 this client can read."""


class Client:
    """One connection to a target, one request at a time; a failure closes it, and the
    next request opens a new one."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def send(self, request: bytes, text: re.Pattern[bytes] | None = None) -> Answer:
        """Send `request`, read the whole answer; with `text`, note when each chunk
        that matches it arrived. Any failure closes the connection and raises."""
        try:
            return await self._send(request, text)
        except BaseException:
            self.close()
            raise

    async def _send(self, request: bytes, text: re.Pattern[bytes] | None) -> Answer:
        raise NotImplementedError


class Connection(Client):
    """One HTTP/1.1 keep-alive connection."""

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(
                self.target.host, self.target.port, limit=1 << 20
            )
        return self._reader, self._writer

    async def _send(self, request: bytes, text: re.Pattern[bytes] | None) -> Answer:
        reader, writer = await self._open()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 "):
            raise BadAnswer(head[:40])
        answer = Answer(int(head[9:12]))
        lowered = head.lower()
        found = re.search(rb"\r\ncontent-length: *(\d+)", lowered)
        if found:
            body = await reader.readexactly(int(found.group(1)))
            if text is not None and text.search(body):
                answer.text_at.append(time.perf_counter())
        elif b"\r\ntransfer-encoding: chunked" in lowered:
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")  # no trailers are sent
                    break
                data = await reader.readexactly(size + 2)
                if text is not None and text.search(data):
                    answer.text_at.append(time.perf_counter())
        else:
            raise BadAnswer(b"neither a length nor chunks")
        if b"\r\nconnection: close" in lowered:
            self.close()
        return answer


class WebSocketConnection(Client):
    """One `/ws/chat` socket: `send` puts a chat message with a fresh id and reads
    messages until that id's `done` (status 200) or `error` (its status); chunks
    matching `text` are timed."""

    def __init__(self, target: Target) -> None:
        super().__init__(target)
        self._sent = 0

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None or self._writer.is_closing():
            reader, writer = await asyncio.open_connection(
                self.target.host, self.target.port, limit=1 << 20
            )
            key = base64.b64encode(os.urandom(16)).decode()
            writer.write(
                (
                    f"GET {self.target.websocket} HTTP/1.1\r\n"
                    f"Host: {self.target.host}:{self.target.port}\r\n"
                    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                    "User-Agent: connector-bench\r\n\r\n"
                ).encode()
            )
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 101"):
                writer.close()
                raise BadAnswer(head[:40])
            self._reader, self._writer = reader, writer
        return self._reader, self._writer

    def _frame(self, opcode: int, payload: bytes) -> bytes:
        # Client frames are masked (RFC 6455 5.3): XOR with a fresh 4-byte key.
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            head = bytes((0x80 | opcode, 0x80 | n))
        elif n < 1 << 16:
            head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
        else:
            head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
        keys = (mask * (n // 4 + 1))[:n]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(keys, "big")).to_bytes(n, "big")
        return head + mask + masked

    async def _message(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        """The next whole text message; pings are answered on the way."""
        parts: list[bytes] = []
        while True:
            b0, b1 = await reader.readexactly(2)
            n = b1 & 0x7F
            if n == 126:
                n = int.from_bytes(await reader.readexactly(2), "big")
            elif n == 127:
                n = int.from_bytes(await reader.readexactly(8), "big")
            payload = await reader.readexactly(n) if n else b""
            opcode = b0 & 0x0F
            if opcode == 0x9:  # ping
                writer.write(self._frame(0xA, payload))
                continue
            if opcode == 0x8:
                raise BadAnswer(b"closed: " + payload[:40])
            if opcode in (0x1, 0x0):
                parts.append(payload)
                if b0 & 0x80:
                    return b"".join(parts)

    async def _send(self, request: bytes, text: re.Pattern[bytes] | None) -> Answer:
        reader, writer = await self._open()
        self._sent += 1
        rid = f"r{self._sent}".encode()
        message = b'{"type":"chat","id":"' + rid + b'","request":' + request + b"}"
        writer.write(self._frame(0x1, message))
        mine = b'"id":"' + rid + b'"'
        text_at: list[float] = []
        while True:
            message = await self._message(reader, writer)
            if mine not in message[:64]:
                continue
            if message.startswith(b'{"type":"chunk"'):
                if text is not None and text.search(message):
                    text_at.append(time.perf_counter())
                continue
            if message.startswith(b'{"type":"done"'):
                return Answer(200, text_at)
            found = re.search(rb'"status": ?(\d+)', message)
            return Answer(int(found.group(1)) if found else 599, text_at)


def connect(target: Target) -> Client:
    """A client for `target`: an HTTP connection, or a socket for a WebSocket target."""
    return WebSocketConnection(target) if target.websocket else Connection(target)


async def blocking_ms(conn: Client) -> float:
    started = time.perf_counter()
    answer = await conn.send(conn.target.blocking)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status != 200:
        raise BadAnswer(f"status {answer.status}".encode())
    return elapsed


@dataclass
class Stream:
    ttft_ms: float
    gaps_ms: list[float]


async def stream(conn: Client) -> Stream:
    started = time.perf_counter()
    answer = await conn.send(conn.target.streaming, conn.target.text)
    if answer.status != 200 or not answer.text_at:
        raise BadAnswer(f"status {answer.status}, {len(answer.text_at)} text chunks".encode())
    gaps = [(b - a) * 1000 for a, b in pairwise(answer.text_at)]
    return Stream((answer.text_at[0] - started) * 1000, gaps)


async def closed_loop(target: Target, connections: int, seconds: float) -> tuple[int, int]:
    """(answers, failures) from `connections` clients each sending the next request as
    soon as the last one is answered, for `seconds`."""
    deadline = time.perf_counter() + seconds
    done = failed = 0

    async def client() -> None:
        nonlocal done, failed
        conn = connect(target)
        while time.perf_counter() < deadline:
            try:
                answer = await conn.send(target.blocking)
            except (OSError, asyncio.IncompleteReadError, BadAnswer, ValueError):
                failed += 1
                continue
            if answer.status == 200:
                done += 1
            else:
                failed += 1
        conn.close()

    await asyncio.gather(*(client() for _ in range(connections)))
    return done, failed


@dataclass
class RateStep:
    latencies_ms: list[float]
    failures: int


async def open_loop(target: Target, rate: float, seconds: float, limit_s: float) -> RateStep:
    """Requests leave on a fixed schedule whether or not earlier ones have answered,
    each timed from its scheduled start, so a server that falls behind shows it. Idle
    connections are reused; a new one opens when all are busy."""
    total = max(1, round(rate * seconds))
    idle: list[Client] = []
    latencies: list[float] = []
    failures = 0

    async def one(scheduled: float) -> None:
        nonlocal failures
        conn = idle.pop() if idle else connect(target)
        try:
            async with asyncio.timeout(limit_s):
                answer = await conn.send(target.blocking)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, BadAnswer, ValueError):
            failures += 1
            return
        idle.append(conn)
        if answer.status != 200:
            failures += 1
            return
        latencies.append((time.perf_counter() - scheduled) * 1000)

    start = time.perf_counter() + 0.001
    tasks = []
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    for conn in idle:
        conn.close()
    return RateStep(latencies, failures)


async def paced_streams(
    target: Target, count: int, ramp: float, limit_s: float
) -> tuple[list[float], int]:
    """`count` concurrent streams, each on its own connection, starting evenly over
    `ramp` seconds as users arrive: the largest gap each saw between two text chunks,
    and how many failed."""

    async def one(i: int) -> float:
        await asyncio.sleep(ramp * i / count)
        conn = connect(target)
        try:
            async with asyncio.timeout(limit_s):
                got = await stream(conn)
        finally:
            conn.close()
        return max(got.gaps_ms, default=0.0)

    results = await asyncio.gather(*(one(i) for i in range(count)), return_exceptions=True)
    worst = [r for r in results if isinstance(r, float)]
    return worst, count - len(worst)
