"""A faulty upstream: raw HTTP/1.1 over asyncio streams, so it can misbehave in ways a
well-behaved ASGI server never would.

    with FaultyUpstream() as up:
        up.ollama_url, up.openai_url
        up.fault = "reset"        # what the next requests get:
            # None      a normal streamed answer (Ollama NDJSON or OpenAI SSE, by path)
            # "reset"   the answer starts, then the connection is reset (RST)
            # "garbage" the answer starts, then a line that is not JSON
            # "silent"  the request is read and never answered
            # "stall"   the first line of the answer, then silence
        up.restart()              # like an upstream restarted: connections opened
                                  # before fail (closed unanswered) on their next request
        up.requests, up.open_connections, up.connections_seen
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
from types import TracebackType

from tests.fakes.recorded import load_ndjson, load_sse

LOOPBACK = "127.0.0.1"
# How long an idle kept-alive connection stays open (uvicorn's is 5 s): short, so that
# what is still open a moment after a fault is what the fault left, not the pool.
KEEP_ALIVE = 1.0


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _answer_lines(path: str) -> tuple[str, list[bytes]]:
    if path.startswith("/v1/"):
        events = [f"data: {json.dumps(frame)}\n\n" for frame in load_sse("openai/chat_stream.sse")]
        return "text/event-stream", [e.encode() for e in [*events, "data: [DONE]\n\n"]]
    lines = load_ndjson("ollama/chat_stream.ndjson")
    return "application/x-ndjson", [(json.dumps(line) + "\n").encode() for line in lines]


class FaultyUpstream:
    def __init__(self) -> None:
        self.fault: str | None = None
        self.requests: list[str] = []
        self.open_connections = 0
        self.connections_seen = 0
        self._generation = 0
        self._loop = asyncio.new_event_loop()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((LOOPBACK, 0))
        self._sock.listen(64)
        self.port = int(self._sock.getsockname()[1])
        self.ollama_url = f"http://{LOOPBACK}:{self.port}"
        self.openai_url = f"http://{LOOPBACK}:{self.port}/v1"
        self._thread = threading.Thread(target=self._run, daemon=True, name="faulty-upstream")
        self._started = threading.Event()
        self._server: asyncio.Server | None = None

    # -- lifecycle -----------------------------------------------------------------
    def __enter__(self) -> FaultyUpstream:
        self._thread.start()
        self._started.wait(10)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self._server = await asyncio.start_server(self._serve, sock=self._sock)
            self._started.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()

    def restart(self) -> None:
        """Connections from before now fail on their next request, unanswered."""
        self._generation += 1

    # -- serving -------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_connections += 1
        self.connections_seen += 1
        born = self._generation
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), KEEP_ALIVE)
                except TimeoutError:
                    return  # idle too long: closed, as a real server's keep-alive ends
                if born != self._generation:
                    _reset(writer)  # the process that accepted this one is gone
                    return
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                headers = dict(line.split(": ", 1) for line in header_lines if ": " in line)
                length = int({k.lower(): v for k, v in headers.items()}.get("content-length", 0))
                if length:
                    await reader.readexactly(length)
                path = request_line.split(" ")[1]
                self.requests.append(path)
                if not await self._answer(path, reader, writer):
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            self.open_connections -= 1
            with contextlib.suppress(Exception):
                writer.close()

    async def _answer(
        self, path: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; False when the connection is finished with."""
        fault = self.fault
        if fault == "silent":
            await reader.read()  # until the client gives up and closes
            return False
        media_type, lines = _answer_lines(path)
        writer.write(
            f"HTTP/1.1 200 OK\r\nContent-Type: {media_type}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        if fault == "reset":
            writer.write(b"".join(_chunk(line) for line in lines[:2]))
            await writer.drain()
            _reset(writer)
            return False
        if fault == "garbage":
            garbage = (
                b"data: <html>502 Bad Gateway</html>\n\n"
                if path.startswith("/v1/")
                else (b"<html>502 Bad Gateway</html>\n")
            )
            writer.write(_chunk(lines[0]) + _chunk(garbage) + b"0\r\n\r\n")
            await writer.drain()
            return True
        if fault == "stall":
            writer.write(_chunk(lines[0]))
            await writer.drain()
            await reader.read()
            return False
        writer.write(b"".join(_chunk(line) for line in lines) + b"0\r\n\r\n")
        await writer.drain()
        return True


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST rather than FIN, as a crashed process's kernel does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
