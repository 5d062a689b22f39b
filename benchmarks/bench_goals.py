"""Every row of the performance goals, for the connector beside a bare relay, on the
same mock upstream in the same run, per client surface.

For each surface a fresh bare relay (benchmarks/relay.py) and a fresh connector
(`python -m connector serve`, usage recording on) start in front of one fast mock
upstream (benchmarks/mock_upstream.py); the gateway under test runs on CPU 0, the mock
and the load generator (benchmarks/loadgen.py, this process) on CPU 1. Each row is
measured three ways: straight to the mock ("direct"), through the relay and through the
connector; "added" is a gateway's figure minus the direct one from the same rounds.

    python benchmarks/bench_goals.py                    # every surface, full samples
    python benchmarks/bench_goals.py --surfaces v1 --many-streams
    python benchmarks/bench_goals.py --quick            # tiny samples: proves it runs

Exits non-zero when the connector's /usage did not record exactly the requests routed
through it. See benchmarks/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_latency import SURFACES, _make_app_key
from harness import (
    BENCH_KEY,
    REPO,
    chat_body,
    connector_command,
    connector_env,
    cpu_s,
    free_port,
    percentile,
    pin,
    split_cpus,
    status_mb,
    stop_process,
)
from loadgen import (
    BadAnswer,
    Client,
    Target,
    blocking_ms,
    closed_loop,
    connect,
    encode,
    open_loop,
    paced_streams,
    stream,
)

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"

# A streamed chunk that carries output text, per wire format (the role chunk and
# Ollama's closing line carry an empty "content", which does not match).
OPENAI_TEXT = re.compile(rb'"content": ?"[^"]')
ANTHROPIC_TEXT = re.compile(rb'"text_delta"')
RESPONSES_TEXT = re.compile(rb"response\.output_text\.delta")


@dataclass(frozen=True)
class Surface:
    """A client surface of the connector and the upstream protocol behind it."""

    name: str
    path: str  # at the connector
    text: re.Pattern[bytes]
    upstream_path: str  # at the mock and the relay
    model_prefix: str  # how the connector is told which endpoint
    note: str = ""
    websocket: bool = False  # `path` is a WebSocket: requests are its chat messages

    def body(self, model: str, streamed: bool) -> bytes:
        dialect = "v1" if self.websocket else self.name
        return json.dumps(SURFACES[dialect].body(self.model_prefix + model, streamed)).encode()

    def upstream_body(self, model: str, streamed: bool) -> bytes:
        if self.upstream_path == "/api/chat":
            return json.dumps(SURFACES["ollama"].body(model, streamed)).encode()
        return json.dumps(chat_body(model, streamed)).encode()


_RELAYED_AS_OPENAI = (
    "the mock speaks neither this dialect nor its translation, so the relay column is the "
    "relay of the OpenAI path, and direct is the mock's /v1/chat/completions"
)
GOAL_SURFACES = {
    "v1": Surface("v1", "/v1/chat/completions", OPENAI_TEXT, "/v1/chat/completions", "openai/"),
    "ollama": Surface("ollama", "/api/chat", OPENAI_TEXT, "/api/chat", ""),
    "anthropic": Surface(
        "anthropic",
        "/v1/messages",
        ANTHROPIC_TEXT,
        "/v1/chat/completions",
        "openai/",
        _RELAYED_AS_OPENAI,
    ),
    "responses": Surface(
        "responses",
        "/v1/responses",
        RESPONSES_TEXT,
        "/v1/chat/completions",
        "openai/",
        _RELAYED_AS_OPENAI,
    ),
    "ws": Surface(
        "ws",
        "/ws/chat",
        OPENAI_TEXT,
        "/v1/chat/completions",
        "openai/",
        "one chat message per request on a kept socket; a socket's answer is always "
        "streamed, so its blocking figure is the time to its done message; direct and the "
        "relay are the OpenAI path over HTTP",
        websocket=True,
    ),
}


@dataclass(frozen=True)
class Pace:
    """A paced stream: `tokens` tokens `ms` apart, chosen at the mock by model name."""

    tokens: int
    ms: float

    @property
    def model(self) -> str:
        return f"bench-paced-{self.tokens}x{self.ms:g}"


def _pace(text: str) -> Pace:
    found = re.fullmatch(r"(\d+)x(\d+(?:\.\d+)?)", text)
    if not found or not 1 < int(found.group(1)) <= 10_000 or float(found.group(2)) > 10_000:
        raise argparse.ArgumentTypeError("TOKENSxMS, e.g. 60x50")
    return Pace(int(found.group(1)), float(found.group(2)))


def _counts(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("comma-separated whole numbers") from None
    if not values or any(not 0 < v <= 100_000 for v in values):
        raise argparse.ArgumentTypeError("comma-separated numbers in 1..100000")
    return values


# -- processes ---------------------------------------------------------------------


@dataclass
class Gateway:
    """A relay or the connector: its process, where it listens, how long it took from
    exec to its first proxied 200, and how many requests the polling sent it."""

    proc: subprocess.Popen[bytes]
    port: int
    start_s: float
    polls: int
    rss_start_mb: float = float("nan")


async def _start(
    cmd: list[str], env: dict[str, str], cwd: str, cpus: set[int] | None, probe: Target
) -> Gateway:
    """Exec `cmd` and send `probe` (a proxied request) until it answers 200."""
    started = time.perf_counter()
    # Popen itself: the exec is what is timed, with nothing else on this loop yet.
    proc = subprocess.Popen(cmd, env=env, cwd=cwd)  # noqa: ASYNC220
    pin(proc.pid, cpus)
    conn = connect(probe)
    answered = 0
    try:
        while time.perf_counter() - started < 60:
            if proc.poll() is not None:
                raise SystemExit(f"{cmd[1:3]} exited with {proc.returncode}")
            try:
                answer = await conn.send(probe.blocking)
            except (OSError, asyncio.IncompleteReadError, BadAnswer):
                # Not listening yet: nothing to wait on but the port itself.
                await asyncio.sleep(0.002)
                continue
            answered += 1
            if answer.status == 200:
                return Gateway(proc, probe.port, time.perf_counter() - started, answered)
            await asyncio.sleep(0.002)
        raise SystemExit(f"{cmd[1:3]} gave no 200 within 60 s")
    except BaseException:
        stop_process(proc)
        raise
    finally:
        conn.close()


@contextmanager
def running_mock(models: list[str], cpus: set[int] | None) -> Iterator[int]:
    cmd = [sys.executable, str(HERE / "mock_upstream.py"), "--models", ",".join(models)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    pin(proc.pid, cpus)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the bound port, once it listens
        if not line.strip().isdigit():
            raise SystemExit("the mock upstream did not start")
        yield int(line)
    finally:
        stop_process(proc)


# -- one surface ---------------------------------------------------------------------


@dataclass
class Sides:
    """One figure per side: direct (the mock), relay, connector."""

    direct: Any = None
    relay: Any = None
    connector: Any = None


@dataclass
class Results:
    latency: dict[str, Sides] = field(default_factory=dict)  # "p50", "p99" (ms)
    ttft_p50: Sides = field(default_factory=Sides)
    gap_p99: Sides = field(default_factory=Sides)
    open_loop: Sides = field(default_factory=Sides)  # req/s
    closed_loop: Sides = field(default_factory=Sides)  # req/s
    streams: Sides = field(default_factory=Sides)  # how many, all clean
    rss: Sides = field(default_factory=Sides)  # (start, peak) MB
    start_s: Sides = field(default_factory=Sides)
    # The gateways' own CPU: per blocking request (ms), per streamed token (us).
    cpu_request_ms: Sides = field(default_factory=Sides)
    cpu_token_us: Sides = field(default_factory=Sides)
    routed: int = 0  # requests that reached the connector: each leaves one usage record
    recorded: int = 0
    # The connector started again on the data directory of the run: (exec -> first
    # 200 s, RSS MB). Every start but an install's first is such a start.
    later_start: tuple[float, float] | None = None


SIDES = ("direct", "relay", "connector")


def _targets(
    surface: Surface, ports: dict[str, int], model: str, streamed: str, key: str | None
) -> dict[str, Target]:
    """The three sides' requests: the mock and the relay get the upstream protocol's
    body, the connector its own surface's."""
    out = {}
    for side, port in ports.items():
        if side == "connector":
            path, blocking, streaming = (
                surface.path,
                surface.body(model, False),
                surface.body(streamed, True),
            )
            text = surface.text
        else:
            path = surface.upstream_path
            blocking = surface.upstream_body(model, False)
            streaming = surface.upstream_body(streamed, True)
            text = OPENAI_TEXT
        if side == "connector" and surface.websocket:
            query = f"?{urllib.parse.urlencode({'token': key})}" if key else ""
            out[side] = Target(HOST, port, blocking, streaming, text, websocket=path + query)
            continue
        headers = {"Authorization": f"Bearer {BENCH_KEY}"}
        if key and side == "connector":
            headers["x-api-key"] = key
        out[side] = Target(
            HOST,
            port,
            encode(HOST, port, path, blocking, headers),
            encode(HOST, port, path, streaming, headers),
            text,
        )
    return out


