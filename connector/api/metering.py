"""The request's context (`connector.services.callers.RequestContext`), made as the
request arrives, and the `x-connector-overhead-ms` header on blocking answers.

The outermost middleware, so the connector's own time counts from the first byte it
handles: the overhead is the time from arrival to the answer's head, minus what the
chat or embedding path spent waiting on the upstream. Only answers that went to an
upstream get it, and only blocking ones (a stream's head leaves before its end).
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connector.services.callers import SCOPE_KEY, RequestContext

HEADER = b"x-connector-overhead-ms"
_STREAM_TYPES = (b"text/event-stream", b"application/x-ndjson")


class MeteringMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        context = RequestContext(arrived=time.perf_counter())
        scope[SCOPE_KEY] = context
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_overhead(message: Message) -> None:
            if message["type"] == "http.response.start" and context.upstream_s is not None:
                headers = message.get("headers") or []
                streamed = any(
                    name == b"content-type" and value.startswith(_STREAM_TYPES)
                    for name, value in headers
                )
                if not streamed:
                    own = (time.perf_counter() - context.arrived - context.upstream_s) * 1000
                    message["headers"] = [*headers, (HEADER, f"{max(0.0, own):.3f}".encode())]
            await send(message)

        await self.app(scope, receive, send_with_overhead)
