"""Two endpoints' keys in a real Secret Service (gnome-keyring, unlocked, in a private
D-Bus session; the scenario is tests/desktop/keyring_endpoints_session.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.desktop.conftest import DesktopEnv
from tests.desktop.helpers import ROOT
from tests.desktop.test_keyring import UNLOCK_AND_RUN


def test_each_endpoint_key_has_its_own_keyring_entry_and_never_leaks(
    desktop_env: DesktopEnv, tmp_path: Path
) -> None:
    for tool in ("dbus-run-session", "gnome-keyring-daemon"):
        assert shutil.which(tool), f"{tool} is missing: run scripts/setup/system.sh"
    report_path = tmp_path / "keyring-endpoints-report.json"
    env = {
        **desktop_env.env,
        "CONNECTOR_KEY_STORE": "auto",
        "CONNECTOR_LOG_LEVEL": "debug",  # the most the logs ever say
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "HOME": str(tmp_path / "home"),
    }
    (tmp_path / "home").mkdir()
    scenario = ["-m", "tests.desktop.keyring_endpoints_session", str(report_path)]
    proc = subprocess.run(
        ["dbus-run-session", "--", "bash", "-c", UNLOCK_AND_RUN, "bash", sys.executable, *scenario],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=240,
    )
    assert report_path.exists(), proc.stdout.decode() + proc.stderr.decode()
    report = json.loads(report_path.read_text())
    assert "exception" not in report, report["exception"]
    assert report["backend"] == "keyring.backends.SecretService.Keyring"

    for name in ("alpha", "beta"):
        status, body = report[f"create_{name}"]
        assert status == 201, body
        assert body["api_key"]["set"] is True and body["api_key"]["storage"] == "keyring"
    assert report["first_chats"] == {"alpha": 200, "beta": 200}
    assert report["first_exit"] == 0
    assert report["in_keyring"] == {"alpha": True, "beta": True}

    # A fresh process reads both from the keyring and sends each its own.
    status, listed = report["fresh_list"]
    assert status == 200
    keys = {e["name"]: e["api_key"] for e in listed["endpoints"]}
    assert keys["alpha"] == {"set": True, "hint": "…a1a1", "storage": "keyring"}
    assert keys["beta"] == {"set": True, "hint": "…b2b2", "storage": "keyring"}
    assert report["fresh_chats"] == {"alpha": 200, "beta": 200}

    # Clearing one removes its entry only; the endpoint then has no key to send.
    assert report["clear_beta"][0] == 200
    assert report["clear_beta"][1]["api_key"] == {"set": False, "hint": None, "storage": "none"}
    assert report["chat_beta_after_clear"] == 401
    assert report["beta_after_clear"] is None
    assert report["alpha_after_clear"] is True

    assert any(f.endswith(".db") for f in report["data_files"]), report["data_files"]
    assert report["log_files"], "the app wrote no log to look in"
    assert report["leaks"] == {
        "alpha": {"responses": [], "data_dir": [], "logs": []},
        "beta": {"responses": [], "data_dir": [], "logs": []},
    }