async def _rounds(
    n: int, targets: dict[str, Target], measure: Callable[[Client], Awaitable[Any]]
) -> dict[str, list[Any]]:
    """`n` rounds, one request per side each, the order rotating round by round so
    drift on the machine hits every side alike."""
    conns = {side: connect(t) for side, t in targets.items()}
    got: dict[str, list[Any]] = {side: [] for side in targets}
    order = list(targets)
    try:
        for i in range(n):
            for side in order[i % 3 :] + order[: i % 3]:
                got[side].append(await measure(conns[side]))
    finally:
        for conn in conns.values():
            conn.close()
    return got


async def _open_loop_sweep(
    targets: dict[str, Target], args: argparse.Namespace, res: Results
) -> None:
    """Rate steps: each side's best is the highest rate with no errors whose p99 stays
    within the budget of the direct p99 at that rate (the direct side: of nothing).
    A side that misses a step gets a second try at it, as in the streams sweep: a
    shared machine pauses processes now and then (10-40 ms on the one the README's
    figures come from, the relay's too), and one pause inside a step's few seconds
    decides its p99. A side leaves the sweep when it misses twice;
    the sweep ends when the direct side does, since beyond that the mock and the load
    generator are what is measured."""
    best = dict.fromkeys(targets, 0.0)
    active = set(targets)
    for rate in args.rates:
        direct_p99 = 0.0
        for side in SIDES:
            if side not in active:
                continue
            for _attempt in range(2):
                step = await open_loop(targets[side], rate, args.seconds, args.timeout)
                if side == "connector":
                    res.routed += len(step.latencies_ms) + step.failures
                p99 = percentile(step.latencies_ms, 99)
                if side == "direct":
                    direct_p99 = p99
                if not step.failures and p99 - direct_p99 < args.budget:
                    best[side] = rate
                    break
            else:
                active.discard(side)
        if "direct" not in active or active == {"direct"}:
            break
    res.open_loop = Sides(**best)


