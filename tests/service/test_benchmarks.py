"""The benchmark scripts run end to end against the built-in fake upstream and check
their own bookkeeping (every routed request left one usage record). Small samples:
these prove the scripts work, they do not measure anything."""

from __future__ import annotations

import json
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


GOAL_ROWS = (
    "added latency, blocking, c=1, p50 / p99 (ms)",
    "added time to first token, p50 (ms)",
    "added inter-chunk gap, p99 (ms)",
    "highest open-loop rate, 0 errors, added p99 < 10 ms (req/s)",
    "closed loop, 8 connections (req/s)",
    "concurrent paced streams (5 x 20 ms), all clean",
    "RSS after start / peak under load (MB)",
    "process exec -> first proxied 200 (s)",
)
_NUMBER = r"[+-]?[\d,]+(?:\.\d+)?"


def test_bench_goals_prints_every_goal_row_for_every_surface() -> None:
    out = _run("bench_goals.py", "--quick")
    # The machine's own steadiness, measured before any gateway runs.
    assert re.search(
        rf"^machine: .* took {_NUMBER} ms at best, {_NUMBER} ms at p99 and {_NUMBER} ms at "
        rf"worst; {_NUMBER} % of {_NUMBER} tries took over twice the best$",
        out,
        re.M,
    ), out
    tables = re.split(r"^## ", out, flags=re.M)[1:]
    surfaces = [t.split(":")[0] for t in tables]
    assert surfaces == ["v1", "ollama", "anthropic", "responses", "ws"], out
    for text in tables:
        rows = {
            cells[0]: cells[1:]
            for line in text.splitlines()
            if line.startswith("| ") and not line.startswith("| metric")
            for cells in [[c.strip() for c in line.strip("|").split("|")]]
        }
        assert list(rows) == list(GOAL_ROWS), text
        for label, (direct, relay, connector, relay_added, added, goal, met) in rows.items():
            # A gateway's own process figures have no direct counterpart.
            own = "RSS" in label or "exec" in label
            measured = [relay, connector] if own else [direct, relay, connector]
            if label.startswith("added"):
                measured += [relay_added, added]
            for cell in measured:
                assert re.fullmatch(rf"{_NUMBER}( / {_NUMBER})?", cell), (label, cell)
            assert goal.startswith(("<=", ">=")) and met in ("yes", "no"), (label, goal, met)
        # Each gateway's own CPU per blocking request and per streamed token.
        assert re.search(
            rf"^gateway CPU: connector {_NUMBER} ms per blocking request \(relay {_NUMBER}\), "
            rf"{_NUMBER} us per streamed token \(relay {_NUMBER}\)$",
            text,
            re.M,
        ), text
        # Every request routed through the connector left exactly one usage record.
        found = re.search(r"^usage records: (\d+) of (\d+) routed requests$", text, re.M)
        assert found and found.group(1) == found.group(2) and int(found.group(1)) > 0, text
        # The connector's start on a data directory it has run on before.
        assert re.search(
            rf"^connector started again on the run's data directory: exec -> first proxied "
            rf"200 {_NUMBER} s, RSS after start {_NUMBER} MB$",
            text,
            re.M,
        ), text


def test_bench_start_prints_starts_on_an_empty_and_a_large_history() -> None:
    out = _run("bench_start.py", "--records", "3000", "--runs", "1")
    found = re.search(
        rf"^history: ([\d,]+) usage records this month, database {_NUMBER} MB", out, re.M
    )
    assert found and found.group(1) == "3,000", out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "gateway" not in line]
    assert [r.split("|")[1].strip() for r in rows] == [
        "bare relay",
        "the connector's libraries relaying (stack_floor.py)",
        "connector, no history",
        "connector, 3,000 records",
    ], out
    for row in rows:
        median_s, each, rss = (c.strip() for c in row.strip("|").split("|")[1:])
        assert re.fullmatch(_NUMBER, median_s) and re.fullmatch(_NUMBER, each), row
        assert 0 < float(median_s) < 60 and 10 < float(rss) < 1000, row


def test_bench_profile_puts_every_sample_of_the_connector_to_a_stage() -> None:
    out = _run("bench_profile.py", "--quick", "--surfaces", "v1")
    found = re.search(
        rf"^relay ({_NUMBER}) req/s, ({_NUMBER}) ms CPU per request; connector ({_NUMBER}) "
        rf"req/s, ({_NUMBER}) ms CPU per request; ([\d,]+) samples$",
        out,
        re.M,
    )
    assert found, out
    cpu_ms, samples = float(found.group(4)), int(found.group(5).replace(",", ""))
    assert cpu_ms > 0 and samples > 0, out
    rows = re.findall(rf"^\| ([^|]+) \| ({_NUMBER}) \| ({_NUMBER}) % \|$", out, re.M)
    stages = {name: (float(us), float(share)) for name, us, share in rows}
    # The stages split the connector's CPU per request between them, whole.
    assert abs(sum(us for us, _ in stages.values()) - cpu_ms * 1000) < len(stages) * 0.1, out
    assert abs(sum(share for _, share in stages.values()) - 100) < len(stages) * 0.1, out
    # A blocking request's record is committed on its path, and its upstream call too.
    assert stages["usage record, committed before the answer"][0] > 0, out
    assert stages["upstream HTTP client (providers/h1.py, http.py)"][0] > 0, out


