"""The OpenAI key and the programs' key in a real Secret Service: gnome-keyring,
unlocked, in a private D-Bus session (the scenario is tests/desktop/keyring_session.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.desktop.conftest import DesktopEnv
from tests.desktop.helpers import ROOT

UNLOCK_AND_RUN = (
    # gnome-keyring reads the login password on stdin, creates and unlocks the login
    # collection, and registers org.freedesktop.secrets on this session's bus.
    "echo -n test-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null; "
    'exec "$@"'
)


def test_openai_key_lives_in_the_os_keyring(desktop_env: DesktopEnv, tmp_path: Path) -> None:
    for tool in ("dbus-run-session", "gnome-keyring-daemon"):
        assert shutil.which(tool), f"{tool} is missing: run scripts/setup/system.sh"
    report_path = tmp_path / "keyring-report.json"
    env = {
        **desktop_env.env,
        "CONNECTOR_KEY_STORE": "auto",  # the app must find the keyring by itself
        # gnome-keyring keeps its files under XDG_DATA_HOME/keyrings: a throwaway one.
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "HOME": str(tmp_path / "home"),
    }
    (tmp_path / "home").mkdir()
    proc = subprocess.run(
        [
            "dbus-run-session",
            "--",
            "bash",
            "-c",
            UNLOCK_AND_RUN,
            "bash",
            sys.executable,
            "-m",
            "tests.desktop.keyring_session",
            str(report_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=240,
    )
    assert report_path.exists(), proc.stdout.decode() + proc.stderr.decode()
    report = json.loads(report_path.read_text())
    assert "exception" not in report, report["exception"]
    key = report["key"]

    assert report["backend"] == "keyring.backends.SecretService.Keyring"
    assert report["set_status"] == 200
    assert report["set_body"]["openai_api_key"]["storage"] == "keyring"
    assert report["first_exit"] == 0
    assert report["keyring_after_set"] is True

    # A fresh process reads it back from the keyring and uses it.
    fresh = report["fresh_get_body"]["openai_api_key"]
    assert fresh == {"set": True, "hint": "…" + key[-4:], "storage": "keyring"}
    assert report["fresh_get_body"]["keyring_available"] is True
    assert report["chat_status"] == 200

    # The programs' key: made once, kept in the keyring, the same in the fresh process.
    program_key = report["program_key"]
    assert report["program_on_status"] == 200
    assert report["program_on_body"]["program_key"]["storage"] == "keyring"
    assert report["program_key_in_keyring"] is True
    fresh_program = report["fresh_get_body"]["program_key"]
    assert fresh_program == {"set": True, "hint": "…" + program_key[-4:], "storage": "keyring"}
    assert report["fresh_get_body"]["programs_need_key"] is True
    assert report["chat_without_program_key"] == 401
    assert report["program_key_in_data_dir"] == []
    assert program_key not in json.dumps(report["fresh_get_body"])
    sent = [
        r.headers.get("authorization")
        for r in desktop_env.upstream.requests
        if r.path.endswith("/chat/completions")
    ]
    assert f"Bearer {key}" in sent

    # Cleared everywhere.
    assert report["clear_status"] == 200
    assert report["clear_body"]["openai_api_key"]["set"] is False
    assert report["keyring_after_clear"] is None
    assert report["second_exit"] == 0

    # Never on disk in the data dir (the database is there) nor in the logs.
    assert report["data_files"], "the app wrote nothing to its data dir?"
    assert report["key_in_data_dir"] == []
    assert report["key_in_logs"] == []
    assert key not in json.dumps(report["fresh_get_body"])
