"""Launching the desktop app as a real process, and waiting on it (always bounded)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")

# Environment that would leak the machine's configuration into the app under test.
_ENV_PREFIXES = ("CONNECTOR_", "OPENAI_", "OLLAMA_", "QT_", "PYWEBVIEW")
_ENV_NAMES = ("HOST", "PORT", "DATABASE_URL", "BROWSER")


def clean_environ() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_ENV_PREFIXES) and k not in _ENV_NAMES
    }


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, every: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def http(
    method: str,
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
            ctype = resp.headers.get("content-type", "")
    except urllib.error.HTTPError as exc:
        raw, status, ctype = exc.read(), exc.code, exc.headers.get("content-type", "")
    if "json" in ctype:
        return status, json.loads(raw or b"null")
    return status, raw.decode("utf-8", "replace")


@dataclass
class AppProcess:
    proc: subprocess.Popen[bytes]
    out_path: Path
    err_path: Path

    def output(self) -> str:
        return self.out_path.read_text(errors="replace") + self.err_path.read_text(errors="replace")

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"the app did not exit within {timeout:.0f} s; output:\n{self.output()[-4000:]}"
            ) from None

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def launch(
    args: list[str],
    env: dict[str, str],
    logs: Path,
    name: str = "app",
    command: list[str] | None = None,
) -> AppProcess:
    """Start the app (`python -m desktop ARGS`, or `command ARGS`) with its output in files."""
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / f"{name}.out", logs / f"{name}.err"
    cmd = (command or [sys.executable, "-m", "desktop"]) + args
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err)
    return AppProcess(proc, out_path, err_path)


def read_instance(data_dir: Path) -> dict[str, Any] | None:
    try:
        info: dict[str, Any] = json.loads((data_dir / "desktop.json").read_text())
        return info
    except (OSError, ValueError):
        return None