def test_a_sample_belongs_to_the_innermost_stage_on_its_stack() -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_profile import stage_of

    root = "run (connector/serving.py:68);Runner.run (asyncio/runners.py:118)"
    chat = "ChatService._run (connector/services/chat.py:266)"
    # A library the chat path calls counts as the chat path's ...
    assert stage_of(f"{root};{chat};BaseModel.__init__ (pydantic/main.py:280)") == (
        "chat path (services/chat.py)"
    )
    # ... the server's own frames as the server's, even when the connector called them.
    send = "RequestResponseCycle.send (uvicorn/protocols/http/httptools_impl.py:522)"
    assert stage_of(f"{root};FastPath (connector/api/fastpath.py:103);{send}") == (
        "uvicorn (HTTP server)"
    )
    assert stage_of(f"{root};Insert.values (connector/services/loop_sqlite.py:59)") == (
        "usage record, committed before the answer"
    )
    # The process's entry is no stage: the loop it runs is.
    assert stage_of(root) == "event loop (uvloop, asyncio), threads"
    assert stage_of("run (connector/serving.py:68)") == "other"


def test_bench_ladder_prints_every_rung_between_the_relay_and_the_connector() -> None:
    out = _run("bench_ladder.py", "--quick")
    rows = re.findall(
        rf"^\| (\w+) \| [^|]+ \| ({_NUMBER}) \| ([+-][\d,]+)? ?\| ({_NUMBER}) \| (\d+) % \|$",
        out,
        re.M,
    )
    names = [name for name, *_ in rows]
    assert names == [
        "relay", "h1", "validate", "stream", "record", "framework", "connector"
    ], out  # fmt: skip
    for _, cpu_us, _, per_s, share in rows:
        assert float(cpu_us.replace(",", "")) > 0 and float(per_s.replace(",", "")) > 0, out
        assert int(share) > 0, out


def _first_answer(proc: subprocess.Popen[bytes], url: str, body: object) -> None:
    """POST `body` to `url` until the server starting in `proc` answers."""
    name = Path(str(proc.args[1])).name if isinstance(proc.args, list) else "server"
    import httpx

    for _ in range(400):
        try:
            httpx.post(url, json=body, timeout=5)
            return
        except httpx.TransportError:
            try:  # the pause between tries, which also sees the server exit
                proc.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                continue
            raise AssertionError(f"{name} exited with {proc.returncode}") from None
    raise AssertionError(f"{name} did not listen")


def test_each_ladder_rung_answers_what_the_upstream_said_and_the_record_rung_keeps_one_row() -> (
    None
):
    import sqlite3
    import tempfile

    import httpx

    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_goals import running_mock
    from harness import chat_body, free_port, stop_process

    with running_mock(["bench"], None) as mock_port, tempfile.TemporaryDirectory() as data:
        mock = f"http://127.0.0.1:{mock_port}"
        body = chat_body("bench", False)
        direct = httpx.post(f"{mock}/v1/chat/completions", json=body).json()
        streamed = httpx.post(
            f"{mock}/v1/chat/completions", json=chat_body("bench", True)
        ).text.splitlines()
        words = "".join(
            e["choices"][0]["delta"].get("content") or ""
            for e in (json.loads(line[6:]) for line in streamed if line.startswith("data: {"))
            if e["choices"]
        )
        for rung, expected in ((2, direct["choices"][0]["message"]["content"]), (5, words)):
            port = free_port()
            cmd = [
                sys.executable, str(REPO / "benchmarks" / "ladder.py"), "--rung", str(rung),
                "--upstream", mock, "--port", str(port), "--data", data,
            ]  # fmt: skip
            proc = subprocess.Popen(cmd, cwd=REPO)
            try:
                url = f"http://127.0.0.1:{port}/v1/chat/completions"
                _first_answer(proc, url, body)  # the first of three answers
                for _ in range(2):
                    got = httpx.post(url, json=body, timeout=5)
                answer = got.json()
                assert got.status_code == 200 and answer["object"] == "chat.completion"
                assert answer["choices"][0]["message"]["content"] == expected, answer
                assert answer["usage"]["completion_tokens"] > 0, answer
            finally:
                stop_process(proc)
        # Rung 5 (which records) kept one row for each of its three answers; rung 2 none.
        rows = sqlite3.connect(Path(data, "ladder.db")).execute(
            "SELECT model, status, completion_tokens FROM usage"
        )
        tokens = answer["usage"]["completion_tokens"]
        assert [tuple(r) for r in rows] == [("bench", "ok", tokens)] * 3
