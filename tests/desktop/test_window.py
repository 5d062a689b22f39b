"""The real window under Xvfb with Qt WebEngine: it opens on the app's own origin,
the SPA loads and talks to the embedded server with the per-launch token, foreign
links go to the system browser, closing the window stops everything, and a second
launch brings the first window forward instead of starting another server."""

from __future__ import annotations

import json
import signal
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.desktop.conftest import DesktopEnv
from tests.desktop.helpers import ROOT, AppProcess, http, launch, port_open, read_instance, wait_for

ARTIFACTS = ROOT / "artifacts" / "desktop"


class _ForeignPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><body><h1>another site</h1></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def foreign_site() -> Iterator[str]:
    """Another origin on loopback, standing in for a site linked from a chat reply."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ForeignPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _launch_window(
    desktop_env: DesktopEnv, display: str, check: dict[str, Any], tmp: Path, name: str = "window"
) -> AppProcess:
    config = tmp / f"{name}-check.json"
    config.write_text(json.dumps(check))
    env = {**desktop_env.env, "DISPLAY": display}
    return launch(["--self-check", str(config)], env, desktop_env.logs, name)


def test_window_smoke(
    xvfb: str, desktop_env: DesktopEnv, foreign_site: str, tmp_path: Path
) -> None:
    # The configured port is taken: the app must pick another and say so in /settings.
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    busy_port = busy.getsockname()[1]
    desktop_env.env["PORT"] = str(busy_port)

    report_path = tmp_path / "report.json"
    shot = ARTIFACTS / "desktop.png"
    shot.unlink(missing_ok=True)
    app = _launch_window(
        desktop_env,
        xvfb,
        {
            "report": str(report_path),
            "screenshot": str(shot),
            "foreign_url": foreign_site,
            "timeout": 45,
        },
        tmp_path,
    )
    try:
        code = app.wait(120)
    finally:
        busy.close()
    assert report_path.exists(), app.output()[-4000:]
    report = json.loads(report_path.read_text())
    assert code == 0, app.output()[-4000:]
    assert report["errors"] == [], report["errors"]

    # The window showed the SPA from the embedded server.
    assert report["shown"] and report["loaded"]
    assert report["root_children"] > 0
    page = json.loads(report["page"])
    assert page["origin"] == f"http://127.0.0.1:{report['port']}"
    assert page["path"].startswith("/app/")
    assert report["port"] != busy_port

    # ...which called the API with the per-launch token, and the server saw it.
    calls = report["api_calls_ok"]
    assert calls, report["requests_seen"]
    assert all(c["authorized"] for c in calls), calls
    assert any(c["type"] == "http" for c in calls), calls

    # Foreign links and navigations went to the system browser; the window stayed home.
    opened = desktop_env.opened_in_browser()
    assert f"{foreign_site}/link-in-reply" in opened
    assert f"{foreign_site}/navigated" in opened
    origin = page["origin"]
    assert report["url_after_link"].startswith(origin + "/")
    assert report["url_after_navigation"].startswith(origin + "/")

    # A screenshot of the window.
    assert report["screenshot"] is True
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5_000

    # Closing the window stopped the server and left no threads behind.
    assert report["server_stopped"] is True
    assert report["stop_seconds"] < 5
    assert report["threads_at_exit"] == []
    assert not port_open(report["port"])
    assert read_instance(desktop_env.data_dir) is None


def test_second_launch_focuses_the_window_and_other_pages_cannot_change_settings(
    xvfb: str, desktop_env: DesktopEnv, tmp_path: Path
) -> None:
    # The configured port is taken here too, so /settings must name the fallback port.
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    desktop_env.env["PORT"] = str(busy.getsockname()[1])
    report_path = tmp_path / "report.json"
    first = _launch_window(
        desktop_env,
        xvfb,
        {"report": str(report_path), "hold_seconds": 60, "timeout": 45},
        tmp_path,
        "first",
    )
    try:
        info = wait_for("the window instance", lambda: read_instance(desktop_env.data_dir), 60)
        assert info["window"] is True and info["token"]
        base, token = info["url"], info["token"]
        auth = {"Authorization": f"Bearer {token}"}

        status, settings = http("GET", f"{base}/settings", headers=auth)
        assert status == 200
        assert settings["listen"]["port"] == int(base.rsplit(":", 1)[1])
        assert settings["listen"]["port"] != busy.getsockname()[1]

        # Another local page (or process) without the per-launch token is refused.
        for headers in ({}, {"Origin": "http://127.0.0.1:9"}, {"Authorization": "Bearer wrong"}):
            status, _ = http("POST", f"{base}/settings", {"default_model": "evil"}, headers=headers)
            assert status in (401, 403), (headers, status)
        assert http("GET", f"{base}/settings", headers=auth)[1]["default_model"] != "evil"

        second = launch([], {**desktop_env.env, "DISPLAY": xvfb}, desktop_env.logs, "second")
        assert second.wait(30) == 0, second.output()
        assert "brought to the front" in second.output()
    finally:
        code = first.wait(90)
        busy.close()
    report = json.loads(report_path.read_text())
    assert code == 0, first.output()[-4000:]
    assert report["focus_requests"] == 1
    assert report["focused_while_held"] is True
    assert report["errors"] == []
    assert report["threads_at_exit"] == []
    assert not port_open(int(base.rsplit(":", 1)[1]))


def test_docs_screenshot_exists() -> None:
    """docs/screenshots/desktop.png is a copy of a screenshot this suite takes."""
    doc = ROOT / "docs" / "screenshots" / "desktop.png"
    assert doc.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_window_closes_on_signal(
    signum: signal.Signals, xvfb: str, desktop_env: DesktopEnv, tmp_path: Path
) -> None:
    report_path = tmp_path / "report.json"
    app = _launch_window(
        desktop_env, xvfb, {"report": str(report_path), "hold_seconds": 60, "timeout": 45}, tmp_path
    )
    info = wait_for("the window instance", lambda: read_instance(desktop_env.data_dir), 60)
    log_file = desktop_env.log_dir / "ai-connector.log"
    wait_for("the window", lambda: log_file.exists() and "window shown" in log_file.read_text(), 60)
    app.proc.send_signal(signum)
    assert app.wait(30) == 0, app.output()[-4000:]
    assert not port_open(int(info["url"].rsplit(":", 1)[1]))
    report = json.loads(report_path.read_text())
    assert report["server_stopped"] is True
    assert report["threads_at_exit"] == []


def test_server_failure_closes_the_window_with_an_error(
    xvfb: str, desktop_env: DesktopEnv, tmp_path: Path
) -> None:
    # A database URL no driver serves: start-up fails while the window comes up.
    env = {**desktop_env.env, "DISPLAY": xvfb, "DATABASE_URL": "nosuchdb+nodriver://x"}
    app = launch([], env, desktop_env.logs, "broken")
    assert app.wait(90) == 1, app.output()[-4000:]
    log_text = (desktop_env.log_dir / "ai-connector.log").read_text()
    assert "server stopped during start-up" in log_text or "did not start" in log_text
    assert read_instance(desktop_env.data_dir) is None


def test_scripts_left_pending_by_a_closed_window_are_answered() -> None:
    """pywebview's Qt backend blocks a caller on a semaphore until the page answers
    its script; a window closed mid-load never answers. The launcher answers them so
    that pywebview's loader thread ends and the process can exit normally."""
    from types import SimpleNamespace

    from desktop.window import AppWindow

    pending: dict[str, dict[str, Any]] = {}
    results: list[Any] = []

    def evaluate(uid: str) -> None:  # the shape of qt.BrowserView.evaluate_js
        semaphore = threading.Semaphore(0)
        pending[uid] = {"semaphore": semaphore, "result": "", "parse_json": False}
        semaphore.acquire()
        results.append(pending.pop(uid)["result"])

    loader = threading.Thread(target=evaluate, args=("a",), daemon=True)
    loader.start()
    wait_for("the script to be pending", lambda: "a" in pending, 5)
    closed = SimpleNamespace(window=SimpleNamespace(native=SimpleNamespace(_js_results=pending)))

    assert AppWindow.release_pending_scripts(closed) == 1  # type: ignore[arg-type]
    loader.join(5)
    assert not loader.is_alive()
    assert results == [None]
    # A backend without pending scripts (or another toolkit) is left alone.
    assert AppWindow.release_pending_scripts(SimpleNamespace(window=SimpleNamespace())) == 0  # type: ignore[arg-type]
