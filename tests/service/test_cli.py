"""`python -m connector serve` as an operator runs it: env-var config, logs on stdout,
a clean stop, and the key in none of its output even at debug level."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import TEST_OPENAI_KEY
from tests.fakes.server import free_port, wait_healthy
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import chat_body


def _env(upstream: FakeUpstream, data_dir: Path, port: int) -> dict[str, str]:
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CONNECTOR_", "OPENAI_", "OLLAMA_"))
    }
    return {
        **keep,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "OPENAI_API_KEY": TEST_OPENAI_KEY,
        "OPENAI_BASE_URL": upstream.openai_url,
        "OLLAMA_BASE_URL": upstream.ollama_url,
        "CONNECTOR_DATA_DIR": str(data_dir),
        "CONNECTOR_KEY_STORE": "memory",
        "CONNECTOR_LOG_LEVEL": "debug",
    }


def test_serve_from_env_logs_without_the_key(upstream: FakeUpstream, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector", "serve"],
        env=_env(upstream, tmp_path, port),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_healthy(url, proc)
        with httpx.Client(base_url=url, timeout=20) as client:
            ok = client.post("/chat/completions", json=chat_body(provider="openai"))
            assert ok.status_code == 200, ok.text
            assert client.post("/chat/completions", json=chat_body()).status_code == 200
            upstream.openai_valid_keys = {"sk-another-key"}
            assert (
                client.post("/chat/completions", json=chat_body(provider="openai")).status_code
                == 401
            )
            upstream.scenario = "server_error"
            upstream.openai_valid_keys = None
            assert (
                client.post("/chat/completions", json=chat_body(provider="openai")).status_code
                == 502
            )
            assert client.get("/settings").json()["openai_api_key"]["storage"] == "env"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    output = (out + err).decode(errors="replace")
    # uvicorn re-raises SIGTERM after its graceful shutdown, so -SIGTERM is a clean stop.
    assert proc.returncode in (0, -signal.SIGTERM), output[-2000:]
    assert "Application shutdown complete" in output
    # The key did reach the upstream, so its absence from the output means something.
    assert f"Bearer {TEST_OPENAI_KEY}" in {
        r.headers.get("authorization") for r in upstream.requests_to("/v1/chat/completions")
    }
    assert "/chat/completions" in output  # logs go to stdout/stderr at all
    assert TEST_OPENAI_KEY not in output and "SECRETKEY" not in output


def test_openapi_command_prints_schema_without_secrets(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CONNECTOR_", "OPENAI_"))},
        "OPENAI_API_KEY": TEST_OPENAI_KEY,
        "CONNECTOR_API_TOKEN": "tok-SECRETTOKEN99",
        "CONNECTOR_DATA_DIR": str(tmp_path),
        "CONNECTOR_KEY_STORE": "memory",
    }
    done = subprocess.run(
        [sys.executable, "-m", "connector.openapi"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        check=True,
    )
    text = done.stdout.decode()
    assert '"/chat/completions"' in text and '"openapi"' in text
    for secret in (TEST_OPENAI_KEY, "SECRETKEY", "SECRETTOKEN"):
        assert secret not in text
        assert secret not in done.stderr.decode()
