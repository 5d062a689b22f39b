"""Latency the connector adds in front of its upstream, per client dialect.

Starts a fake upstream (OpenAI-compatible and Ollama's API; or uses --upstream-url) and
the connector (`python -m connector serve`, usage recording on) in their own processes,
then measures from this process, over loopback only, for each surface (`--surfaces`):
  * blocking latency: the upstream called directly vs through the connector
    (p50 / p99 over N sequential requests after a warm-up, calls interleaved);
  * streaming time to first token (first output text), direct vs through;
  * the gap between text chunks as the client sees them (with --chunk-delay).
"Direct" is the upstream's own chat API: Ollama's /api/chat for the /api/chat row, the
OpenAI-compatible /chat/completions for the others (Anthropic and Responses requests
are translated by the connector, so that is what a client would otherwise call).

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
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (
    BENCH_KEY,
    chat_body,
    fake_ollama_url,
    nodelay_socket_options,
    percentile,
    running_connector,
    take_cpus,
    upstream_url,
)

T = TypeVar("T")


def _retrying(measure: Callable[[], float]) -> float:
    """One retry when the server had already closed the pooled connection (llama.cpp
    closes it after every streamed response): the request never reached it."""
    try:
        return measure()
    except httpx.RemoteProtocolError:
        return measure()


def _blocking(client: httpx.Client, url: str, body: dict[str, Any]) -> float:
    return _retrying(lambda: _blocking_once(client, url, body))


def _blocking_once(client: httpx.Client, url: str, body: dict[str, Any]) -> float:
    started = time.perf_counter()
    response = client.post(url, json=body)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: {response.text[:300]}")
    return elapsed * 1000


@dataclass(frozen=True)
class Surface:
    """One client dialect: where it is served, its request body, and how to tell a
    streamed line that carries output text."""

    name: str
    path: str
    body: Callable[[str, bool], dict[str, Any]]
    carries_text: Callable[[str], bool]


def _json_line(line: str) -> dict[str, Any] | None:
    text = line[5:] if line.startswith("data:") else line
    text = text.strip()
    if not text.startswith("{"):
        return None
    value = json.loads(text)
    return value if isinstance(value, dict) else None


def _openai_text(line: str) -> bool:
    frame = _json_line(line) if line.startswith("data:") else None
    choices = (frame or {}).get("choices") or []
    return bool(choices and (choices[0].get("delta") or {}).get("content"))


def _ollama_text(line: str) -> bool:
    frame = _json_line(line)
    return bool(frame and (frame.get("message") or {}).get("content"))


def _anthropic_text(line: str) -> bool:
    frame = _json_line(line) if line.startswith("data:") else None
    delta = (frame or {}).get("delta") or {}
    return bool(frame and frame.get("type") == "content_block_delta" and delta.get("text"))


def _responses_text(line: str) -> bool:
    frame = _json_line(line) if line.startswith("data:") else None
    return bool(frame and frame.get("type") == "response.output_text.delta" and frame["delta"])


def _ollama_body(model: str, stream: bool) -> dict[str, Any]:
    return {
        "model": model,
        "messages": [{"role": "user", "content": "Say hello."}],
        "stream": stream,
        "options": {"num_predict": 16},
    }


def _anthropic_body(model: str, stream: bool) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": 16,
        "messages": [{"role": "user", "content": "Say hello."}],
        "stream": stream,
    }


def _responses_body(model: str, stream: bool) -> dict[str, Any]:
    return {"model": model, "input": "Say hello.", "max_output_tokens": 16, "stream": stream}


SURFACES = {
    "v1": Surface("/v1/chat/completions", "/v1/chat/completions", chat_body, _openai_text),
    "ollama": Surface("/api/chat", "/api/chat", _ollama_body, _ollama_text),
    "anthropic": Surface("/v1/messages", "/v1/messages", _anthropic_body, _anthropic_text),
    "responses": Surface("/v1/responses", "/v1/responses", _responses_body, _responses_text),
}


@dataclass
class Timed:
    ttft: float
    gaps: list[float] = field(default_factory=list)


def _stream_once(
    client: httpx.Client, url: str, body: dict[str, Any], carries_text: Callable[[str], bool]
) -> Timed:
    started = time.perf_counter()
    seen: list[float] = []
    with client.stream("POST", url, json=body) as response:
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        for line in response.iter_lines():
            if line and carries_text(line):
                seen.append(time.perf_counter())
    if not seen:
        raise SystemExit(f"{url} streamed no content")
    return Timed((seen[0] - started) * 1000, [(b - a) * 1000 for a, b in pairwise(seen)])


def _stream(
    client: httpx.Client, url: str, body: dict[str, Any], carries_text: Callable[[str], bool]
) -> Timed:
    try:
        return _stream_once(client, url, body, carries_text)
    except httpx.RemoteProtocolError:  # see _retrying
        return _stream_once(client, url, body, carries_text)


def _measure(
    n: int, warmup: int, direct: Callable[[], T], via: Callable[[], T]
) -> tuple[list[T], list[T]]:
    for _ in range(warmup):
        direct()
        via()
    a: list[T] = []
    b: list[T] = []
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
        f"| {name:<36} | {len(direct):>5} | {d50:>8.2f} | {d99:>8.2f} | {v50:>8.2f} | "
        f"{v99:>8.2f} | {v50 - d50:>+9.2f} | {v99 - d99:>+9.2f} |"
    )


def _run_surface(
    client: httpx.Client,
    surface: Surface,
    connector: str,
    direct: tuple[str, Callable[[str, bool], dict[str, Any]], Callable[[str], bool]],
    model: str,
    args: argparse.Namespace,
) -> list[str] | None:
    """The rows of one surface, or None when the connector does not serve it."""
    direct_url, direct_body, direct_text = direct
    via_url = f"{connector}{surface.path}"
    via_model = model if surface.name == "/api/chat" else f"openai/{model}"
    probe = client.post(via_url, json=surface.body(via_model, False))
    if probe.status_code in (404, 405, 501):
        return None
    block = _measure(
        args.n,
        args.warmup,
        lambda: _blocking(client, direct_url, direct_body(model, False)),
        lambda: _blocking(client, via_url, surface.body(via_model, False)),
    )
    timed = _measure(
        args.stream_n,
        min(args.warmup, 5),
        lambda: _stream(client, direct_url, direct_body(model, True), direct_text),
        lambda: _stream(client, via_url, surface.body(via_model, True), surface.carries_text),
    )
    label = "" if surface.name == "/v1/chat/completions" else f"{surface.name} "
    rows = [
        _row(f"{label}blocking latency (ms)" if label else "blocking latency (ms)", *block),
        _row(f"{label}stream TTFT (ms)", *([t.ttft for t in side] for side in timed)),
    ]
    gaps = [[g for t in side for g in t.gaps] for side in timed]
    if all(gaps):
        rows.append(_row(f"{label}chunk gap (ms)", *gaps))
    return rows


def _make_app_key(connector: str) -> str:
    """A key with every budget and limit set high enough never to be reached: the
    connector identifies the key and checks each budget on every request."""
    limits = {
        "usd_per_day": 1e6,
        "usd_per_month": 1e6,
        "tokens_per_day": 10**12,
        "tokens_per_month": 10**12,
        "requests_per_minute": 10**9,
    }
    for path, body in (("/keys", {"name": "bench", "limits": limits}), ("/budgets", limits)):
        method = "POST" if path == "/keys" else "PATCH"
        response = httpx.request(method, f"{connector}{path}", json=body)
        if response.status_code not in (200, 201):
            raise SystemExit(f"{path} answered {response.status_code}: {response.text[:300]}")
        if path == "/keys":
            key = str(response.json()["key"])
    return key


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
    parser.add_argument(
        "--app-key",
        action="store_true",
        help="make an app key with budgets and limits (none reached) and send it (x-api-key), "
        "so every request is identified and checked against its budgets",
    )
    parser.add_argument(
        "--surfaces",
        default="v1,ollama,anthropic,responses",
        help="client dialects to measure, comma-separated (v1, ollama, anthropic, responses)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.n <= 100_000 or not 1 <= args.stream_n <= 100_000:
        parser.error("-n and --stream-n must be between 1 and 100000")

    wanted = [name.strip() for name in args.surfaces.split(",") if name.strip()]
    unknown = set(wanted) - set(SURFACES)
    if unknown:
        parser.error(f"unknown surfaces {sorted(unknown)}; choose from {sorted(SURFACES)}")

    mine, others = take_cpus(not args.no_pin)
    with (
        upstream_url(args.upstream_url, args.chunk_delay, cpus=others) as upstream,
        running_connector(
            upstream, args.api_key, mine, ollama=fake_ollama_url(upstream, args.upstream_url)
        ) as (connector, _pid),
    ):
        headers = {"Authorization": f"Bearer {args.api_key}"}
        if args.app_key:
            headers["x-api-key"] = _make_app_key(connector)
        nodelay = httpx.HTTPTransport(socket_options=nodelay_socket_options())
        rows: list[str] = []
        expected = 0
        with httpx.Client(timeout=args.timeout, headers=headers, transport=nodelay) as client:
            ollama = fake_ollama_url(upstream, args.upstream_url)
            per_surface = args.warmup + args.n + min(args.warmup, 5) + args.stream_n
            for name in wanted:
                surface = SURFACES[name]
                if name == "ollama":
                    if ollama is None:
                        print("/api/chat: skipped (the given upstream is not Ollama)")
                        continue
                    direct = (f"{ollama}/api/chat", _ollama_body, _ollama_text)
                else:
                    direct = (f"{upstream}/chat/completions", chat_body, _openai_text)
                got = _run_surface(client, surface, connector, direct, args.model, args)
                if got is None:
                    print(f"{surface.name}: not served by this connector")
                    continue
                rows.extend(got)
                expected += per_surface + 1  # and the probe
            usage = client.get(f"{connector}/usage").json()["totals"]

    print(f"upstream {upstream}  model {args.model}  connector {connector}")
    print(f"usage recorded by the connector: {usage['requests']} requests (expected {expected})")
    print(
        f"| {'measurement':<36} | {'n':>5} | {'direct50':>8} | {'direct99':>8} | "
        f"{'via50':>8} | {'via99':>8} | {'added50':>9} | {'added99':>9} |"
    )
    print(
        f"|{'-' * 38}|{'-' * 7}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 11}|{'-' * 11}|"
    )
    for row in rows:
        print(row)
    return 0 if usage["requests"] == expected else 1


if __name__ == "__main__":
    raise SystemExit(main())
