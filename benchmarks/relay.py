"""A bare relay: the reference the performance goals set the connector beside. uvicorn
(httptools, uvloop) runs a plain ASGI app that sends each request's body to the upstream
with one aiohttp ClientSession and pipes the answer back as bytes, parsing nothing. (The
same relay on the connector's own HTTP client, `ladder.py --rung 1`, costs about half
its CPU a request.)

    python benchmarks/relay.py --upstream http://127.0.0.1:9000 --port 8001

Every path is relayed to the same path at the upstream (`/v1/chat/completions` for the
OpenAI protocol, `/api/chat` for Ollama's), so one relay serves either.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import aiohttp
import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Request headers worth passing on; hop-by-hop ones and Host are the relay's own.
_FORWARD = {b"content-type", b"authorization", b"accept", b"x-api-key"}
# Answer headers worth passing back; the ASGI server frames the body itself.
_BACK = {"content-type", "content-length", "cache-control"}


async def read_body(receive: Receive) -> bytes:
    """A request's whole body, from its ASGI messages."""
    body = bytearray()
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return bytes(body)


class Relay:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.session: aiohttp.ClientSession | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"] if k.lower() in _FORWARD}
        url = self.upstream + scope["path"]
        if scope["query_string"]:
            url += "?" + scope["query_string"].decode()
        assert self.session is not None
        try:
            async with self.session.request(
                scope["method"], url, data=body, headers=headers
            ) as answer:
                back = [
                    (k.lower().encode(), v.encode())
                    for k, v in answer.headers.items()
                    if k.lower() in _BACK
                ]
                await send(
                    {"type": "http.response.start", "status": answer.status, "headers": back}
                )
                async for piece in answer.content.iter_any():
                    await send({"type": "http.response.body", "body": piece, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
        except aiohttp.ClientError:
            await send(
                {
                    "type": "http.response.start",
                    "status": 502,
                    "headers": [(b"content-type", b"text/plain")],
                }
            )
            await send({"type": "http.response.body", "body": b"upstream unreachable"})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # No connection cap: the relay is the floor, not a policy.
                connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=None)
                self.session = aiohttp.ClientSession(
                    connector=connector,
                    timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
                    auto_decompress=False,
                )
                # The start-up heap out of later full collections, as the connector does.
                gc.collect()
                gc.freeze()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.session is not None:
                    await self.session.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="base URL, e.g. http://127.0.0.1:9000")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    serve(Relay(args.upstream), args.port)
    return 0


def serve(app: Any, port: int) -> None:
    """Serve `app` on loopback as the benchmarks' bare gateways are served: uvicorn with
    httptools and uvloop, no access log, a deep accept queue."""
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_level="warning",
        access_log=False,
        backlog=4096,
    )


if __name__ == "__main__":
    sys.exit(main())
