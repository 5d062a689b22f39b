"""The latency benchmark runs against the real model server too (small sample here;
run it by hand with larger -n for numbers)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.llama.server import LlamaServer

REPO = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| (blocking latency \(ms\)|stream TTFT \(ms\))\s+\|(.+)\|$")


def test_bench_latency_runs_against_llama_server(llama: LlamaServer) -> None:
    cmd = [
        sys.executable,
        str(REPO / "benchmarks" / "bench_latency.py"),
        "--upstream-url", llama.openai_url,
        "--model", llama.model,
        "-n", "10",
        "--stream-n", "10",
        "--warmup", "2",
        "--surfaces", "v1",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    rows = {m.group(1): m.group(2) for m in map(ROW.match, done.stdout.splitlines()) if m}
    assert set(rows) == {"blocking latency (ms)", "stream TTFT (ms)"}, done.stdout
    for cells in rows.values():
        n, *numbers = (float(cell) for cell in cells.split("|"))
        assert n == 10
        direct50, _, via50, _, _, _ = numbers
        assert direct50 > 0 and via50 > 0
    assert "usage recorded by the connector: 25 requests (expected 25)" in done.stdout
