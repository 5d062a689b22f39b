"""What the benchmarks share: a fake OpenAI-compatible upstream in its own process,
the connector started as `python -m connector serve`, loopback checks, percentiles."""

from __future__ import annotations

import gc
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parent.parent
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
BENCH_KEY = "sk-bench-not-a-real-key"

# The benchmarks reuse the test suite's fake upstream and server helpers.
sys.path.insert(0, str(REPO))
from tests.fakes.server import free_port, wait_healthy  # noqa: E402


def _serve_fake(chunk_delay: float, stream_tokens: int | None, queue: Any, stop: Any) -> None:
    from tests.fakes.upstream import FakeUpstream

    with FakeUpstream() as up:
        up.chunk_delay = chunk_delay
        if stream_tokens:
            # The fake's "slow" scenario streams a given number of tokens at a given
            # pace (its blocking answers stall, so use it for streams only).
            up.scenario, up.slow_chunks, up.slow_delay = "slow", stream_tokens, chunk_delay
        settle_heap()
        queue.put(up.openai_url)
        stop.wait(3600)


@contextmanager
def upstream_url(
    given: str | None,
    chunk_delay: float,
    stream_tokens: int | None = None,
    cpus: set[int] | None = None,
) -> Iterator[str]:
    """`given` (which must be loopback), or a fake upstream's URL while it runs.
    `stream_tokens`: the fake streams that many tokens instead of its recorded answer."""
    if given:
        url = given.rstrip("/")
        if urlparse(url).hostname not in LOOPBACK_HOSTS:
            raise SystemExit("--upstream-url must be a loopback address")
        yield url
        return
    stop = multiprocessing.Event()
    queue: Any = multiprocessing.Queue()
    fake = multiprocessing.Process(
        target=_serve_fake, args=(chunk_delay, stream_tokens, queue, stop), daemon=True
    )
    fake.start()
    pin(fake.pid or 0, cpus)
    try:
        yield queue.get(timeout=30)
    finally:
        stop.set()
        fake.join(5)


def settle_heap() -> None:
    """Keep full garbage collections of the start-up heap out of the measurements
    (they pause a process for tens of milliseconds), as the connector itself does."""
    gc.collect()
    gc.freeze()


def split_cpus() -> tuple[set[int], set[int]] | None:
    """One CPU for the connector, the rest for the upstream and the load generator,
    so the connector's cost shows instead of three processes fighting over cores.
    None where affinity is unavailable or there is a single CPU."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    return {cpus[0]}, set(cpus[1:])


def pin(pid: int, cpus: set[int] | None) -> None:
    if cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(pid, cpus)


def take_cpus(enabled: bool) -> tuple[set[int] | None, set[int] | None]:
    """CPUs for (the connector, everything else); this process moves to the latter."""
    split = split_cpus() if enabled else None
    if split is None:
        return None, None
    mine, others = split
    pin(os.getpid(), others)
    print(f"connector on CPU {sorted(mine)}; upstream and load on CPU {sorted(others)}")
    return mine, others


def connector_env(upstream: str, api_key: str, data_dir: str, ollama: str | None) -> dict[str, str]:
    """The environment the connector is benchmarked in: usage recording on, data in
    `data_dir`, `upstream` (OpenAI-compatible) and `ollama` (Ollama's API) as its
    endpoints, nothing inherited that configures it otherwise."""
    return {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CONNECTOR_", "OPENAI_", "OLLAMA_"))
        },
        **({"OLLAMA_BASE_URL": ollama} if ollama else {}),
        "OPENAI_BASE_URL": upstream,
        "OPENAI_API_KEY": api_key,
        "CONNECTOR_DATA_DIR": data_dir,
        "CONNECTOR_KEY_STORE": "memory",
        "CONNECTOR_LOG_LEVEL": "warning",
        "PYTHONPATH": str(REPO),
    }


def connector_command(port: int) -> list[str]:
    return [sys.executable, "-m", "connector", "serve", "--host", "127.0.0.1", "--port", str(port)]


@contextmanager
def running_connector(
    upstream: str,
    api_key: str,
    cpus: set[int] | None = None,
    ollama: str | None = None,
) -> Iterator[tuple[str, int]]:
    """The connector (usage recording on, data in a temporary directory) in front of
    `upstream` (OpenAI-compatible) and `ollama` (Ollama's API) when given; yields its URL
    and process id."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="connector-bench-") as data_dir:
        env = connector_env(upstream, api_key, data_dir, ollama)
        proc = subprocess.Popen(connector_command(port), env=env, cwd=data_dir)
        pin(proc.pid, cpus)
        try:
            wait_healthy(url, proc, timeout=60)
            yield url, proc.pid
        finally:
            stop_process(proc)


def stop_process(proc: subprocess.Popen[Any]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def nodelay_socket_options() -> list[tuple[int, int, int]]:
    # Without TCP_NODELAY, httpx's separate header and body writes meet the peer's
    # delayed ACK and every request would measure ~40 ms.
    return [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]


def fake_ollama_url(upstream: str, given: str | None) -> str | None:
    """The fake upstream serves Ollama's API beside its OpenAI one (`/v1`); a given
    upstream is OpenAI-compatible only."""
    return None if given else upstream.removesuffix("/v1")


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def chat_body(model: str, stream: bool, max_tokens: int = 16) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": "Say hello."}],
        "max_tokens": max_tokens,
    }
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def proc_kb(path: str, field: str) -> int | None:
    """A `Field:   123 kB` figure from a /proc file (Linux); None where it is missing."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; NaN where /proc is
    missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_mb(pid: int, field: str) -> float:
    """A memory figure of a process in MB: `VmRSS` is resident now, `VmHWM` the peak.
    NaN where /proc is missing."""
    kb = proc_kb(f"/proc/{pid}/status", field)
    return float("nan") if kb is None else kb / 1024
