"""The benchmark scripts run end to end against the built-in fake upstream and check
their own bookkeeping (every routed request left one usage record). Small samples:
these prove the scripts work, they do not measure anything."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(script: str, *args: str) -> str:
    cmd = [sys.executable, str(REPO / "benchmarks" / script), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, cwd=REPO)
    assert done.returncode == 0, f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_bench_latency_on_the_fake_upstream() -> None:
    out = _run("bench_latency.py", "-n", "8", "--stream-n", "4", "--warmup", "2")
    # Each of the four surfaces: 2 + 8 blocking, 2 + 4 streams and one probe, each recorded.
    assert "usage recorded by the connector: 68 requests (expected 68)" in out
    for surface in ("", "/api/chat ", "/v1/messages ", "/v1/responses "):
        label = re.escape(surface)
        assert re.search(rf"^\| {label}blocking latency \(ms\)\s+\|\s+8 \|", out, re.M), out
        assert re.search(rf"^\| {label}stream TTFT \(ms\)\s+\|\s+4 \|", out, re.M), out


def test_bench_throughput_on_the_fake_upstream() -> None:
    out = _run(
        "bench_throughput.py",
        "--rates", "20,40",
        "--seconds", "0.5",
        "--streams", "2,4",
        "--stream-tokens", "5",
        "--ramp", "0.1",
        "--budget", "1000",  # a loaded CI machine must not end the sweep early
    )  # fmt: skip
    rates = re.findall(r"^\|\s+(\d+) \|.*\|\s+(\d+)/(\d+)\s+\|$", out, re.M)
    assert [(r, done, lost) for r, done, lost in rates] == [("20", "10", "0"), ("40", "20", "0")]
    assert "max req/s with added p99 <= 1000.0 ms: 40" in out
    assert "clean paced streams: 4" in out
    # 10 warm-up requests, 30 in the rate steps and 6 streams, each recorded once.
    assert "usage records 46 of 46 requests (0 errors, 0 cancelled)" in out
