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
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

REPO = Path(__file__).resolve().parent.parent
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
BENCH_KEY = "sk-bench-not-a-real-key"


def _serve_fake(chunk_delay: float, queue: Any, stop: Any) -> None:
    sys.path.insert(0, str(REPO))
    from tests.fakes.upstream import FakeUpstream

    with FakeUpstream() as up:
        up.chunk_delay = chunk_delay
        queue.put(up.openai_url)
        stop.wait(3600)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the connector exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("the connector did not become healthy in time")


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def _body(model: str, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": "Say hello."}],
        "max_tokens": 16,
    }
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


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
    d50, d99 = _percentile(direct, 50), _percentile(direct, 99)
    v50, v99 = _percentile(via, 50), _percentile(via, 99)
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
    args = parser.parse_args(argv)
    if not 1 <= args.n <= 100_000 or not 1 <= args.stream_n <= 100_000:
        parser.error("-n and --stream-n must be between 1 and 100000")

    fake: multiprocessing.Process | None = None
    stop = multiprocessing.Event()
    if args.upstream_url:
        upstream = args.upstream_url.rstrip("/")
        if urlparse(upstream).hostname not in LOOPBACK_HOSTS:
            parser.error("--upstream-url must be a loopback address")
    else:
        queue: Any = multiprocessing.Queue()
        fake = multiprocessing.Process(
            target=_serve_fake, args=(args.chunk_delay, queue, stop), daemon=True
        )
        fake.start()
        upstream = queue.get(timeout=30)

    port = _free_port()
    connector = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="connector-bench-") as data_dir:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CONNECTOR_", "OPENAI_"))},
            "OPENAI_BASE_URL": upstream,
            "OPENAI_API_KEY": args.api_key,
            "CONNECTOR_DATA_DIR": data_dir,
            "CONNECTOR_KEY_STORE": "memory",
            "CONNECTOR_LOG_LEVEL": "warning",
            "PYTHONPATH": str(REPO),
        }
        cmd = [
            sys.executable,
            "-m",
            "connector",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        proc = subprocess.Popen(cmd, env=env, cwd=data_dir)
        try:
            _wait_healthy(connector, proc)
            headers = {"Authorization": f"Bearer {args.api_key}"}
            # Without TCP_NODELAY, httpx's separate header and body writes meet the
            # peer's delayed ACK and every request would measure ~40 ms.
            nodelay = httpx.HTTPTransport(
                socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
            )
            with httpx.Client(timeout=args.timeout, headers=headers, transport=nodelay) as client:
                direct_url = f"{upstream}/chat/completions"
                via_url = f"{connector}/v1/chat/completions"
                plain, routed = _body(args.model, False), _body(f"openai/{args.model}", False)
                block = _measure(
                    args.n,
                    args.warmup,
                    lambda: _blocking(client, direct_url, plain),
                    lambda: _blocking(client, via_url, routed),
                )
                splain, srouted = _body(args.model, True), _body(f"openai/{args.model}", True)
                ttft = _measure(
                    args.stream_n,
                    min(args.warmup, 5),
                    lambda: _ttft(client, direct_url, splain),
                    lambda: _ttft(client, via_url, srouted),
                )
                usage = client.get(f"{connector}/usage").json()["totals"]
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            stop.set()
            if fake is not None:
                fake.join(5)

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
