"""Soak: mixed traffic at a steady rate through one connector for a long time, then
the books and the process's health.

Starts a fake upstream (OpenAI-compatible and Ollama's API, in its own process) and the
connector (`python -m connector serve`, usage recording on), then sends, open loop at
`--rate` requests a second for `--minutes`: blocking chats and SSE streams on both
providers, `/ws/chat` requests on a long-lived socket, streams cancelled after their
first chunk, and requests the upstream fails (500). It prints:
  * records vs requests (every request sent must be on the books: `/usage` totals);
  * the connector's RSS after warm-up and at the end (growth must stay under 10 %);
  * its open file descriptors after warm-up and at the end (no leak).

    python benchmarks/bench_soak.py                 # 10 minutes at 20 req/s
    python benchmarks/bench_soak.py --minutes 1 --rate 40
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BENCH_KEY, running_connector, settle_heap, status_mb

# Each tick sends the next kind in this cycle, so the mix is exact at any duration.
KINDS = (
    "blocking-ollama",
    "sse-openai",
    "ws",
    "blocking-openai",
    "sse-ollama",
    "cancel",
    "upstream-error",
)
CLIENT_POOLS = 8
ERROR_MODEL = "soak-error"  # the fake answers 500 for it
SLOW_MODEL = "soak-slow"  # a long stream, to be cancelled


def _serve_fake(chunk_delay: float, queue: Any, stop: Any) -> None:
    from tests.fakes.upstream import FakeUpstream

    with FakeUpstream() as up:
        up.chunk_delay = chunk_delay
        up.model_scenarios = {ERROR_MODEL: "server_error", SLOW_MODEL: "slow"}
        settle_heap()
        queue.put(up.url)
        stop.wait(24 * 3600)


def _body(provider: str, model: str = "soak-model", **extra: Any) -> dict[str, Any]:
    return {
        "provider": provider,
        "model": model,
        "messages": [{"role": "user", "content": "Say hello."}],
        **extra,
    }


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class Soak:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sent = Counter[str]()
        self.outcomes = Counter[str]()
        self.unexpected: list[str] = []
        self._socket: ClientConnection | None = None
        self._ws_waiting: dict[str, asyncio.Future[str]] = {}
        self._ws_reader: asyncio.Task[None] | None = None
        self._next_id = 0

    async def run_one(self, client: httpx.AsyncClient, kind: str) -> None:
        self.sent[kind] += 1
        try:
            outcome = await getattr(self, "_" + kind.replace("-", "_").split("_")[0])(client, kind)
        except Exception as exc:  # a soak reports, it does not stop
            outcome = "failed"
            self.unexpected.append(f"{kind}: {type(exc).__name__}: {exc}"[:200])
        self.outcomes[f"{kind}:{outcome}"] += 1

    async def _blocking(self, client: httpx.AsyncClient, kind: str) -> str:
        reply = await client.post("/chat/completions", json=_body(kind.split("-")[1]))
        return "ok" if reply.status_code == 200 else f"status {reply.status_code}"

    async def _sse(self, client: httpx.AsyncClient, kind: str) -> str:
        body = _body(kind.split("-")[1], stream=True)
        async with client.stream("POST", "/chat/completions/stream", json=body) as response:
            async for line in response.aiter_lines():
                if line == "data: [DONE]":
                    return "ok"
        return "no [DONE]"

    async def _cancel(self, client: httpx.AsyncClient, kind: str) -> str:
        body = _body("ollama", SLOW_MODEL, stream=True)
        async with client.stream("POST", "/chat/completions/stream", json=body) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: {"):
                    return "ok"  # leaving now closes the stream: a cancel
        return "no chunk"

    async def _upstream(self, client: httpx.AsyncClient, kind: str) -> str:
        reply = await client.post("/chat/completions", json=_body("ollama", ERROR_MODEL))
        return "ok" if reply.status_code == 502 else f"status {reply.status_code}"

    async def _ws(self, client: httpx.AsyncClient, kind: str) -> str:
        if self._socket is None:
            self._socket = await connect("ws" + self.url[4:] + "/ws/chat", ping_interval=None)
            self._ws_reader = asyncio.create_task(self._read_ws(self._socket))
        self._next_id += 1
        rid = f"r{self._next_id}"
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._ws_waiting[rid] = done
        message = {"type": "chat", "id": rid, "request": _body("openai")}
        await self._socket.send(json.dumps(message))
        return await asyncio.wait_for(done, 60)

    async def _read_ws(self, ws: ClientConnection) -> None:
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] in ("done", "error", "cancelled"):
                waiting = self._ws_waiting.pop(message["id"], None)
                if waiting is not None and not waiting.done():
                    waiting.set_result("ok" if message["type"] == "done" else message["type"])

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._ws_reader is not None:
            self._ws_reader.cancel()


async def _soak(url: str, pid: int, minutes: float, rate: float) -> int:
    duration = minutes * 60
    warmup = min(60.0, duration * 0.2)
    soak = Soak(url)
    # Several small client pools: httpcore matches queued requests to connections in
    # time that grows with both, so one big pool that falls behind (a loaded machine)
    # spirals into measuring the load generator instead of the connector.
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
    rss: list[tuple[float, float]] = []
    after_warmup: tuple[float, int] | None = None
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, timeout=60, limits=limits)
            )
            for _ in range(CLIENT_POOLS)
        ]
        client = clients[0]
        tasks: set[asyncio.Task[None]] = set()
        started = time.monotonic()
        next_sample = started
        for tick in range(int(duration * rate)):
            due = started + tick / rate
            now = time.monotonic()
            if due > now:
                await asyncio.sleep(due - now)
            kind = KINDS[tick % len(KINDS)]
            task = asyncio.create_task(soak.run_one(clients[tick % CLIENT_POOLS], kind))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            if time.monotonic() >= next_sample:
                rss.append((time.monotonic() - started, status_mb(pid, "VmRSS")))
                next_sample += 10
            if after_warmup is None and time.monotonic() - started >= warmup:
                after_warmup = (status_mb(pid, "VmRSS"), _fds(pid))
        await asyncio.gather(*tasks)
        await soak.close()
        elapsed = time.monotonic() - started
        await asyncio.sleep(1)  # let the last cancels reach the connector
        totals = (await client.get("/usage")).json()["totals"]
    end_rss, end_fds = status_mb(pid, "VmRSS"), _fds(pid)
    assert after_warmup is not None
    warm_rss, warm_fds = after_warmup
    requests = sum(soak.sent.values())
    growth = (end_rss - warm_rss) / warm_rss * 100
    print(f"\n{requests} requests in {elapsed:.0f} s ({requests / elapsed:.1f}/s):")
    for kind in KINDS:
        got = {k.split(":", 1)[1]: v for k, v in soak.outcomes.items() if k.startswith(kind)}
        print(f"  {kind:<16} {soak.sent[kind]:>6}  {got}")
    print(f"records vs requests: {totals['requests']} / {requests}")
    print(f"  ok {totals['ok']}, errors {totals['errors']}, cancelled {totals['cancelled']}")
    print(f"RSS after warm-up ({warmup:.0f} s): {warm_rss:.1f} MB; at the end: {end_rss:.1f} MB "
          f"({growth:+.1f} %)")  # fmt: skip
    print(f"open fds after warm-up: {warm_fds}; at the end: {end_fds}")
    print("RSS samples (s, MB): " + ", ".join(f"{t:.0f}:{m:.0f}" for t, m in rss[::6]))
    for line in soak.unexpected[:10]:
        print("unexpected:", line)
    clean = (
        totals["requests"] == requests
        and growth < 10
        and end_fds <= warm_fds + 2
        and not soak.unexpected
    )
    print("PASS" if clean else "FAIL")
    return 0 if clean else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to send")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--chunk-delay", type=float, default=0.005, help="fake: s between tokens")
    args = parser.parse_args(argv)
    stop = multiprocessing.Event()
    queue: Any = multiprocessing.Queue()
    fake = multiprocessing.Process(
        target=_serve_fake, args=(args.chunk_delay, queue, stop), daemon=True
    )
    fake.start()
    try:
        base = queue.get(timeout=60)
        with running_connector(base + "/v1", BENCH_KEY, ollama=base) as (url, pid):
            return asyncio.run(_soak(url, pid, args.minutes, args.rate))
    finally:
        stop.set()
        fake.join(5)


if __name__ == "__main__":
    raise SystemExit(main())