async def _streams_sweep(paced: dict[str, Target], args: argparse.Namespace, res: Results) -> None:
    """Concurrent paced streams, in steps: a step is clean for a side when every
    stream arrived whole with no gap beyond `--stall` times the pacing. Each side gets
    a second try at a step before leaving the sweep (one stray pause should not end
    it); the sweep ends where the direct side is no longer clean."""
    limit = args.paced.ms * args.stall
    timeout = args.paced.tokens * args.paced.ms / 1000 * 4 + args.timeout
    best = dict.fromkeys(paced, 0)
    active = set(paced)
    for count in args.streams:
        for side in SIDES:
            if side not in active:
                continue
            for _ in range(2):
                worst, lost = await paced_streams(paced[side], count, args.ramp, timeout)
                if side == "connector":
                    res.routed += count
                clean = not lost and all(gap <= limit for gap in worst)
                if clean:
                    break
            if clean:
                best[side] = count
            else:
                active.discard(side)
        if "direct" not in active or active == {"direct"}:
            break
    res.streams = Sides(**best)


async def _recorded(connector_port: int, expected: int, wait: float) -> int:
    """The connector's usage count, polled until it reaches `expected` (records may be
    written just after the answer) or `wait` seconds pass."""
    deadline = time.monotonic() + wait
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{connector_port}", timeout=30) as c:
        while True:
            count = int((await c.get("/usage")).json()["totals"]["requests"])
            if count >= expected or time.monotonic() > deadline:
                return count
            await asyncio.sleep(0.05)


