"""The reliability tier: a real `python -m connector serve` process, killed, stopped
and fuzzed, in front of the fake upstream.

    def test_x(connector_process):
        server = connector_process(CONNECTOR_SHUTDOWN_GRACE="1")
        server.url, server.db_path, server.stop(signal.SIGTERM)
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_OPENAI_KEY
from tests.fakes.server import free_port, wait_healthy
from tests.fakes.upstream import FakeUpstream


class ConnectorProcess:
    """One connector server process on a free port, with its data directory."""

    def __init__(self, env: dict[str, str], data_dir: Path, log_path: Path) -> None:
        self.data_dir = data_dir
        self.db_path = data_dir / "connector.db"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = {**env, "PORT": str(self.port)}
        self._log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ConnectorProcess:
        log = self._log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "connector", "serve"],
            env=self._env,
            cwd=self.data_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_healthy(self.url, self.proc, timeout=60)
        return self

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> tuple[int, float]:
        """Send `sig`; return (exit code, seconds until the process was gone)."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        return code, time.monotonic() - started

    def log(self) -> str:
        return self._log_path.read_text(errors="replace")

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the database directly, as it is on disk."""
        with sqlite3.connect(self.db_path) as conn:
            return list(conn.execute(sql, params))

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def connector_env(upstream: FakeUpstream, data_dir: Path, **extra: str) -> dict[str, str]:
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CONNECTOR_", "OPENAI_", "OLLAMA_")) and k not in ("HOST", "PORT")
    }
    return {
        **keep,
        "HOST": "127.0.0.1",
        "OPENAI_API_KEY": TEST_OPENAI_KEY,
        "OPENAI_BASE_URL": upstream.openai_url,
        "OLLAMA_BASE_URL": upstream.ollama_url,
        "CONNECTOR_DATA_DIR": str(data_dir),
        "CONNECTOR_KEY_STORE": "memory",
        "CONNECTOR_LOG_LEVEL": "warning",
        **extra,
    }


@pytest.fixture
def connector_process(
    upstream: FakeUpstream, tmp_path: Path, clean_env: None
) -> Iterator[Callable[..., ConnectorProcess]]:
    """Start connector processes sharing one data directory (a restart sees what the
    previous one left); extra keyword arguments are environment variables."""
    started: list[ConnectorProcess] = []
    data_dir = tmp_path / "data"
    data_dir.mkdir()

    def start(**env: str) -> ConnectorProcess:
        server = ConnectorProcess(
            connector_env(upstream, data_dir, **env), data_dir, tmp_path / "server.log"
        )
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.close()
