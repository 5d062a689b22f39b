"""A gateway built up one requirement at a time, for `bench_ladder.py` to measure what
each costs per request on one core: the rungs between the bare relay and the connector.

    python benchmarks/ladder.py --rung 3 --upstream http://127.0.0.1:9000 --port 8003 --data DIR

Each rung is the one below plus one thing the connector must do for a blocking OpenAI
chat request (`POST /v1/chat/completions`):

1. `h1`: a plain ASGI app on uvicorn (httptools, uvloop) passing the body to the upstream
   through the connector's own HTTP/1.1 client and the answer back as bytes; the bare
   relay (`relay.py`) does the same on aiohttp.
2. `validate`: the request validated by the connector's own `ChatRequest` model, the
   upstream's body written from it, the answer parsed and written again (orjson).
3. `stream`: the upstream asked for a stream, as the connector asks it for every answer
   (for the time to first token on the record, and an idle timeout that catches a stuck
   model mid-answer), its events parsed and joined into one blocking answer.
4. `record`: one usage row (the connector's columns) INSERTed and COMMITted to SQLite
   in WAL mode on the loop before the answer is sent, as the connector makes it
   durable.
5. `framework`: the handler inside a FastAPI app as the connector's fast path is, a
   pure ASGI middleware in front of the app's stack, with Starlette's `Request` and
   `Response`.

What the connector does beyond rung 5 (app keys, budgets, prices, callers, routing
among endpoints, live totals and metrics, errors in each dialect) is its own column.
"""

from __future__ import annotations

import gc

gc.disable()  # as the connector's `__main__`: on again once the heap is frozen

import argparse  # noqa: E402
import sqlite3  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import orjson  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from relay import Receive, Scope, Send, read_body, serve  # noqa: E402  (benchmarks/)

from connector.providers.h1 import Client, Timeouts  # noqa: E402
from connector.schemas import ChatRequest  # noqa: E402

RUNGS = ("h1", "validate", "stream", "record", "framework")

_TIMEOUTS = Timeouts(pool=10.0, connect=10.0, read=60.0)
_JSON = [(b"content-type", b"application/json")]
# The usage record's columns that a chat request fills (connector/tables.py UsageRecord).
_COLUMNS = (
    "request_id", "created_at", "surface", "client", "kind", "provider", "model", "status",
    "prompt_tokens", "completion_tokens", "reasoning_tokens", "total_tokens", "latency_ms",
    "ttft_ms", "cost_usd", "reference_cost_usd", "structured", "key_id", "overhead_ms",
    "endpoint", "saved_usd",
)  # fmt: skip