@dataclass
class Pair:
    """A fresh relay and connector in front of the mock, on the gateway's CPUs: their
    ports by side (`direct` is the mock), and how to start the connector again on the
    same data directory."""

    relay: Gateway
    connector: Gateway
    ports: dict[str, int]
    start_connector: Callable[[], Awaitable[Gateway]]


async def start_pair(
    surface: Surface, mock_port: int, cpus: set[int] | None, data_dir: str
) -> Pair:
    """Start the relay, then the connector with its data in `data_dir`, each timed from
    exec to its first proxied 200; the caller stops both."""
    mock = f"http://{HOST}:{mock_port}"
    relay_port, connector_port = free_port(), free_port()
    ports = {"direct": mock_port, "relay": relay_port, "connector": connector_port}
    probe = _targets(surface, ports, "bench", "bench", None)
    relay = await _start(
        [sys.executable, str(HERE / "relay.py"), "--upstream", mock, "--port", str(relay_port)],
        dict(os.environ),
        str(REPO),
        cpus,
        probe["relay"],
    )

    def start_connector() -> Awaitable[Gateway]:
        env = connector_env(mock + "/v1", BENCH_KEY, data_dir, mock)
        return _start(connector_command(connector_port), env, data_dir, cpus, probe["connector"])

    try:
        connector = await start_connector()
    except BaseException:
        stop_process(relay.proc)
        raise
    return Pair(relay, connector, ports, start_connector)


async def measure_surface(
    surface: Surface, mock_port: int, cpus: set[int] | None, args: argparse.Namespace
) -> Results:
    res = Results()
    with tempfile.TemporaryDirectory(prefix="connector-bench-") as data_dir:
        pair = await start_pair(surface, mock_port, cpus, data_dir)
        relay, connector, ports = pair.relay, pair.connector, pair.ports
        connector_port = ports["connector"]
        try:
            gateways = {"relay": relay, "connector": connector}
            for gw in gateways.values():
                gw.rss_start_mb = status_mb(gw.proc.pid, "VmRSS")
            res.routed += connector.polls
            key = _make_app_key(f"http://{HOST}:{connector_port}") if args.app_key else None
            targets = _targets(surface, ports, "bench", args.gap.model, key)
            pids = {side: gw.proc.pid for side, gw in gateways.items()}
            await _measure(targets, pids, args, res)
            await _token_cost(
                _targets(surface, ports, "bench", SHORT_PACE.model, key),
                _targets(surface, ports, "bench", LONG_PACE.model, key),
                pids,
                args,
                res,
            )
            paced = _targets(surface, ports, "bench", args.paced.model, key)
            await _streams_sweep(paced, args, res)
            res.rss = Sides(
                None,
                *((gw.rss_start_mb, status_mb(gw.proc.pid, "VmHWM")) for gw in gateways.values()),
            )
            res.start_s = Sides(None, relay.start_s, connector.start_s)
            res.recorded = await _recorded(connector_port, res.routed, args.usage_wait)
        finally:
            stop_process(connector.proc)
            stop_process(relay.proc)
        again = await pair.start_connector()
        res.later_start = (again.start_s, status_mb(again.proc.pid, "VmRSS"))
        stop_process(again.proc)
    return res


async def _measure(
    targets: dict[str, Target], pids: dict[str, int], args: argparse.Namespace, res: Results
) -> None:
    await _rounds(args.warmup, targets, blocking_ms)
    blocked = await _rounds(args.n, targets, blocking_ms)
    res.routed += args.warmup + args.n
    res.latency = {f"p{p}": Sides(*(percentile(blocked[s], p) for s in SIDES)) for p in (50, 99)}
    warm = min(args.warmup, 5)
    streams = await _rounds(warm + args.stream_n, targets, stream)
    res.routed += warm + args.stream_n
    kept = {side: got[warm:] for side, got in streams.items()}
    res.ttft_p50 = Sides(*(percentile([s.ttft_ms for s in kept[side]], 50) for side in SIDES))
    res.gap_p99 = Sides(
        *(percentile([g for s in kept[side] for g in s.gaps_ms], 99) for side in SIDES)
    )
    closed = {}
    cpu_ms = {}
    for side in SIDES:
        loop = await metered_loop(
            targets[side], pids.get(side), args.connections, args.closed_seconds
        )
        closed[side] = loop.done / args.closed_seconds
        if loop.cpu_ms is not None:
            cpu_ms[side] = loop.cpu_ms
        if side == "connector":
            res.routed += loop.done + loop.failed
    res.closed_loop = Sides(**closed)
    res.cpu_request_ms = Sides(**cpu_ms)
    await _open_loop_sweep(targets, args, res)


