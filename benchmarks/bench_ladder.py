"""What each of a gateway's requirements costs per blocking request on one core: the
bare relay, the rungs of `ladder.py` (each adds one requirement), and the connector,
side by side on the same mock upstream in the same run.

    python benchmarks/bench_ladder.py                  # 3 rounds of 3 s per gateway
    python benchmarks/bench_ladder.py --rounds 5 --seconds 5
    python benchmarks/bench_ladder.py --quick          # 1 round of 1 s: proves it runs

As in bench_goals.py, the gateways run on CPU 0, the mock and the load generator on
CPU 1. Every gateway is started first; then each round runs a closed loop (8
connections) through each in turn, with the gateway's CPU per request read from /proc
over the loop. The figures are medians over the rounds. On a saturated core a gateway's
closed-loop rate is about one over its CPU per request, so the issue's closed-loop goal
(4,300 req/s) is a budget of about 233 us per request, and the last column says how much
of it a rung has spent.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_goals import (
    GOAL_SURFACES,
    HOST,
    Gateway,
    _start,
    _targets,
    metered_loop,
    running_mock,
    start_pair,
)
from harness import REPO, free_port, pin, split_cpus, stop_process
from ladder import RUNGS
from loadgen import Target, closed_loop

HERE = Path(__file__).resolve().parent
GOAL_PER_S = 4300  # the closed-loop goal, on one core

WHAT = {
    "relay": "bare relay: plain ASGI on uvicorn, aiohttp to the upstream, bytes through",
    "h1": "the same on the connector's HTTP/1.1 client",
    "validate": "+ the request validated by ChatRequest, the answer parsed and written",
    "stream": "+ the upstream asked for a stream, its events joined into the answer",
    "record": "+ a usage row committed to SQLite (WAL) before the answer",
    "framework": "+ FastAPI's app around it, as the connector's fast path",
    "connector": "the connector: keys, budgets, prices, routing, totals, metrics, dialects",
}


def _target(port: int, side: str) -> Target:
    """A blocking OpenAI chat request at `port`: the connector's names its endpoint
    (`openai/bench`), the relay's and the rungs' go to the mock as they are."""
    return _targets(GOAL_SURFACES["v1"], {side: port}, "bench", "bench", None)[side]


@dataclass
class Rung:
    name: str
    gateway: Gateway
    per_s: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)


async def _run(args: argparse.Namespace) -> int:
    split = split_cpus()
    cpus, others = split if split else (None, None)
    if others:
        pin(os.getpid(), others)
    with (
        running_mock(["bench"], others) as mock_port,
        tempfile.TemporaryDirectory(prefix="connector-ladder-") as data_dir,
    ):
        mock = f"http://{HOST}:{mock_port}"
        pair = await start_pair(GOAL_SURFACES["v1"], mock_port, cpus, data_dir)
        started = {"relay": pair.relay, "connector": pair.connector}
        try:
            for number, name in enumerate(RUNGS, 1):
                port = free_port()
                cmd = [
                    sys.executable, str(HERE / "ladder.py"), "--rung", str(number),
                    "--upstream", mock, "--port", str(port), "--data", data_dir,
                ]  # fmt: skip
                started[name] = await _start(
                    cmd, dict(os.environ), str(REPO), cpus, _target(port, "relay")
                )
            rungs = [Rung(name, started[name]) for name in ("relay", *RUNGS, "connector")]
            targets = {
                rung.name: _target(rung.gateway.port, "connector" if rung is rungs[-1] else "relay")
                for rung in rungs
            }
            for rung in rungs:  # all warm before any is measured
                await closed_loop(targets[rung.name], args.connections, 1.0)
            for _ in range(args.rounds):
                for rung in rungs:
                    loop = await metered_loop(
                        targets[rung.name], rung.gateway.proc.pid, args.connections, args.seconds
                    )
                    if loop.failed or not loop.done or loop.cpu_ms is None:
                        raise SystemExit(
                            f"{rung.name}: {loop.failed} failures and {loop.done} answers"
                        )
                    rung.per_s.append(loop.done / args.seconds)
                    rung.cpu_us.append(loop.cpu_ms * 1000)
        finally:
            for gateway in started.values():
                stop_process(gateway.proc)
    _print(rungs, cpus, args)
    return 0


def _print(rungs: list[Rung], cpus: set[int] | None, args: argparse.Namespace) -> None:
    budget = 1e6 / GOAL_PER_S
    print(
        f"gateways on CPU {sorted(cpus) if cpus else 'any'}; closed loop of {args.connections}"
        f" connections, {args.rounds} rounds of {args.seconds:g} s; medians. The goal of"
        f" {GOAL_PER_S:,} req/s is {budget:.0f} us of CPU per request."
    )
    print("| gateway | what it adds | CPU us per request | added over the row above | req/s |"
          " share of the budget |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    below = None
    for rung in rungs:
        cpu = statistics.median(rung.cpu_us)
        added = "" if below is None else f"{cpu - below:+.0f}"
        print(
            f"| {rung.name} | {WHAT[rung.name]} | {cpu:.0f} | {added} |"
            f" {statistics.median(rung.per_s):,.0f} | {cpu / budget * 100:.0f} % |"
        )
        below = cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="closed loop per gateway")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="1 round of 1 s: proves it runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds = 1, 1.0
    if not 1 <= args.rounds <= 20 or not 0.5 <= args.seconds <= 60:
        parser.error("--rounds 1-20, --seconds 0.5-60")
    if not 1 <= args.connections <= 256:
        parser.error("--connections 1-256")
    return uvloop.run(_run(args))


if __name__ == "__main__":
    raise SystemExit(main())
