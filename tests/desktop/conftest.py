"""Fixtures for the desktop app: an Xvfb display and an isolated app environment
(data dir, log dir, a recording "system browser", the fake upstream)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.desktop.helpers import clean_environ
from tests.fakes.server import free_port
from tests.fakes.upstream import FakeUpstream

BROWSER_SCRIPT = """#!/bin/sh
# Stands in for the system browser: remembers what the app asked it to open.
echo "$1" >> "{log}"
"""


def _free_display() -> int:
    for number in range(90, 190):
        if (
            not Path(f"/tmp/.X{number}-lock").exists()
            and not Path(f"/tmp/.X11-unix/X{number}").exists()
        ):
            return number
    raise RuntimeError("no free X display number between :90 and :189")


@pytest.fixture(scope="session")
def xvfb() -> Iterator[str]:
    """A virtual X display for the window; Xvfb must be installed (scripts/setup/system.sh)."""
    binary = shutil.which("Xvfb")
    if binary is None:
        raise RuntimeError("Xvfb is not installed: run scripts/setup/system.sh")
    number = _free_display()
    proc = subprocess.Popen(
        [binary, f":{number}", "-screen", "0", "1280x860x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    socket_path = Path(f"/tmp/.X11-unix/X{number}")
    deadline = time.monotonic() + 15
    while not socket_path.exists():
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"Xvfb :{number} exited: {err}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"Xvfb :{number} did not start within 15 s")
        time.sleep(0.05)
    yield f":{number}"
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@dataclass
class DesktopEnv:
    env: dict[str, str]
    data_dir: Path
    log_dir: Path
    logs: Path
    browser_log: Path
    upstream: FakeUpstream

    def opened_in_browser(self) -> list[str]:
        if not self.browser_log.exists():
            return []
        return self.browser_log.read_text().split()


@pytest.fixture
def desktop_env(tmp_path: Path, upstream: FakeUpstream) -> DesktopEnv:
    browser_log = tmp_path / "browser.log"
    browser = tmp_path / "browser.sh"
    browser.write_text(BROWSER_SCRIPT.format(log=browser_log))
    browser.chmod(0o755)
    env = clean_environ()
    env.update(
        {
            "CONNECTOR_DATA_DIR": str(tmp_path / "data"),
            "XDG_STATE_HOME": str(tmp_path / "state"),  # platformdirs' log dir on Linux
            "OLLAMA_BASE_URL": upstream.ollama_url,
            "OPENAI_BASE_URL": upstream.openai_url,
            "CONNECTOR_KEY_STORE": "memory",
            # Not the default 8000, which a developer's own connector may hold.
            "PORT": str(free_port()),
            "BROWSER": str(browser),
        }
    )
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env["QTWEBENGINE_CHROMIUM_FLAGS"] = "--no-sandbox"
    return DesktopEnv(
        env=env,
        data_dir=tmp_path / "data",
        log_dir=tmp_path / "state" / "ai-connector" / "log",
        logs=tmp_path / "logs",
        browser_log=browser_log,
        upstream=upstream,
    )