@dataclass
class Metered:
    """A closed loop's answers and failures, and the CPU a gateway used per answer
    (None for a side without a process of its own to measure: the direct calls)."""

    done: int
    failed: int
    cpu_ms: float | None


async def metered_loop(
    target: Target, pid: int | None, connections: int, seconds: float
) -> Metered:
    """`closed_loop`, with `pid`'s CPU time (from /proc) over the same loop."""
    before = cpu_s(pid) if pid else 0.0
    done, failed = await closed_loop(target, connections, seconds)
    cpu_ms = (cpu_s(pid) - before) * 1000 / max(done, 1) if pid else None
    return Metered(done, failed, cpu_ms)


# Streams of 2 and of 20 tokens 1 ms apart: the difference in a gateway's CPU per
# request over the 18 tokens more is its cost per streamed token.
SHORT_PACE, LONG_PACE = Pace(2, 1), Pace(20, 1)


async def _token_cost(
    short: dict[str, Target],
    long: dict[str, Target],
    pids: dict[str, int],
    args: argparse.Namespace,
    res: Results,
) -> None:
    """Each gateway's CPU per streamed token, from closed loops of streamed requests
    (the tokens arrive one by one, as from a model, each its own network read)."""
    per_token = {}
    for side, pid in pids.items():
        per_request_ms = []
        for targets in (short, long):
            streamed = dataclasses.replace(targets[side], blocking=targets[side].streaming)
            loop = await metered_loop(streamed, pid, args.connections, args.closed_seconds)
            assert loop.cpu_ms is not None
            per_request_ms.append(loop.cpu_ms)
            if side == "connector":
                res.routed += loop.done + loop.failed
        extra = LONG_PACE.tokens - SHORT_PACE.tokens
        per_token[side] = (per_request_ms[1] - per_request_ms[0]) / extra * 1e3
    res.cpu_token_us = Sides(**per_token)


# -- the table -----------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    label: str
    goal: str
    # The connector's figure (added, where the row is about what it adds) -> goal met?
    met: Callable[[Results], bool]


def _added(sides: Sides, side: str) -> float:
    return float(getattr(sides, side)) - float(sides.direct)


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return " / ".join(_fmt(v, digits) for v in value)
    if isinstance(value, int) or (isinstance(value, float) and digits == 0):
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _cells(res: Results, key: str) -> tuple[str, ...]:
    """direct, relay, connector, relay added, connector added."""
    if key == "latency":
        p50, p99 = res.latency["p50"], res.latency["p99"]
        sides = tuple(_fmt((getattr(p50, s), getattr(p99, s))) for s in SIDES)
        added = tuple(
            " / ".join(f"{_added(p, s):+.2f}" for p in (p50, p99)) for s in ("relay", "connector")
        )
        return (*sides, *added)
    if key in ("ttft_p50", "gap_p99"):
        sides_ = getattr(res, key)
        return (
            *(_fmt(getattr(sides_, s)) for s in SIDES),
            *(f"{_added(sides_, s):+.2f}" for s in ("relay", "connector")),
        )
    if key == "rss":
        return (*(_fmt(getattr(res.rss, s), 0) for s in SIDES), "-", "-")
    if key == "start_s":
        return (*(_fmt(getattr(res.start_s, s)) for s in SIDES), "-", "-")
    sides_ = getattr(res, key)
    return (*(_fmt(getattr(sides_, s), 0) for s in SIDES), "-", "-")


