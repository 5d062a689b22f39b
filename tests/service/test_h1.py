"""The plain HTTP/1.1 upstream client (`providers/h1.py`) against a raw loopback server
that answers each request with scripted bytes, as real servers frame answers: chunked,
by length, by closing, HTTP/1.0, with an interim 100, or not at all. Through
`UpstreamHTTP`, so every failure is seen as the connector's own error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from connector.errors import UpstreamError, UpstreamTimeoutError, UpstreamUnavailableError
from connector.providers.http import UpstreamHTTP, lines
from tests.fakes.server import free_port

TIMEOUTS = {"connect": 2.0, "read": 5.0, "write": 2.0, "pool": 2.0}
OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'


@dataclass
class Script:
    """What the server does with each request: `answer(n)` gives the bytes for the
    n-th request (None: close without answering); `requests` holds what arrived and
    `connections` counts the connections opened."""

    answer: Callable[[int], bytes | None]
    close_after: bool = False
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0


async def _request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + (await reader.readexactly(length) if length else b"")


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, Script]]:
    script = Script(lambda n: OK)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        script.connections += 1
        try:
            while True:
                script.requests.append(await _request(reader))
                reply = script.answer(len(script.requests))
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
                if script.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", script
    srv.close()


def _client(base: str) -> UpstreamHTTP:
    return UpstreamHTTP(
        "Test", TIMEOUTS, where=lambda: base, unreachable=lambda: UpstreamUnavailableError("down")
    )


async def test_answers_by_length_reuse_one_connection(server: tuple[str, Script]) -> None:
    base, script = server
    http = _client(base)
    for _ in range(5):
        answer = await http.request("POST", f"{base}/v1/x", body={"a": 1})
        assert (answer.status, answer.json()) == (200, {"ok": True})
        assert answer.headers["content-type"] == "application/json"
    assert script.connections == 1
    head = script.requests[0]
    assert head.startswith(b"POST /v1/x HTTP/1.1\r\n")
    assert b"\r\nHost: 127.0.0.1:" in head and head.endswith(b'\r\n\r\n{"a":1}')
    await http.aclose()


async def test_a_chunked_body_arrives_whole_in_its_lines(server: tuple[str, Script]) -> None:
    base, script = server
    chunks = [b"data: one\n\n", b"data: t", b"wo\n\ndata: [DONE]\n\n"]
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    script.answer = lambda n: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body
    http = _client(base)
    for _ in range(2):
        async with http.stream("POST", f"{base}/s", body={}) as response:
            got = [line async for batch in lines(response) for line in batch]
        assert got == [b"data: one", b"data: two", b"data: [DONE]"]
    assert script.connections == 1
    await http.aclose()


async def test_a_body_ended_by_closing_and_http_1_0_are_not_reused(
    server: tuple[str, Script],
) -> None:
    base, script = server
    script.close_after = True
    replies = [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 100_000,
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi",
    ]
    script.answer = lambda n: replies[(n - 1) % 2]
    http = _client(base)
    first = await http.request("GET", f"{base}/a")
    second = await http.request("GET", f"{base}/b")
    assert first.body == b"x" * 100_000 and second.body == b"hi"
    assert script.connections == 2
    await http.aclose()


async def test_an_interim_100_is_skipped(server: tuple[str, Script]) -> None:
    base, script = server
    script.answer = lambda n: b"HTTP/1.1 100 Continue\r\n\r\n" + OK
    http = _client(base)
    answer = await http.request("POST", f"{base}/x", body={})
    assert (answer.status, answer.body) == (200, b'{"ok":true}')
    await http.aclose()


async def test_a_kept_connection_closed_unanswered_is_retried_on_a_new_one(
    server: tuple[str, Script],
) -> None:
    """The upstream restarted (or its keep-alive ran out) while the connection was
    idle: the request it never answered goes again on a fresh connection."""
    base, script = server
    script.answer = lambda n: None if n == 2 else OK
    http = _client(base)
    assert (await http.request("POST", f"{base}/x", body={})).status == 200
    assert (await http.request("POST", f"{base}/x", body={})).status == 200
    assert len(script.requests) == 3 and script.connections == 2
    await http.aclose()


async def test_a_new_connection_closed_unanswered_is_a_502(server: tuple[str, Script]) -> None:
    base, script = server
    script.answer = lambda n: None
    http = _client(base)
    with pytest.raises(UpstreamError, match=r"connection to Test at .* broke"):
        await http.request("POST", f"{base}/x", body={})
    assert len(script.requests) == 1  # a fresh connection is not retried
    await http.aclose()


async def test_an_answer_that_is_not_http_is_a_502(server: tuple[str, Script]) -> None:
    base, script = server
    script.answer = lambda n: b"SSH-2.0-OpenSSH_9.6\r\n\r\n"
    http = _client(base)
    with pytest.raises(UpstreamError, match="broke"):
        await http.request("GET", f"{base}/x")
    await http.aclose()


async def test_no_answer_within_the_read_timeout_is_a_504(server: tuple[str, Script]) -> None:
    base, _ = server
    never = asyncio.Event()
    http = UpstreamHTTP(
        "Test",
        {**TIMEOUTS, "read": 0.2},
        where=lambda: base,
        unreachable=lambda: UpstreamUnavailableError("down"),
    )

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1000)
        await never.wait()
        writer.close()

    quiet = await asyncio.start_server(silent, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{quiet.sockets[0].getsockname()[1]}/x"
    with pytest.raises(UpstreamTimeoutError, match=r"did not answer in time \(reading\)"):
        await http.request("POST", url, body={})
    never.set()
    quiet.close()
    await http.aclose()


async def test_nothing_listening_is_the_providers_503() -> None:
    base = f"http://127.0.0.1:{free_port()}"
    http = _client(base)
    with pytest.raises(UpstreamUnavailableError):
        await http.request("GET", f"{base}/api/tags")
    await http.aclose()


async def test_a_header_with_a_line_break_is_never_sent(server: tuple[str, Script]) -> None:
    base, script = server
    http = _client(base)
    with pytest.raises(UpstreamError, match="broke"):
        await http.request("GET", f"{base}/x", headers={"Authorization": "Bearer a\r\nX-Evil: 1"})
    assert script.requests == []
    await http.aclose()


async def test_a_redirect_is_followed(server: tuple[str, Script]) -> None:
    """Handed to aiohttp, which follows it (there is no https in the plain client):
    the request goes again, then to where the redirect points, body and all."""
    base, script = server
    moved = b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /moved\r\nContent-Length: 0\r\n\r\n"
    script.answer = lambda n: OK if script.requests[-1].startswith(b"POST /moved ") else moved
    http = _client(base)
    answer = await http.request("POST", f"{base}/x", body={"a": 1})
    assert (answer.status, answer.json()) == (200, {"ok": True})
    assert [r.split(b" ", 2)[1] for r in script.requests] == [b"/x", b"/x", b"/moved"]
    assert script.requests[-1].endswith(b'{"a":1}')
    await http.aclose()


async def test_a_slow_reader_gets_a_large_body_whole(server: tuple[str, Script]) -> None:
    """Reading pauses while the unread body exceeds the high-water mark, and resumes."""
    base, script = server
    big = bytes(range(256)) * 16_384  # 4 MB
    script.answer = lambda n: b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(big), big)
    http = _client(base)
    got = bytearray()
    async with http.stream("GET", f"{base}/big") as response:
        async for piece in response.content.iter_any():
            got += piece
            await asyncio.sleep(0)
    assert bytes(got) == big
    await http.aclose()
