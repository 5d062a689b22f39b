"""Where a blocking request's CPU time goes: the connector sampled by py-spy during a
closed loop, each sample put to the stage of the connector that was running, beside the
bare relay's CPU per request in the same run and on the same mock upstream.

    python benchmarks/bench_profile.py                        # every surface, 5 s each
    python benchmarks/bench_profile.py --surfaces v1 --seconds 10 --rate 2000 --keep profiles
    python benchmarks/bench_profile.py --stream                # streamed answers instead

As in bench_goals.py, the gateways run on one CPU and the mock and the load generator on
the other. A sample belongs to the innermost frame of the connector's own code on its
stack: a pydantic model built by the chat path counts as the chat path's, a socket write
by the upstream client as the client's. A sample with no connector frame belongs to the
library running it (uvicorn's protocol, the event loop). The figures in microseconds are
each stage's share of the samples times the connector's CPU per request, measured from
/proc over the same closed loop, so the stages add up to that figure.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_goals import GOAL_SURFACES, Gateway, _targets, metered_loop, running_mock, start_pair
from harness import (
    pin,
    split_cpus,
    stop_process,
)
from loadgen import Target, closed_loop

HERE = Path(__file__).resolve().parent

# (stage, pattern on a frame's file), tried on each frame from the innermost out: the
# first frame that matches one names the sample's stage. Libraries the connector calls
# for its own work (pydantic, orjson, sqlite3) match none, so their time is the
# calling stage's; the servers' own frames (uvicorn, Starlette, the event loop) are
# stages of their own. The process's entry (`serving.py`, which runs the loop) is none.
STAGES = (
    ("usage record, committed before the answer", r"connector/services/(recorder|loop_sqlite)"),
    ("live totals, monitor, /metrics", r"connector/services/(usage|monitor|metrics)\.py"),
    ("budgets, prices, the caller", r"connector/services/(budgets|pricing|callers|app_keys)"),
    ("chat path (services/chat.py)", r"connector/services/chat\.py"),
    ("upstream HTTP client (providers/h1.py, http.py)", r"connector/providers/(h1|http)\.py"),
    ("upstream request and answer (the provider)", r"connector/providers/"),
    ("dialect translation (dialects/)", r"connector/dialects/"),
    ("routes, middleware, fast path (api/)", r"connector/api/"),
    ("stored responses (services/responses_store.py)", r"connector/services/responses_store"),
    ("other connector code", r"connector/(?!serving\.py|cli\.py|__main__\.py)"),
    ("uvicorn (HTTP server)", r"uvicorn/"),
    ("Starlette, FastAPI", r"starlette/|fastapi/"),
    ("event loop (uvloop, asyncio), threads", r"asyncio/|uvloop|threading\.py|concurrent/"),
)
_FILE = re.compile(r"\(([^():]+)(?::\d+)?\)$")


def stage_of(stack: str) -> str:
    """The stage of one sample, a py-spy raw stack (frames root first, `;` between)."""
    for frame in reversed(stack.split(";")):
        found = _FILE.search(frame)
        where = found.group(1) if found else ""
        for stage, pattern in STAGES:
            if re.search(pattern, where):
                return stage
    return "other"


def stages(raw: str) -> Counter[str]:
    """Samples per stage from py-spy's raw output (one `stack count` per line)."""
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            counts[stage_of(stack)] += int(count)
    return counts


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).is_file():
        raise SystemExit(
            "py-spy is not installed (it comes with the dev extra: pip install -e .[dev])"
        )
    return found


@dataclass
class Loop:
    per_s: float
    cpu_ms: float  # the gateway's CPU per request


async def _loop(gw: Gateway, target: Target, args: argparse.Namespace) -> Loop:
    loop = await metered_loop(target, gw.proc.pid, args.connections, args.seconds)
    if loop.failed or not loop.done or loop.cpu_ms is None:
        raise SystemExit(f"the closed loop had {loop.failed} failures and {loop.done} answers")
    return Loop(loop.done / args.seconds, loop.cpu_ms)