def _rows(args: argparse.Namespace) -> list[tuple[str, Row]]:
    paced = f"{args.paced.tokens} x {args.paced.ms:g} ms"
    return [
        (
            "latency",
            Row(
                "added latency, blocking, c=1, p50 / p99 (ms)",
                "<= 0.6 / <= 1.5",
                lambda r: (
                    _added(r.latency["p50"], "connector") <= 0.6
                    and _added(r.latency["p99"], "connector") <= 1.5
                ),
            ),
        ),
        (
            "ttft_p50",
            Row(
                "added time to first token, p50 (ms)",
                "<= 1.2",
                lambda r: _added(r.ttft_p50, "connector") <= 1.2,
            ),
        ),
        (
            "gap_p99",
            Row(
                "added inter-chunk gap, p99 (ms)",
                "<= 0.15",
                lambda r: _added(r.gap_p99, "connector") <= 0.15,
            ),
        ),
        (
            "open_loop",
            Row(
                f"highest open-loop rate, 0 errors, added p99 < {args.budget:g} ms (req/s)",
                ">= 2,400",
                lambda r: r.open_loop.connector >= 2400,
            ),
        ),
        (
            "closed_loop",
            Row(
                f"closed loop, {args.connections} connections (req/s)",
                ">= 4,300",
                lambda r: r.closed_loop.connector >= 4300,
            ),
        ),
        (
            "streams",
            Row(
                f"concurrent paced streams ({paced}), all clean",
                ">= 500",
                lambda r: r.streams.connector >= 500,
            ),
        ),
        (
            "rss",
            Row(
                "RSS after start / peak under load (MB)",
                "<= 80 / <= 128",
                lambda r: r.rss.connector[0] <= 80 and r.rss.connector[1] <= 128,
            ),
        ),
        (
            "start_s",
            Row(
                "process exec -> first proxied 200 (s)",
                "<= 0.5",
                lambda r: r.start_s.connector <= 0.5,
            ),
        ),
    ]


def table(surface: Surface, res: Results, args: argparse.Namespace) -> list[str]:
    head = (
        "metric",
        "direct",
        "relay",
        "connector",
        "relay added",
        "connector added",
        "goal",
        "met",
    )
    lines = [
        f"\n## {surface.name}: {surface.path} (upstream {surface.upstream_path})",
        *([f"note: {surface.note}"] if surface.note else []),
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" for _ in head) + "|",
    ]
    for key, row in _rows(args):
        cells = (row.label, *_cells(res, key), row.goal, "yes" if row.met(res) else "no")
        lines.append("| " + " | ".join(cells) + " |")
    cpu_ms, cpu_us = res.cpu_request_ms, res.cpu_token_us
    lines.append(
        f"gateway CPU: connector {cpu_ms.connector:.2f} ms per blocking request "
        f"(relay {cpu_ms.relay:.2f}), {cpu_us.connector:.0f} us per streamed token "
        f"(relay {cpu_us.relay:.0f})"
    )
    lines.append(f"usage records: {res.recorded} of {res.routed} routed requests")
    if res.later_start is not None:
        start_s, rss_mb = res.later_start
        lines.append(
            f"connector started again on the run's data directory: exec -> first proxied "
            f"200 {start_s:.2f} s, RSS after start {rss_mb:.0f} MB"
        )
    return lines


# -- entry point ---------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--surfaces",
        default="v1,ollama,anthropic,responses,ws",
        help=f"comma-separated, of {', '.join(GOAL_SURFACES)}",
    )
    parser.add_argument("--quick", action="store_true", help="tiny samples: proves it runs")
    parser.add_argument("-n", type=int, default=300, help="blocking rounds (each side)")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--stream-n", type=int, default=100, help="stream rounds for TTFT/gaps")
    parser.add_argument(
        "--gap", type=_pace, default=Pace(20, 2), help="the TTFT/gap stream, TOKENSxMS"
    )
    parser.add_argument(
        "--rates",
        type=_counts,
        default=_counts("250,500,1000,1500,2000,2500,3000,4000,5000,6000,8000,10000,12000"),
        help="open-loop steps, req/s",
    )
    parser.add_argument("--seconds", type=float, default=2.0, help="per open-loop step")
    parser.add_argument("--budget", type=float, default=10.0, help="ms a gateway may add")
    parser.add_argument("--connections", type=int, default=8, help="closed-loop clients")
    parser.add_argument("--closed-seconds", type=float, default=3.0)
    parser.add_argument("--paced", type=_pace, default=Pace(60, 50), help="TOKENSxMS")
    parser.add_argument(
        "--stall",
        type=float,
        default=2.0,
        help="a paced stream is clean while no gap exceeds this many times the pacing",
    )
    parser.add_argument("--streams", type=_counts, default=_counts("50,100,200,500"))
    parser.add_argument(
        "--many-streams", action="store_true", help="add a step of 1,000 paced streams"
    )
    parser.add_argument("--ramp", type=float, default=1.0, help="s over which streams start")
    parser.add_argument("--timeout", type=float, default=30.0, help="per request, seconds")
    parser.add_argument("--usage-wait", type=float, default=10.0, help="s for records to land")
    parser.add_argument("--app-key", action="store_true", help="send an app key with budgets")
    parser.add_argument("--no-pin", action="store_true", help="let every process use any CPU")
    return parser