def _record_table(path: Path) -> sqlite3.Connection:
    """The usage table on a file, with the connector's pragmas, in autocommit mode."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=0"):
        conn.execute(f"PRAGMA {pragma}")
    columns = ", ".join(f"{c}" for c in _COLUMNS)
    conn.execute(f"CREATE TABLE IF NOT EXISTS usage (id INTEGER PRIMARY KEY, {columns})")
    conn.execute("CREATE INDEX IF NOT EXISTS usage_created ON usage (created_at)")
    return conn


class Ladder:
    """The gateway at rung `rung` (1-5) of `RUNGS`."""

    def __init__(self, rung: int, upstream: str, data: Path) -> None:
        self.rung = rung
        self.url = upstream.rstrip("/") + "/v1/chat/completions"
        self.client = Client(keep=64, expiry=30.0, limit=1000, user_agent="ladder")
        self.db = _record_table(data / "ladder.db") if rung >= 4 else None
        self._insert = (
            f"INSERT INTO usage ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
        )

    async def answer(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """The status and body of one chat request's answer."""
        started = time.perf_counter()
        if self.rung < 2:
            got = await self.client.request("POST", self.url, body, headers, _TIMEOUTS, 2)
            data = await got.read()
            got.release()
            return got.status, data
        request = ChatRequest.model_validate_json(body)
        upstream = request.model_dump(exclude_none=True)
        if self.rung >= 3:
            upstream["stream"] = True
            upstream["stream_options"] = {"include_usage": True}
        got = await self.client.request(
            "POST", self.url, orjson.dumps(upstream), headers, _TIMEOUTS, 2
        )
        ttft: float | None = None
        usage: dict[str, Any] = {}
        if self.rung < 3:
            answer = orjson.loads(await got.read())
            usage = answer.get("usage") or usage
        else:
            text: list[str] = []
            first: dict[str, Any] = {}
            finish = None
            async for piece in got.content.iter_any():
                for line in piece.splitlines():
                    if not line.startswith(b"data: ") or line == b"data: [DONE]":
                        continue
                    event = orjson.loads(line[6:])
                    first = first or event
                    usage = event.get("usage") or usage
                    for choice in event.get("choices") or ():
                        delta = choice.get("delta") or {}
                        if delta.get("content"):
                            ttft = ttft or time.perf_counter() - started
                            text.append(delta["content"])
                        finish = choice.get("finish_reason") or finish
            answer = {
                "id": first.get("id"),
                "object": "chat.completion",
                "created": first.get("created"),
                "model": first.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(text)},
                        "finish_reason": finish,
                    }
                ],
                "usage": usage,
            }
        got.release()
        if self.db is not None:
            self._record(request.model or "", got.status, usage, started, ttft)
        return got.status, orjson.dumps(answer)

    def _record(
        self, model: str, status: int, usage: dict[str, Any], started: float, ttft: float | None
    ) -> None:
        assert self.db is not None
        prompt, completion = usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
        latency = (time.perf_counter() - started) * 1000
        row = (
            uuid.uuid4().hex, time.strftime("%Y-%m-%d %H:%M:%S.000000"), "v1", "unknown",
            "chat", "openai", model, "ok" if status < 400 else "error", prompt, completion,
            0, prompt + completion, latency, ttft and ttft * 1000, 0.0, None, 0, None,
            None, None, 0.0,
        )  # fmt: skip
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute(self._insert, row)
        self.db.execute("COMMIT")

    # -- rungs 1-4: a plain ASGI app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, self.client)
            return
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        status, data = await self.answer(body, _forwarded(scope))
        await send({"type": "http.response.start", "status": status, "headers": _JSON})
        await send({"type": "http.response.body", "body": data})


def _forwarded(scope: Scope) -> dict[str, str]:
    return {
        k.decode(): v.decode()
        for k, v in scope["headers"]
        if k in (b"content-type", b"authorization")
    }


def _settle_heap() -> None:
    """The start-up heap out of the collector's view, then the collector on."""
    gc.collect()
    gc.freeze()
    gc.enable()


async def _lifespan(receive: Receive, send: Send, client: Client) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            _settle_heap()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            client.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


def framework(ladder: Ladder) -> Any:
    """Rung 5: `ladder`'s handler as a pure ASGI middleware in front of a FastAPI app,
    with Starlette's Request and Response, as the connector's fast path serves."""
    from contextlib import asynccontextmanager

    from fastapi import FastAPI
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import ASGIApp

    class Fast:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["path"] != "/v1/chat/completions":
                await self.app(scope, receive, send)
                return
            request = Request(scope, receive)
            status, data = await ladder.answer(await request.body(), _forwarded(scope))
            await Response(data, status, media_type="application/json")(scope, receive, send)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        _settle_heap()
        yield
        ladder.client.close()

    # FastAPI's own OpenTelemetry off, as the connector has it.
    app = FastAPI(lifespan=lifespan, telemetry={"tracing": False, "metrics": False, "logs": False})
    app.add_middleware(Fast)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rung", type=int, required=True, choices=range(1, len(RUNGS) + 1))
    parser.add_argument("--upstream", required=True, help="base URL, e.g. http://127.0.0.1:9000")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", type=Path, required=True, help="directory for its database")
    args = parser.parse_args(argv)
    ladder = Ladder(args.rung, args.upstream, args.data)
    serve(framework(ladder) if args.rung >= 5 else ladder, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
