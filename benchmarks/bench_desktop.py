"""Desktop start-up and footprint, on loopback only.

Measures, over N launches each (median reported):
  * launch -> window shown, and launch -> SPA rendered and talking to the server
    (the real window under a private Xvfb display, Qt WebEngine);
  * launch -> headless ready (/healthz answers), then the first GET /settings (the UI's
    first page asks for it);
  * idle RSS: headless process, and window process plus its Qt WebEngine helpers,
    a few seconds after start-up.

    python benchmarks/bench_desktop.py                  # from source (python -m desktop)
    python benchmarks/bench_desktop.py --exe build/pyinstaller/dist/ai-connector/ai-connector
    python benchmarks/bench_desktop.py --runs 5 --no-window

Ollama is pointed at a closed loopback port (a first run without Ollama).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import REPO, free_port, proc_kb

IDLE_SECONDS = 3.0


def _rss_kb(pid: int) -> int:
    return proc_kb(f"/proc/{pid}/status", "VmRSS") or 0


def _pss_kb(pid: int) -> int:
    # Proportional set size: shared pages split between the processes sharing them,
    # so a process tree's sum does not count Qt's libraries once per helper.
    return proc_kb(f"/proc/{pid}/smaps_rollup", "Pss") or 0


def _tree_pids(root: int) -> list[int]:
    """A process and all its descendants (Qt WebEngine runs helper processes)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _tree_memory_mb(root: int) -> dict[str, float]:
    pids = _tree_pids(root)
    return {
        "idle_rss_mb": sum(_rss_kb(p) for p in pids) / 1024,
        "idle_pss_mb": sum(_pss_kb(p) for p in pids) / 1024,
        "processes": float(len(pids)),
    }


def _env(tmp: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CONNECTOR_", "OPENAI_", "OLLAMA_")) and k not in ("HOST", "PORT")
    }
    env.update(
        {
            "CONNECTOR_DATA_DIR": str(tmp / "data"),
            "XDG_STATE_HOME": str(tmp / "state"),
            "CONNECTOR_KEY_STORE": "memory",
            "OLLAMA_BASE_URL": f"http://127.0.0.1:{free_port()}",
            "PORT": str(free_port()),
        }
    )
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env["QTWEBENGINE_CHROMIUM_FLAGS"] = "--no-sandbox"
    return env


def _command(exe: str | None) -> list[str]:
    return [exe] if exe else [sys.executable, "-m", "desktop"]


def headless_once(exe: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        started = time.monotonic()
        proc = subprocess.Popen(
            [*_command(exe), "--headless", "--port", str(port)],
            cwd=REPO,
            env=_env(tmp),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = started + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("headless app did not become ready")
                time.sleep(0.01)
            ready = time.monotonic() - started
            # The UI's first page asks for the settings (its address pill) at once.
            asked = time.monotonic()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/settings", timeout=30) as r:
                r.read()
            settings = time.monotonic() - asked
            time.sleep(IDLE_SECONDS)
            memory = _tree_memory_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(30)
        return {"ready_s": ready, "first_settings_s": settings, **memory}


def _start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("Xvfb")
    if binary is None:
        raise SystemExit("Xvfb is needed for the window measurements (or pass --no-window)")
    number = next(
        n
        for n in range(150, 250)
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists()
    )
    proc = subprocess.Popen(
        [binary, f":{number}", "-screen", "0", "1280x860x24", "-nolisten", "tcp"],
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("Xvfb did not start")
        time.sleep(0.05)
    return proc, f":{number}"


def window_once(exe: str | None, display: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        report = tmp / "report.json"
        config = tmp / "check.json"
        config.write_text(
            json.dumps({"report": str(report), "hold_seconds": IDLE_SECONDS + 5, "timeout": 60})
        )
        env = {**_env(tmp), "DISPLAY": display}
        launched = time.time()
        proc = subprocess.Popen(
            [*_command(exe), "--self-check", str(config)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            # Held open: measure the idle footprint while the window is up.
            time.sleep(min(IDLE_SECONDS + 3, 8))
            memory = _tree_memory_mb(proc.pid)
            code = proc.wait(90)
        finally:
            if proc.poll() is None:
                proc.kill()
        data: dict[str, Any] = json.loads(report.read_text())
        if code != 0 or data.get("errors"):
            raise RuntimeError(f"window run failed: exit {code}, {data.get('errors')}")
        return {
            "shown_s": data["shown_at"] - launched,
            "spa_ready_s": data["spa_ready_at"] - launched,
            "server_ready_s": data["server_ready_at"] - launched,
            "stop_s": data["stop_seconds"],
            **memory,
        }


def _median(rows: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(r[key] for r in rows), 3) for key in rows[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--exe", help="a frozen ai-connector executable instead of python -m desktop"
    )
    parser.add_argument("--no-window", action="store_true")
    args = parser.parse_args()

    results: dict[str, Any] = {"runs": args.runs, "subject": args.exe or "python -m desktop"}
    results["headless"] = _median([headless_once(args.exe) for _ in range(args.runs)])
    if not args.no_window:
        xvfb, display = _start_xvfb()
        try:
            results["window"] = _median([window_once(args.exe, display) for _ in range(args.runs)])
        finally:
            xvfb.terminate()
            xvfb.wait(10)
    h = results["headless"]
    print(
        f"headless: ready in {h['ready_s']:.2f} s, then the first GET /settings in "
        f"{h['first_settings_s'] * 1000:.0f} ms; idle RSS {h['idle_rss_mb']:.0f} MB "
        f"(PSS {h['idle_pss_mb']:.0f} MB)"
    )
    if "window" in results:
        w = results["window"]
        print(
            f"window:   shown in {w['shown_s']:.2f} s, SPA ready in {w['spa_ready_s']:.2f} s, "
            f"server ready in {w['server_ready_s']:.2f} s; idle, {w['processes']:.0f} processes "
            f"(app + Qt WebEngine helpers): RSS sum {w['idle_rss_mb']:.0f} MB, "
            f"PSS {w['idle_pss_mb']:.0f} MB; stop {w['stop_s']:.2f} s"
        )
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