QUICK = {
    "n": 20,
    "warmup": 3,
    "stream_n": 6,
    "gap": Pace(5, 2),
    "rates": [50, 100],
    "seconds": 0.3,
    "closed_seconds": 0.3,
    "paced": Pace(5, 20),
    "streams": [4],
    "ramp": 0.05,
}


# A fixed piece of work, timed again and again with a short sleep between (a request's
# duty cycle), in a process of its own on the gateway's CPU.
_STEADINESS = """
import sys, time
def work():
    x = 1
    for _ in range(20_000):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
    return x
took = []
end = time.perf_counter() + float(sys.argv[1])
while time.perf_counter() < end:
    started = time.perf_counter()
    work()
    took.append(time.perf_counter() - started)
    time.sleep(0.001)
took.sort()
print(len(took), took[0], took[len(took) * 99 // 100], took[-1],
      sum(t > 2 * took[0] for t in took))
"""


def steadiness(cpus: set[int] | None, seconds: float) -> str:
    """How steady the gateway's CPU is before anything runs on it: on a shared machine
    the same work now and then takes several times as long (the host runs something
    else), a pause every gateway sees and the open-loop and stream rows feel first."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _STEADINESS, str(seconds)], stdout=subprocess.PIPE, text=True
    )
    pin(proc.pid, cpus)
    out, _ = proc.communicate(timeout=seconds + 30)
    tries, best, p99, worst, slow = out.split()
    share = int(slow) / int(tries) * 100
    return (
        f"machine: the same work on the gateway's CPU took {float(best) * 1000:.2f} ms at best, "
        f"{float(p99) * 1000:.2f} ms at p99 and {float(worst) * 1000:.2f} ms at worst; "
        f"{share:.1f} % of {int(tries):,} tries took over twice the best"
    )


async def _run(args: argparse.Namespace, surfaces: list[Surface]) -> int:
    split = None if args.no_pin else split_cpus()
    gateway_cpus, other_cpus = split if split else (None, None)
    if split:
        pin(os.getpid(), other_cpus)
        print(f"gateway on CPU {sorted(split[0])}; mock and load generator on {sorted(split[1])}")
    print(steadiness(gateway_cpus, 0.3 if args.quick else 3.0), flush=True)
    models = ["bench", args.gap.model, args.paced.model, SHORT_PACE.model, LONG_PACE.model]
    failed = False
    with running_mock(models, other_cpus) as mock_port:
        for surface in surfaces:
            res = await measure_surface(surface, mock_port, gateway_cpus, args)
            print("\n".join(table(surface, res, args)), flush=True)
            if res.recorded != res.routed:
                print(f"the connector recorded {res.recorded}, expected {res.routed}")
                failed = True
    print(
        "\ndirect = the mock called by this load generator: its closed-loop figure is the "
        "ceiling the load generator reaches"
    )
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.quick:
        for name, value in QUICK.items():
            setattr(args, name, value)
    if args.many_streams and 1000 not in args.streams:
        args.streams = [*args.streams, 1000]
    if not 0.1 <= args.seconds <= 60 or not 0.1 <= args.closed_seconds <= 60:
        parser.error("--seconds and --closed-seconds must be between 0.1 and 60")
    if not 1 < args.stall <= 100:
        parser.error("--stall must be above 1 and at most 100")
    if not 1 <= args.n <= 100_000 or not 1 <= args.stream_n <= 100_000:
        parser.error("-n and --stream-n must be between 1 and 100000")
    names = [s.strip() for s in args.surfaces.split(",") if s.strip()]
    unknown = set(names) - set(GOAL_SURFACES)
    if unknown or not names:
        parser.error(f"unknown surfaces {sorted(unknown)}; choose from {list(GOAL_SURFACES)}")
    return uvloop.run(_run(args, [GOAL_SURFACES[n] for n in names]))


if __name__ == "__main__":
    raise SystemExit(main())
