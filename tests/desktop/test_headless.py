"""`python -m desktop --headless`: serves without a window, one instance per data dir,
stops on SIGTERM, logs to the platform log folder with secrets masked."""

from __future__ import annotations

import time

import websockets.sync.client as ws_client

from tests.desktop.conftest import DesktopEnv
from tests.desktop.helpers import http, launch, port_open, read_instance, wait_for
from tests.fakes.server import free_port


def test_headless_serves_then_stops_on_sigterm(desktop_env: DesktopEnv) -> None:
    port = free_port()
    app = launch(
        ["--headless", "--host", "127.0.0.1", "--port", str(port)],
        desktop_env.env,
        desktop_env.logs,
    )
    try:
        wait_for("the serving message", lambda: "serving at" in app.output(), 60)
        assert f"http://127.0.0.1:{port}" in app.output()
        assert http("GET", f"http://127.0.0.1:{port}/healthz") == (200, {"status": "ok"})
        status, body = http("GET", f"http://127.0.0.1:{port}/settings")
        assert status == 200 and body["listen"]["port"] == port
        info = read_instance(desktop_env.data_dir)
        assert info is not None and info["window"] is False and info["pid"] == app.proc.pid
    finally:
        app.terminate()
    assert app.wait(15) == 0, app.output()
    assert not port_open(port)
    assert read_instance(desktop_env.data_dir) is None  # the instance file goes with it


def test_second_launch_on_the_same_data_exits_without_serving(desktop_env: DesktopEnv) -> None:
    port, other = free_port(), free_port()
    first = launch(["--headless", "--port", str(port)], desktop_env.env, desktop_env.logs, "first")
    try:
        wait_for("the first instance", lambda: read_instance(desktop_env.data_dir), 60)
        second = launch(
            ["--headless", "--port", str(other)], desktop_env.env, desktop_env.logs, "second"
        )
        assert second.wait(30) == 3, second.output()
        assert "already running" in second.output()
        assert f"127.0.0.1:{port}" in second.output()
        assert not port_open(other)
        # A window launch on the same data does not start a server either: the running
        # instance has no window to show, so it says where it is and exits.
        third = launch([], {**desktop_env.env, "DISPLAY": ":0"}, desktop_env.logs, "third")
        assert third.wait(30) == 3, third.output()
        assert "already running" in third.output()
        assert http("GET", f"http://127.0.0.1:{port}/healthz")[0] == 200
    finally:
        first.terminate()
    assert first.wait(15) == 0, first.output()


def test_logs_go_to_the_log_folder_without_tokens(desktop_env: DesktopEnv) -> None:
    port = free_port()
    token = "tok-" + "Z" * 30
    env = {**desktop_env.env, "CONNECTOR_API_TOKEN": token}
    app = launch(["--headless", "--port", str(port)], env, desktop_env.logs)
    try:
        wait_for("the server", lambda: "serving at" in app.output(), 60)
        auth = {"Authorization": f"Bearer {token}"}
        assert http("GET", f"http://127.0.0.1:{port}/usage", headers=auth)[0] == 200
        with ws_client.connect(
            f"ws://127.0.0.1:{port}/ws/monitoring?token={token}", open_timeout=5
        ) as ws:
            assert '"snapshot"' in str(ws.recv(timeout=10))
        time.sleep(0.3)
    finally:
        app.terminate()
    assert app.wait(15) == 0
    log_file = desktop_env.log_dir / "ai-connector.log"
    text = log_file.read_text()
    assert "/ws/monitoring" in text  # uvicorn's lines reach the file
    assert token not in text
    assert token not in app.output()