async def _surface(
    name: str,
    mock_port: int,
    cpus: set[int] | None,
    others: set[int] | None,
    args: argparse.Namespace,
    spy: str,
) -> None:
    surface = GOAL_SURFACES[name]
    with tempfile.TemporaryDirectory(prefix="connector-profile-") as data_dir:
        pair = await start_pair(surface, mock_port, cpus, data_dir)
        relay, connector = pair.relay, pair.connector
        targets = _targets(surface, pair.ports, "bench", "bench", None)
        if args.stream:  # each request of the loop asks for its answer streamed
            targets = {k: dataclasses.replace(t, blocking=t.streaming) for k, t in targets.items()}
        try:
            for side in ("relay", "connector"):  # both warm before either is measured
                await closed_loop(targets[side], args.connections, min(1.0, args.seconds))
            relayed = await _loop(relay, targets["relay"], args)
            out = Path(data_dir, "profile.txt")
            sampler = await asyncio.create_subprocess_exec(
                spy, "record", "--pid", str(connector.proc.pid), "--rate", str(args.rate),
                "--duration", str(max(1, int(args.seconds))), "--format", "raw",
                "--output", str(out), "--nonblocking",
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )  # fmt: skip
            if sampler.pid is not None:
                pin(sampler.pid, others)
            measured = await _loop(connector, targets["connector"], args)
            _, err = await sampler.communicate()
            raw = await asyncio.to_thread(lambda: out.read_text() if out.is_file() else "")
            if sampler.returncode != 0 or not raw:
                raise SystemExit(f"py-spy could not sample the connector: {err.decode()[-500:]}")
            counts = stages(raw)
            if args.keep is not None:
                await asyncio.to_thread((args.keep / f"{name}.txt").write_text, raw)
        finally:
            stop_process(connector.proc)
            stop_process(relay.proc)
    total = sum(counts.values())
    if not total:
        raise SystemExit("py-spy took no samples of the connector")
    kind = "streamed" if args.stream else "blocking"
    print(f"\n## {name}: {surface.path}, {kind}, closed loop of {args.connections} connections")
    print(
        f"relay {relayed.per_s:,.0f} req/s, {relayed.cpu_ms:.3f} ms CPU per request; "
        f"connector {measured.per_s:,.0f} req/s, {measured.cpu_ms:.3f} ms CPU per request; "
        f"{total:,} samples"
    )
    print(f"| stage | us per {kind} request | share |")
    print("|---|---|---|")
    for stage, count in counts.most_common():
        share = count / total
        print(f"| {stage} | {share * measured.cpu_ms * 1000:.1f} | {share * 100:.1f} % |")


async def _run(args: argparse.Namespace) -> int:
    spy = py_spy()
    split = split_cpus()
    cpus, others = split if split else (None, None)
    if others:
        pin(os.getpid(), others)
    print(f"gateway on CPU {sorted(cpus) if cpus else 'any'}; py-spy at {args.rate} Hz")
    with running_mock(["bench"], others) as mock_port:
        for name in args.surfaces:
            await _surface(name, mock_port, cpus, others, args, spy)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--surfaces", default="v1,ollama,anthropic,responses,ws")
    parser.add_argument("--seconds", type=float, default=5.0, help="closed loop per side")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rate", type=int, default=1000, help="py-spy samples per second")
    parser.add_argument("--stream", action="store_true", help="streamed requests, not blocking")
    parser.add_argument("--quick", action="store_true", help="1 s loops: proves it runs")
    parser.add_argument(
        "--keep", type=Path, help="directory to keep py-spy's raw samples in (<surface>.txt)"
    )
    args = parser.parse_args(argv)
    args.surfaces = [s.strip() for s in args.surfaces.split(",") if s.strip()]
    unknown = set(args.surfaces) - set(GOAL_SURFACES)
    if unknown or not 1 <= args.connections <= 256 or not 10 <= args.rate <= 10_000:
        parser.error(f"surfaces: {', '.join(GOAL_SURFACES)}; connections 1-256; rate 10-10,000")
    if args.quick:
        args.seconds = 1.0
    if not 0.5 <= args.seconds <= 120:
        parser.error("--seconds must be 0.5 ... 120")
    if args.keep is not None:  # made before the run, not found missing after it
        args.keep.mkdir(parents=True, exist_ok=True)
    return uvloop.run(_run(args))


if __name__ == "__main__":
    raise SystemExit(main())
