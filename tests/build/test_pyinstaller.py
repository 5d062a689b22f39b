"""The PyInstaller one-folder build: `python build_scripts/build.py` makes it (and
reuses it when nothing changed); the frozen executable serves headless: /healthz, the
SPA, and a chat completion through the fake upstream."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.desktop.conftest import DesktopEnv
from tests.desktop.helpers import ROOT, http, launch, port_open, wait_for
from tests.fakes.server import free_port
from tests.fakes.upstream import FakeUpstream

# First build ~1-3 minutes on two cores; later runs reuse it.
BUILD_TIMEOUT = 1500


def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "ai_connector_build", ROOT / "build_scripts" / "build.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_build(*args: str) -> tuple[str, float]:
    started = time.monotonic()
    proc = subprocess.run(
        # The test command built the SPA already (scripts/setup/frontend.sh); building it
        # again here could race a concurrent npm run in frontend/.
        [sys.executable, "build_scripts/build.py", "--skip-frontend", *args],
        cwd=ROOT,
        capture_output=True,
        timeout=BUILD_TIMEOUT,
    )
    output = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, output[-6000:]
    return output, time.monotonic() - started


@pytest.fixture(scope="module")
def frozen() -> Iterator[Path]:
    """The built executable (built now, or reused from an unchanged earlier build)."""
    _run_build()
    exe = _build_module().executable()
    assert exe.is_file()
    yield exe


def test_build_is_reused_when_inputs_are_unchanged(frozen: Path) -> None:
    before = frozen.stat().st_mtime
    output, seconds = _run_build()
    assert "up to date" in output, output[-2000:]
    assert frozen.stat().st_mtime == before
    assert seconds < 120


def test_bundle_carries_the_spa_and_migrations(frozen: Path) -> None:
    internal = frozen.parent / "_internal"
    assert (internal / "connector" / "static" / "index.html").is_file()
    assert any((internal / "connector" / "migrations" / "versions").glob("*.py"))
    assert (internal / "connector" / "migrations" / "env.py").is_file()


def test_frozen_headless_serves_health_spa_and_chat(
    frozen: Path, desktop_env: DesktopEnv, upstream: FakeUpstream
) -> None:
    port = free_port()
    app = launch(
        ["--headless", "--port", str(port)],
        desktop_env.env,
        desktop_env.logs,
        "frozen",
        command=[str(frozen)],
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            "the frozen app to serve",
            lambda: "serving at" in app.output() or app.proc.poll() is not None,
            90,
        )
        assert app.proc.poll() is None, app.output()[-4000:]
        assert http("GET", f"{base}/healthz") == (200, {"status": "ok"})

        # As a browser asks; a program's GET / gets Ollama's "Ollama is running".
        status, page = http("GET", f"{base}/", headers={"Accept": "text/html"})
        assert status == 200 and 'id="root"' in page, page[:500]
        assert http("GET", f"{base}/") == (200, "Ollama is running")
        status, page = http("GET", f"{base}/app/chat")
        assert status == 200 and 'id="root"' in page
        script = page.split('src="', 1)[1].split('"', 1)[0]
        status, js = http("GET", f"{base}{script}")
        assert status == 200 and len(js) > 1000

        body = {"model": "gpt-oss:20b", "messages": [{"role": "user", "content": "Say hi"}]}
        status, reply = http("POST", f"{base}/chat/completions", body, timeout=30)
        assert status == 200, reply
        assert reply["object"] == "chat.completion"
        assert reply["choices"][0]["message"]["content"]
        # Prices come from genai-prices' bundled data: a local model's reference cost.
        assert reply["metrics"]["reference_cost_usd"] > 0, reply["metrics"]
        assert any(r.path == "/api/chat" for r in upstream.requests)

        status, text = http("POST", f"{base}/chat/completions/stream", body, timeout=30)
        assert status == 200 and "data: [DONE]" in text
        usage = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: {")]
        assert usage[-1]["choices"] == [] and usage[-1]["usage"]["total_tokens"] > 0
    finally:
        app.terminate()
    assert app.wait(20) == 0, app.output()[-4000:]
    assert not port_open(port)


def test_linux_package_has_the_app_and_a_desktop_entry(frozen: Path, tmp_path: Path) -> None:
    output, _ = _run_build("--package")
    target = Path(output.split("[build] package: ", 1)[1].splitlines()[0].strip())
    with tarfile.open(target) as tar:
        names = tar.getnames()
        top = names[0].split("/", 1)[0]
        assert f"{top}/ai-connector/ai-connector" in names
        assert f"{top}/ai-connector.desktop" in names
        assert f"{top}/install-desktop-entry.sh" in names
        entry = tar.extractfile(f"{top}/ai-connector.desktop")
        assert entry is not None
        text = entry.read().decode()
    assert "Exec=ai-connector" in text and "Type=Application" in text

    # The installer script points the menu entry at the unpacked app.
    with tarfile.open(target) as tar:
        extras = [m for m in tar.getmembers() if m.name.count("/") == 1]
        tar.extractall(tmp_path, members=extras, filter="data")
    xdg = tmp_path / "xdg"
    subprocess.run(
        ["sh", str(tmp_path / top / "install-desktop-entry.sh")],
        env={"XDG_DATA_HOME": str(xdg), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=True,
        timeout=30,
    )
    installed = (xdg / "applications" / "ai-connector.desktop").read_text()
    assert f'Exec="{tmp_path / top}/ai-connector/ai-connector"' in installed
    assert (xdg / "icons" / "hicolor" / "scalable" / "apps" / "ai-connector.svg").is_file()


def test_frozen_window_opens_the_app(
    frozen: Path, xvfb: str, desktop_env: DesktopEnv, tmp_path: Path
) -> None:
    report_path = tmp_path / "report.json"
    shot = ROOT / "artifacts" / "desktop" / "frozen-window.png"
    config = tmp_path / "check.json"
    config.write_text(
        json.dumps({"report": str(report_path), "screenshot": str(shot), "timeout": 30})
    )
    env = {**desktop_env.env, "DISPLAY": xvfb}
    app = launch(
        ["--self-check", str(config)], env, desktop_env.logs, "frozen-window", command=[str(frozen)]
    )
    code = app.wait(150)
    assert report_path.exists(), app.output()[-4000:]
    report = json.loads(report_path.read_text())
    assert code == 0, app.output()[-4000:]
    assert report["errors"] == []
    assert report["root_children"] > 0
    assert report["api_calls_ok"] and all(c["authorized"] for c in report["api_calls_ok"])
    assert report["screenshot"] is True and shot.stat().st_size > 5_000
    assert report["threads_at_exit"] == []
