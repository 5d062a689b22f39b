"""The endpoints' keys in a real Secret Service, run inside a D-Bus session with an
unlocked gnome-keyring (test_keyring_endpoints.py starts it): two endpoints get their
keys through POST /endpoints, each key lands in its own keyring entry, a fresh app
process sends each endpoint its own key, clearing one removes its entry, and neither key
is ever in a response, the data directory (the database) or a log.

    python -m tests.desktop.keyring_endpoints_session REPORT.json
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from tests.desktop.helpers import http
from tests.desktop.keyring_session import _files_containing, _serve, _stop
from tests.fakes.upstream import FakeUpstream

KEYS = {"alpha": "sk-alpha-" + "A" * 24 + "a1a1", "beta": "gsk_beta-" + "B" * 24 + "b2b2"}
SERVICE = "ai-connector"


def _chat(base: str, name: str) -> int:
    body = {"model": f"{name}/model-id-0", "messages": [{"role": "user", "content": "hi"}]}
    return http("POST", f"{base}/v1/chat/completions", body, timeout=30)[0]


def run(report: dict[str, Any], fakes: dict[str, FakeUpstream]) -> None:
    import keyring

    backend = keyring.get_keyring()
    report["backend"] = f"{type(backend).__module__}.{type(backend).__name__}"
    env = dict(os.environ)
    logs = Path(env["CONNECTOR_DATA_DIR"]).parent / "logs"
    responses: list[str] = []

    first, base = _serve(env, logs, "first")
    try:
        for name, key in KEYS.items():
            status, body = http(
                "POST",
                f"{base}/endpoints",
                {
                    "name": name,
                    "kind": "openai-compatible",
                    "base_url": fakes[name].openai_url,
                    "api_key": key,
                    "key_required": True,
                },
            )
            report[f"create_{name}"] = [status, body]
            responses.append(json.dumps(body))
        report["first_chats"] = {name: _chat(base, name) for name in KEYS}
    finally:
        report["first_exit"] = _stop(first)

    report["in_keyring"] = {
        name: keyring.get_password(SERVICE, f"endpoint:{name}") == key for name, key in KEYS.items()
    }

    second, base = _serve(env, logs, "second")
    try:
        status, body = http("GET", f"{base}/endpoints")
        report["fresh_list"] = [status, body]
        responses.append(json.dumps(body))
        for path in ("/settings", "/usage", "/endpoints/health", "/openapi.json"):
            responses.append(json.dumps(http("GET", f"{base}{path}")[1]))
        # Each endpoint's fake takes only its own key: a 200 means the right key went.
        report["fresh_chats"] = {name: _chat(base, name) for name in KEYS}
        status, body = http("PATCH", f"{base}/endpoints/beta", {"api_key": ""})
        report["clear_beta"] = [status, body]
        responses.append(json.dumps(body))
        report["chat_beta_after_clear"] = _chat(base, "beta")
    finally:
        report["second_exit"] = _stop(second)

    report["beta_after_clear"] = keyring.get_password(SERVICE, "endpoint:beta")
    report["alpha_after_clear"] = keyring.get_password(SERVICE, "endpoint:alpha") == KEYS["alpha"]
    data_dir = Path(env["CONNECTOR_DATA_DIR"])
    state = Path(env["XDG_STATE_HOME"])
    report["leaks"] = {
        name: {
            "responses": [i for i, text in enumerate(responses) if key in text],
            "data_dir": _files_containing(data_dir, key.encode()),
            "logs": _files_containing(state, key.encode()) + _files_containing(logs, key.encode()),
        }
        for name, key in KEYS.items()
    }
    report["data_files"] = sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*"))
    report["log_files"] = sorted(str(p) for p in [*state.rglob("*.log"), *logs.rglob("*")])


def main() -> int:
    out = Path(sys.argv[1])
    report: dict[str, Any] = {}
    with FakeUpstream() as alpha, FakeUpstream() as beta:
        alpha.openai_valid_keys = {KEYS["alpha"]}
        beta.openai_valid_keys = {KEYS["beta"]}
        try:
            run(report, {"alpha": alpha, "beta": beta})
        except Exception:
            report["exception"] = traceback.format_exc()
    out.write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
