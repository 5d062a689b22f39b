"""The keyring scenario, run inside a D-Bus session with an unlocked gnome-keyring
(test_keyring.py starts it): the OpenAI key goes through POST /settings into the real
Secret Service, a fresh app process finds it there, clearing removes it, and the key
never lands in the data directory or the logs.

    python -m tests.desktop.keyring_session REPORT.json

Environment: the app's (CONNECTOR_DATA_DIR, XDG_STATE_HOME, OPENAI_BASE_URL, ...).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from tests.desktop.helpers import http, launch, wait_for
from tests.fakes.server import free_port

KEY = "sk-keyring-test-" + "K" * 24 + "wxyz"
SERVICE, USERNAME = "ai-connector", "openai_api_key"
PROGRAM_KEY_USERNAME = "program_key"


def _serve(env: dict[str, str], logs: Path, name: str) -> tuple[Any, str]:
    port = free_port()
    app = launch(["--headless", "--port", str(port)], env, logs, name)
    wait_for(
        f"{name} to serve", lambda: "serving at" in app.output() or app.proc.poll() is not None, 60
    )
    if app.proc.poll() is not None:
        raise RuntimeError(f"{name} exited: {app.output()}")
    return app, f"http://127.0.0.1:{port}"


def _stop(app: Any) -> int:
    app.terminate()
    return int(app.wait(20))


def _files_containing(root: Path, needle: bytes) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            hits.append(str(path))
    return hits


def run(report: dict[str, Any]) -> None:
    import keyring

    backend = keyring.get_keyring()
    report["backend"] = f"{type(backend).__module__}.{type(backend).__name__}"
    env = dict(os.environ)
    logs = Path(env["CONNECTOR_DATA_DIR"]).parent / "logs"

    first, base = _serve(env, logs, "first")
    try:
        status, body = http("POST", f"{base}/settings", {"openai_api_key": KEY})
        report["set_status"], report["set_body"] = status, body
        # "Programs need a key": the app makes the key and keeps it beside the OpenAI one.
        status, body = http("POST", f"{base}/settings", {"programs_need_key": True})
        report["program_on_status"], report["program_on_body"] = status, body
        report["program_key"] = http("POST", f"{base}/settings/program-key/reveal", {})[1]["key"]
    finally:
        report["first_exit"] = _stop(first)

    report["keyring_after_set"] = keyring.get_password(SERVICE, USERNAME) == KEY
    program_key = report["program_key"]
    report["program_key_in_keyring"] = (
        keyring.get_password(SERVICE, PROGRAM_KEY_USERNAME) == program_key
    )

    second, base = _serve(env, logs, "second")
    try:
        status, body = http("GET", f"{base}/settings")
        report["fresh_get_status"], report["fresh_get_body"] = status, body
        # The key from the keyring is the one sent upstream.
        chat = {
            "provider": "openai",
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "hi"}],
        }
        auth = {"Authorization": f"Bearer {program_key}"}
        report["chat_status"] = http("POST", f"{base}/chat/completions", chat, headers=auth)[0]
        report["chat_without_program_key"] = http("POST", f"{base}/chat/completions", chat)[0]
        status, body = http("POST", f"{base}/settings", {"openai_api_key": ""})
        report["clear_status"], report["clear_body"] = status, body
    finally:
        report["second_exit"] = _stop(second)

    report["keyring_after_clear"] = keyring.get_password(SERVICE, USERNAME)
    data_dir = Path(env["CONNECTOR_DATA_DIR"])
    report["data_files"] = sorted(
        str(p.relative_to(data_dir)) for p in data_dir.rglob("*") if p.is_file()
    )
    report["key_in_data_dir"] = _files_containing(data_dir, KEY.encode())
    report["program_key_in_data_dir"] = _files_containing(data_dir, program_key.encode())
    report["key_in_logs"] = _files_containing(
        Path(env["XDG_STATE_HOME"]), KEY.encode()
    ) + _files_containing(logs, KEY.encode())


def main() -> int:
    out = Path(sys.argv[1])
    report: dict[str, Any] = {"key": KEY}
    try:
        run(report)
    except Exception:
        report["exception"] = traceback.format_exc()
    out.write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
