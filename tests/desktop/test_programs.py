"""The desktop app serves the other programs on the machine: with the real window
open, a plain HTTP client and the official `openai` SDK chat through
/v1/chat/completions without the per-launch token, and the requests show in /usage;
the admin surface still wants the token; foreign Hosts and Origins are refused on
every route; with "Programs need a key" on, the same script needs the key. And the
window keeps its address across launches, including after a fallback port."""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import openai
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from tests.desktop.conftest import DesktopEnv
from tests.desktop.helpers import ROOT, AppProcess, http, launch, read_instance, wait_for
from tests.fakes.server import free_port

CHAT = {"model": "ollama/gpt-oss:20b", "messages": [{"role": "user", "content": "Hi"}]}
EVIL = "http://evil.example"
MODEL_ROUTES = [
    ("POST", "/v1/chat/completions"),
    ("POST", "/chat/completions"),
    ("GET", "/v1/models"),
    ("GET", "/models"),
    ("GET", "/usage"),
    ("GET", "/usage/clients"),
]
ADMIN_ROUTES = [
    ("GET", "/settings"),
    ("POST", "/settings"),
    ("POST", "/settings/program-key/reveal"),
    ("POST", "/settings/program-key/rotate"),
    ("GET", "/profile"),
    ("POST", "/profile"),
    ("GET", "/conversations"),
    ("POST", "/models/pull"),
    ("POST", "/providers/ollama/test"),
    ("POST", "/desktop/focus"),
]


def _window(
    desktop_env: DesktopEnv, display: str, tmp: Path, name: str, **check: Any
) -> AppProcess:
    config = tmp / f"{name}-check.json"
    report = tmp / f"{name}-report.json"
    config.write_text(json.dumps({"report": str(report), "timeout": 45, **check}))
    env = {**desktop_env.env, "DISPLAY": display}
    return launch(["--self-check", str(config)], env, desktop_env.logs, name)


