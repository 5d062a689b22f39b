"""Load the connector can carry: request rate, concurrent paced streams, memory.

Starts a fake OpenAI-compatible upstream (or uses --upstream-url) and the connector
(`python -m connector serve`, usage recording on) in their own processes, then from
this process, over loopback only:

  * open-loop rate steps: requests sent on a fixed schedule (not waiting for answers),
    each timed from its scheduled start, first straight to the upstream and then
    through the connector's /v1 at the same rate. The sweep stops after the first
    rate whose added p99 exceeds the budget (default 10 ms) or that loses requests;
    "max req/s" is the highest rate within it.
  * paced streams: N concurrent streams (starts spread over --ramp seconds) whose
    tokens the upstream spaces evenly
    (--chunk-delay, 10 ms by default); a stream is clean when the largest gap the
    client sees between two tokens stays within the budget of the upstream's own
    spacing. The step passes when every stream is clean; the sweep stops where the
    upstream and the load generator, without the connector, no longer are.

On a machine with two or more CPUs the connector gets one of its own and the upstream
and the load generator share the others (--no-pin turns this off).
  * the connector's resident memory at start and its peak.

    python benchmarks/bench_throughput.py
    python benchmarks/bench_throughput.py --rates 50,100,200 --seconds 3 --streams 10,50
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (
    BENCH_KEY,
    chat_body,
    nodelay_socket_options,
    percentile,
    running_connector,
    settle_heap,
    status_mb,
    take_cpus,
    upstream_url,
)

# A streamed chunk whose delta carries non-empty content.
_CONTENT = re.compile(r'^data: .*"delta": ?\{[^}]*"content": ?"(?!")')


@dataclass
class Step:
    latencies_ms: list[float]
    failures: int

    @property
    def done(self) -> int:
        return len(self.latencies_ms)


def _client(api_key: str, connections: int, timeout: float) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    transport = httpx.AsyncHTTPTransport(socket_options=nodelay_socket_options(), limits=limits)
    return httpx.AsyncClient(
        transport=transport, timeout=timeout, headers={"Authorization": f"Bearer {api_key}"}
    )


async def _rate_step(
    client: httpx.AsyncClient, url: str, body: dict[str, Any], rate: float, seconds: float
) -> Step:
    total = max(1, round(rate * seconds))
    interval = 1.0 / rate
    latencies: list[float] = []
    failures = 0

    async def one(scheduled: float) -> None:
        nonlocal failures
        try:
            response = await client.post(url, json=body)
            if response.status_code != 200:
                failures += 1
                return
        except httpx.HTTPError:
            failures += 1
            return
        # From the scheduled start: a gateway that falls behind shows it here.
        latencies.append((time.perf_counter() - scheduled) * 1000)

    start = time.perf_counter()
    tasks = []
    for i in range(total):
        scheduled = start + i * interval
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    return Step(latencies, failures)


async def _stream_gaps(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> list[float]:
    """Gaps (ms) between consecutive content chunks of one stream, as the client sees them."""
    arrivals: list[float] = []
    async with client.stream("POST", url, json=body) as response:
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        async for line in response.aiter_lines():
            # A regular expression instead of json.loads: the load generator shares a
            # CPU with the upstream and must stay cheap per chunk.
            if _CONTENT.search(line):
                arrivals.append(time.perf_counter())
    if len(arrivals) < 2:
        raise RuntimeError(f"{url} streamed fewer than two content chunks")
    return [(b - a) * 1000 for a, b in itertools.pairwise(arrivals)]


async def _streams_step(
    client: httpx.AsyncClient, url: str, body: dict[str, Any], count: int, ramp: float
) -> tuple[list[float], int]:
    """The largest gap of each stream, and how many streams failed. Starts are spread
    evenly over `ramp` seconds, as users arrive, rather than all in one instant."""

    async def started_later(i: int) -> list[float]:
        await asyncio.sleep(ramp * i / count)
        return await _stream_gaps(client, url, body)

    results = await asyncio.gather(
        *(started_later(i) for i in range(count)), return_exceptions=True
    )
    worst = [max(r) for r in results if isinstance(r, list)]
    return worst, sum(1 for r in results if not isinstance(r, list))


def _clean(worst: list[float], limit: float) -> int:
    """How many streams kept every gap within `limit` ms."""
    return sum(1 for gap in worst if gap <= limit)


async def _run(
    args: argparse.Namespace, upstream: str, paced: str, connector: str, pid: int
) -> int:
    direct_url = f"{upstream}/chat/completions"
    via_url = f"{connector}/v1/chat/completions"
    plain, routed = chat_body(args.model, False), chat_body(f"openai/{args.model}", False)
    rss_start = status_mb(pid, "VmRSS")
    sent = 0  # requests that reached the connector: each must leave one usage record

    print(f"upstream {upstream}  model {args.model}  connector {connector}")
    print(
        f"\nopen-loop requests, {args.seconds:g} s per rate, budget: added p99 <= {args.budget} ms"
    )
    print("| rate/s | direct p50 | direct p99 | via p50 | via p99 | added p99 | via done/lost |")
    print("|-------:|-----------:|-----------:|--------:|--------:|----------:|--------------:|")
    best = 0.0
    async with _client(args.api_key, args.connections, args.timeout) as client:
        for _ in range(10):  # warm both paths and the pools
            await client.post(direct_url, json=plain)
            await client.post(via_url, json=routed)
        sent += 10
        for rate in args.rates:
            direct = await _rate_step(client, direct_url, plain, rate, args.seconds)
            via = await _rate_step(client, via_url, routed, rate, args.seconds)
            sent += via.done + via.failures
            d50, d99 = percentile(direct.latencies_ms, 50), percentile(direct.latencies_ms, 99)
            v50, v99 = percentile(via.latencies_ms, 50), percentile(via.latencies_ms, 99)
            added99 = v99 - d99
            print(
                f"| {rate:>6g} | {d50:>10.2f} | {d99:>10.2f} | {v50:>7.2f} | {v99:>7.2f} | "
                f"{added99:>+9.2f} | {via.done:>8}/{via.failures:<4} |"
            )
            if direct.failures:
                print(f"  the upstream lost {direct.failures} requests at {rate:g}/s; stopping")
                break
            if via.failures or not added99 <= args.budget:
                break
            best = rate
    print(f"max req/s with added p99 <= {args.budget} ms: {best:g}")
    await asyncio.sleep(2)  # let an overloaded last step drain before the streams

    if paced != upstream:
        # The paced upstream from here on: switched at runtime, as the Settings page does.
        async with httpx.AsyncClient(base_url=connector, timeout=30) as admin:
            changed = await admin.post("/settings", json={"openai_base_url": paced})
            changed.raise_for_status()
        direct_url = f"{paced}/chat/completions"
    sbody = chat_body(args.model, True, max_tokens=args.stream_tokens)
    sroute = chat_body(f"openai/{args.model}", True, max_tokens=args.stream_tokens)
    print(
        f"\nconcurrent streams, tokens {args.chunk_delay * 1000:g} ms apart; clean: "
        f"largest gap <= {args.chunk_delay * 1000:g} + {args.budget} ms"
    )
    print(
        "| streams | direct clean | direct worst gap p50/max | via clean | via worst gap p50/max |"
    )
    print(
        "|--------:|-------------:|-------------------------:|----------:|----------------------:|"
    )
    clean_max = 0
    limit = args.chunk_delay * 1000 + args.budget
    for count in args.streams:
        async with _client(args.api_key, count + 2, args.timeout) as client:
            direct_worst, direct_lost = await _streams_step(
                client, direct_url, sbody, count, args.ramp
            )
            # Each side gets a second try before a step counts as failed: one stray
            # pause (another process, a page fault) should not end the sweep.
            if _clean(direct_worst, limit) < count:
                direct_worst, direct_lost = await _streams_step(
                    client, direct_url, sbody, count, args.ramp
                )
            via_worst, via_lost = await _streams_step(client, via_url, sroute, count, args.ramp)
            sent += count
            if not via_lost and _clean(via_worst, limit) < count:
                via_worst, via_lost = await _streams_step(client, via_url, sroute, count, args.ramp)
                sent += count
        direct_clean, clean = _clean(direct_worst, limit), _clean(via_worst, limit)
        d50, dmax = percentile(direct_worst, 50), max(direct_worst, default=0.0)
        v50, vmax = percentile(via_worst, 50), max(via_worst, default=0.0)
        print(
            f"| {count:>7} | {direct_clean:>12} | {d50:>11.1f} / {dmax:>10.1f} | {clean:>9} | "
            f"{v50:>9.1f} / {vmax:>9.1f} |"
        )
        if via_lost:
            print(f"  the connector lost {via_lost} streams")
            break
        if direct_lost or direct_clean < count:
            # Beyond this the upstream and the load generator cannot pace the streams
            # themselves: the measurement, not the connector, has reached its limit.
            print(f"  the upstream and load generator alone are not clean at {count}; stopping")
            break
        if clean < count:
            break
        clean_max = count
    print(f"clean paced streams: {clean_max}")

    async with httpx.AsyncClient(timeout=30) as plain_client:
        usage = (await plain_client.get(f"{connector}/usage")).json()["totals"]
    print(
        f"\nconnector RSS at start {rss_start:.0f} MB, peak {status_mb(pid, 'VmHWM'):.0f} MB; "
        f"usage records {usage['requests']} of {sent} requests ({usage['errors']} errors, "
        f"{usage['cancelled']} cancelled)"
    )
    return 0 if usage["requests"] == sent else 1


def _numbers(text: str) -> list[float]:
    values = [float(v) for v in text.split(",") if v.strip()]
    if not values or any(v <= 0 or v > 100_000 for v in values):
        raise argparse.ArgumentTypeError("a comma-separated list of numbers in (0, 100000]")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream-url", help="OpenAI-compatible base URL (ends in /v1)")
    parser.add_argument("--model", default="gpt-4o-mini", help="model name at the upstream")
    parser.add_argument("--api-key", default=BENCH_KEY, help="key sent to the upstream")
    parser.add_argument(
        "--rates", type=_numbers, default=_numbers("25,50,100,200,300,400,500,600,800")
    )
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each rate step")
    parser.add_argument("--streams", type=_numbers, default=_numbers("10,50,100,200,500"))
    parser.add_argument("--stream-tokens", type=int, default=100, help="tokens per paced stream")
    parser.add_argument("--ramp", type=float, default=1.0, help="s over which streams start")
    parser.add_argument("--chunk-delay", type=float, default=0.01, help="fake: s between tokens")
    parser.add_argument("--budget", type=float, default=10.0, help="ms the connector may add")
    parser.add_argument("--connections", type=int, default=256, help="client connection pool")
    parser.add_argument("--timeout", type=float, default=60.0, help="per request, seconds")
    parser.add_argument(
        "--no-pin", action="store_true", help="do not give the connector a CPU of its own"
    )
    args = parser.parse_args(argv)
    if not 0.5 <= args.seconds <= 60:
        parser.error("--seconds must be between 0.5 and 60")
    args.streams = [int(v) for v in args.streams]

    # The rate steps use an upstream that answers at once (the fake paces blocking
    # answers too); the streams one that spaces its tokens. A given upstream serves both.
    mine, others = take_cpus(not args.no_pin)
    with (
        upstream_url(args.upstream_url, 0.0, cpus=others) as upstream,
        upstream_url(args.upstream_url, args.chunk_delay, args.stream_tokens, others) as paced,
        running_connector(upstream, args.api_key, mine) as (connector, pid),
    ):
        settle_heap()
        return asyncio.run(_run(args, upstream, paced, connector, pid))


if __name__ == "__main__":
    raise SystemExit(main())
