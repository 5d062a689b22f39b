"""Latency the connector adds in front of an OpenAI-compatible upstream.

Starts a fake OpenAI-compatible upstream (or uses --upstream-url) and the connector
(`python -m connector serve`, usage recording on) in their own processes, then measures
from this process, over loopback only:
  * blocking chat completions: upstream directly vs through the connector's /v1
    (p50 / p99 over N sequential requests after a warm-up, calls interleaved);
  * streaming time to first token (first content delta), direct vs through the connector.

    python benchmarks/bench_latency.py                       # built-in fake upstream
    python benchmarks/bench_latency.py -n 1000 --chunk-delay 0.01
    python benchmarks/bench_latency.py --upstream-url http://127.0.0.1:8080/v1 --model m
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
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
    take_cpus,
    upstream_url,
)


def _retrying(measure: Callable[[], float]) -> float:
    """One retry when the server had already closed the pooled connection (llama.cpp
    closes it after every streamed response): the request never reached it."""
    try:
        return measure()
    except httpx.RemoteProtocolError:
        return measure()


def _blocking(client: httpx.Client, url: str, body: dict[str, Any]) -> float:
    return _retrying(lambda: _blocking_once(client, url, body))


def _ttft(client: httpx.Client, url: str, body: dict[str, Any]) -> float:
    return _retrying(lambda: _ttft_once(client, url, body))


def _blocking_once(client: httpx.Client, url: str, body: dict[str, Any]) -> float:
    started = time.perf_counter()
    response = client.post(url, json=body)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: {response.text[:300]}")
    return elapsed * 1000


def _ttft_once(client: httpx.Client, url: str, body: dict[str, Any]) -> float:
    started = time.perf_counter()
    first: float | None = None
    with client.stream("POST", url, json=body) as response:
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        for line in response.iter_lines():
            if first is None and line.startswith("data:") and line != "data: [DONE]":
                frame = json.loads(line[5:])
                choices = frame.get("choices") or []
                if choices and (choices[0].get("delta") or {}).get("content"):
                    first = time.perf_counter()
    if first is None:
        raise SystemExit(f"{url} streamed no content")
    return (first - started) * 1000


def _measure(
    n: int, warmup: int, direct: Callable[[], float], via: Callable[[], float]
) -> tuple[list[float], list[float]]:
    for _ in range(warmup):
        direct()
        via()
    a: list[float] = []
    b: list[float] = []
    for i in range(n):
        # Interleaved, alternating who goes first, so drift hits both sides alike.
        if i % 2:
            a.append(direct())
            b.append(via())
        else:
            b.append(via())
            a.append(direct())
    return a, b


def _row(name: str, direct: list[float], via: list[float]) -> str:
    d50, d99 = percentile(direct, 50), percentile(direct, 99)
    v50, v99 = percentile(via, 50), percentile(via, 99)
    return (
        f"| {name:<22} | {len(direct):>5} | {d50:>8.2f} | {d99:>8.2f} | {v50:>8.2f} | "
        f"{v99:>8.2f} | {v50 - d50:>+9.2f} | {v99 - d99:>+9.2f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream-url", help="OpenAI-compatible base URL (ends in /v1)")
    parser.add_argument("--model", default="gpt-4o-mini", help="model name at the upstream")
    parser.add_argument("--api-key", default=BENCH_KEY, help="key sent to the upstream")
    parser.add_argument("-n", type=int, default=300, help="blocking requests per side")
    parser.add_argument("--stream-n", type=int, default=100, help="streams per side for TTFT")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="fake: s between tokens")
    parser.add_argument("--timeout", type=float, default=120.0, help="per request, seconds")
    parser.add_argument(
        "--no-pin", action="store_true", help="do not give the connector a CPU of its own"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.n <= 100_000 or not 1 <= args.stream_n <= 100_000:
        parser.error("-n and --stream-n must be between 1 and 100000")

    mine, others = take_cpus(not args.no_pin)
    with (
        upstream_url(args.upstream_url, args.chunk_delay, cpus=others) as upstream,
        running_connector(upstream, args.api_key, mine) as (connector, _pid),
    ):
        headers = {"Authorization": f"Bearer {args.api_key}"}
        nodelay = httpx.HTTPTransport(socket_options=nodelay_socket_options())
        with httpx.Client(timeout=args.timeout, headers=headers, transport=nodelay) as client:
            direct_url = f"{upstream}/chat/completions"
            via_url = f"{connector}/v1/chat/completions"
            plain, routed = chat_body(args.model, False), chat_body(f"openai/{args.model}", False)
            block = _measure(
                args.n,
                args.warmup,
                lambda: _blocking(client, direct_url, plain),
                lambda: _blocking(client, via_url, routed),
            )
            splain, srouted = chat_body(args.model, True), chat_body(f"openai/{args.model}", True)
            ttft = _measure(
                args.stream_n,
                min(args.warmup, 5),
                lambda: _ttft(client, direct_url, splain),
                lambda: _ttft(client, via_url, srouted),
            )
            usage = client.get(f"{connector}/usage").json()["totals"]

    expected = args.warmup + args.n + min(args.warmup, 5) + args.stream_n
    print(f"upstream {upstream}  model {args.model}  connector {connector}")
    print(f"usage recorded by the connector: {usage['requests']} requests (expected {expected})")
    print(
        f"| {'measurement':<22} | {'n':>5} | {'direct50':>8} | {'direct99':>8} | "
        f"{'via50':>8} | {'via99':>8} | {'added50':>9} | {'added99':>9} |"
    )
    print(
        f"|{'-' * 24}|{'-' * 7}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 11}|{'-' * 11}|"
    )
    print(_row("blocking latency (ms)", *block))
    print(_row("stream TTFT (ms)", *ttft))
    return 0 if usage["requests"] == expected else 1


if __name__ == "__main__":
    raise SystemExit(main())