def _script_chat(base: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """What a small local script does: POST a chat, no SDK."""
    return http("POST", f"{base}/v1/chat/completions", CHAT, headers=headers)


def _sdk_chat(base: str, api_key: str = "unused") -> str:
    client = openai.OpenAI(base_url=f"{base}/v1", api_key=api_key, max_retries=0, timeout=20)
    reply = client.chat.completions.create(
        model="ollama/gpt-oss:20b", messages=[{"role": "user", "content": "Hello"}]
    )
    return reply.choices[0].message.content or ""


def test_programs_use_the_model_api_and_the_admin_surface_keeps_its_token(
    xvfb: str, desktop_env: DesktopEnv, tmp_path: Path
) -> None:
    app = _window(desktop_env, xvfb, tmp_path, "programs", hold_seconds=120)
    try:
        info = wait_for("the window instance", lambda: read_instance(desktop_env.data_dir), 60)
        base, token = info["url"], info["token"]
        auth = {"Authorization": f"Bearer {token}"}

        # No token: a plain HTTP client and the official SDK chat.
        status, body = _script_chat(base)
        assert status == 200, body
        assert body["object"] == "chat.completion" and body["choices"][0]["message"]["content"]
        assert _sdk_chat(base)
        status, models = http("GET", f"{base}/v1/models")
        assert status == 200 and models["object"] == "list"
        # ...and the requests are in /usage, each with its program.
        status, usage = http("GET", f"{base}/usage")
        assert status == 200
        clients = {r["client"].split("/")[0] for r in usage["recent"] if r["surface"] == "v1"}
        assert {"Python-urllib", "OpenAI"} <= clients, usage["recent"]
        status, seen = http("GET", f"{base}/usage/clients")
        assert status == 200 and any(c["client"].startswith("OpenAI/") for c in seen)

        # The admin surface still wants the per-launch token.
        for method, path in ADMIN_ROUTES:
            body_in = {"name": "x"} if path == "/models/pull" else {}
            status, refused = http(method, f"{base}{path}", body_in)
            assert status == 401, (method, path, status, refused)
            status, _ = http(method, f"{base}{path}", body_in, headers={"x-api-key": "wrong"})
            assert status == 401, (method, path)
        status, settings = http("GET", f"{base}/settings", headers=auth)
        assert status == 200 and settings["program_access"] == "open"
        assert settings["listen"]["url"] == base

        # Foreign Hosts and Origins stay refused on every route, token or not.
        for method, path in MODEL_ROUTES + ADMIN_ROUTES:
            for headers in ({"Host": "evil.example"}, {"Host": "evil.example:8000", **auth}):
                status, _ = http(method, f"{base}{path}", {}, headers=headers)
                assert status == 403, (method, path, headers)
            if method == "POST":
                status, _ = http(method, f"{base}{path}", {}, headers={"Origin": EVIL, **auth})
                assert status == 403, (method, path)
        for path in ("/ws/chat", "/ws/monitoring"):
            ws_base = base.replace("http://", "ws://")
            with pytest.raises(InvalidStatus) as refused_ws:
                with connect(f"{ws_base}{path}", origin=Origin(EVIL), open_timeout=5) as ws:
                    ws.recv(timeout=5)
            assert refused_ws.value.response.status_code == 403

        # "Programs need a key": the same script and SDK now need it.
        status, on = http("POST", f"{base}/settings", {"programs_need_key": True}, headers=auth)
        assert status == 200 and on["program_access"] == "program_key"
        status, refused = _script_chat(base)
        assert status == 401 and refused["error"]["code"] == "invalid_api_key"
        with pytest.raises(openai.AuthenticationError):
            _sdk_chat(base)
        status, revealed = http("POST", f"{base}/settings/program-key/reveal", {}, headers=auth)
        assert status == 200
        key = revealed["key"]
        assert key not in json.dumps(http("GET", f"{base}/settings", headers=auth)[1])
        status, body = _script_chat(base, {"Authorization": f"Bearer {key}"})
        assert status == 200, body
        assert _sdk_chat(base, api_key=key)
        status, _ = _script_chat(base, {"x-api-key": key})
        assert status == 200
    finally:
        app.terminate()
        code = app.wait(60)
    assert code == 0, app.output()[-4000:]


def _port_of_one_launch(desktop_env: DesktopEnv, display: str, tmp: Path, name: str) -> int:
    app = _window(desktop_env, display, tmp, name)
    code = app.wait(120)
    report = json.loads((tmp / f"{name}-report.json").read_text())
    assert code == 0 and report["errors"] == [], (report["errors"], app.output()[-3000:])
    page = json.loads(report["page"])
    assert page["origin"] == f"http://127.0.0.1:{report['port']}"
    return int(report["port"])


def test_the_address_is_the_same_at_every_launch_even_after_a_fallback(
    xvfb: str, desktop_env: DesktopEnv, tmp_path: Path
) -> None:
    configured = free_port()
    desktop_env.env["PORT"] = str(configured)
    assert _port_of_one_launch(desktop_env, xvfb, tmp_path, "first") == configured
    assert _port_of_one_launch(desktop_env, xvfb, tmp_path, "second") == configured

    # Another program takes the port: one fallback, remembered...
    busy = socket.socket()
    # The two launches' connections may sit in TIME_WAIT on the port; a live listener
    # is what makes it "taken".
    busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    busy.bind(("127.0.0.1", configured))
    busy.listen(1)
    try:
        fallback = _port_of_one_launch(desktop_env, xvfb, tmp_path, "third")
        assert fallback != configured
        assert _port_of_one_launch(desktop_env, xvfb, tmp_path, "fourth") == fallback
    finally:
        busy.close()
    # ...and kept once the configured port is free again: programs were set up with it.
    assert _port_of_one_launch(desktop_env, xvfb, tmp_path, "fifth") == fallback
    memory = json.loads((desktop_env.data_dir / "desktop-port.json").read_text())
    assert memory == {"configured": configured, "port": fallback}


def test_readme_examples_work_against_the_window(
    xvfb: str, desktop_env: DesktopEnv, tmp_path: Path
) -> None:
    """The README's examples for programs (curl and the `openai` SDK), run as written
    with only the port swapped for the window's."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- model-api-examples -->", 2)[1]
    commands = _shell_commands(block)
    assert len(commands) >= 4, commands
    python = block.split("```python", 1)[1].split("```", 1)[0]
    app = _window(desktop_env, xvfb, tmp_path, "readme", hold_seconds=120)
    try:
        info = wait_for("the window instance", lambda: read_instance(desktop_env.data_dir), 60)
        port = info["url"].rsplit(":", 1)[1]
        for command in commands:
            argv = shlex.split(
                command.replace("127.0.0.1:8000", f"127.0.0.1:{port}"), comments=True
            )
            assert argv[0] == "curl", command
            done = subprocess.run(
                [*argv, "--fail-with-body", "-o", "/dev/null", "-w", "%{http_code}"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            assert done.returncode == 0 and done.stdout == "200", (command, done)
        script = tmp_path / "readme_example.py"
        script.write_text(python.replace("127.0.0.1:8000", f"127.0.0.1:{port}"))
        ran = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
        )
        assert ran.returncode == 0 and ran.stdout.strip(), ran
    finally:
        app.terminate()
        code = app.wait(60)
    assert code == 0, app.output()[-4000:]


def _shell_commands(markdown: str) -> list[str]:
    """The commands of the ```bash blocks in `markdown`, continuation lines joined."""
    commands: list[str] = []
    for chunk in markdown.split("```bash")[1:]:
        body = chunk.split("```", 1)[0]
        current = ""
        for line in body.splitlines():
            stripped = line.strip()
            if not stripped or (stripped.startswith("#") and not current):
                continue
            current += " " + stripped.removesuffix("\\").strip()
            if not stripped.endswith("\\") and current.count("'") % 2 == 0:
                commands.append(current.strip())
                current = ""
    return commands
