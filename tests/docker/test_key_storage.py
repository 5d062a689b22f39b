"""The OpenAI key in a container: no keyring, so it comes from OPENAI_API_KEY_FILE
(Docker secrets) or the environment, or is set at runtime and kept in memory only.
GET /settings says which, and the key never reaches the logs or the data volume."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.docker.conftest import StartImage
from tests.fakes.upstream import FakeUpstream

FILE_KEY = "sk-file-8d2e61b0c4a97f13"
RUNTIME_KEY = "sk-runtime-5c7e0a9b1d3f2468"
OPENAI_CHAT = {
    "provider": "openai",
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "Say hi"}],
}


def files_containing(root: Path, secret: str) -> list[Path]:
    needle = secret.encode()
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_key_from_a_secret_file(
    start_image: StartImage, upstream: FakeUpstream, tmp_path: Path
) -> None:
    secret = tmp_path / "run-secrets" / "openai_api_key"
    secret.parent.mkdir()
    secret.write_text(FILE_KEY + "\n")  # `echo key > file` leaves a newline
    # debug logging: the most the server ever writes, still without the key.
    container = start_image(OPENAI_API_KEY_FILE=str(secret), CONNECTOR_LOG_LEVEL="debug")

    key = httpx.get(container.url + "/settings").json()["openai_api_key"]
    assert key["set"] is True
    assert key["storage"] == "file"
    assert key["hint"].endswith(FILE_KEY[-4:])
    assert FILE_KEY[:-4] not in key["hint"]

    response = httpx.post(container.url + "/chat/completions", json=OPENAI_CHAT, timeout=30)
    assert response.status_code == 200, response.text
    assert upstream.last("/v1/chat/completions").headers["authorization"] == f"Bearer {FILE_KEY}"

    with httpx.stream(
        "POST", container.url + "/chat/completions/stream", json=OPENAI_CHAT, timeout=30
    ) as stream:
        assert stream.status_code == 200
        assert list(stream.iter_lines())
    # A rejected key: the error names the problem, not the key.
    upstream.scenario = "unauthorized"
    refused = httpx.post(container.url + "/chat/completions", json=OPENAI_CHAT, timeout=30)
    assert refused.status_code == 401
    assert FILE_KEY not in refused.text

    upstream.scenario = "default"

    # A key set at runtime wins over the secret; clearing switches OpenAI off until a
    # key is set again or the container restarts.
    runtime = httpx.post(container.url + "/settings", json={"openai_api_key": RUNTIME_KEY})
    assert runtime.json()["openai_api_key"]["storage"] == "memory"
    httpx.post(container.url + "/chat/completions", json=OPENAI_CHAT, timeout=30)
    assert upstream.last("/v1/chat/completions").headers["authorization"] == f"Bearer {RUNTIME_KEY}"
    cleared = httpx.post(container.url + "/settings", json={"openai_api_key": ""})
    assert cleared.json()["openai_api_key"] == {"set": False, "hint": None, "storage": "none"}

    container.stop_cleanly()  # SIGTERM, as `docker stop`
    logs = container.output()
    assert logs.both.strip(), "the server logged nothing"
    for value in (FILE_KEY, RUNTIME_KEY):
        assert value not in logs.stdout
        assert value not in logs.stderr
    assert not files_containing(tmp_path / "data", FILE_KEY)

    # The next start reads the secret again.
    again = start_image(OPENAI_API_KEY_FILE=str(secret))
    assert httpx.get(again.url + "/settings").json()["openai_api_key"]["storage"] == "file"


def test_restart_on_the_same_volume_keeps_data_but_not_a_runtime_key(
    start_image: StartImage, upstream: FakeUpstream, tmp_path: Path
) -> None:
    container = start_image()
    before = httpx.get(container.url + "/settings").json()["openai_api_key"]
    assert before["set"] is False
    assert before["storage"] == "none"
    unavailable = httpx.post(container.url + "/chat/completions", json=OPENAI_CHAT, timeout=30)
    assert unavailable.status_code == 401

    # From the container's own loopback, no token needed.
    saved = httpx.post(
        container.url + "/settings",
        json={"openai_api_key": RUNTIME_KEY, "default_model": "llama3.2"},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["openai_api_key"]["storage"] == "memory"
    assert saved.json()["openai_api_key"]["set"] is True
    profile = {"display_name": "Ops", "email": "ops@example.com"}
    assert httpx.post(container.url + "/profile", json=profile).status_code == 200
    response = httpx.post(container.url + "/chat/completions", json=OPENAI_CHAT, timeout=30)
    assert response.status_code == 200, response.text
    assert upstream.last("/v1/chat/completions").headers["authorization"] == f"Bearer {RUNTIME_KEY}"
    container.stop_cleanly()
    assert RUNTIME_KEY not in container.output().both
    assert (tmp_path / "data" / "connector.db").is_file()
    assert not files_containing(tmp_path / "data", RUNTIME_KEY)

    # Same volume, new container (a restart or an upgrade): migrations find the
    # database current, the data is there, the key set at runtime is not.
    again = start_image()
    assert httpx.get(again.url + "/profile").json() == profile
    settings = httpx.get(again.url + "/settings").json()
    assert settings["default_model"] == "llama3.2"
    assert settings["openai_api_key"]["set"] is False
    assert settings["openai_api_key"]["storage"] == "none"
    assert not settings["openai_api_key"]["hint"]
    usage = httpx.get(again.url + "/usage").json()
    assert usage["totals"]["requests"] >= 2  # the refused and the answered chat
    again.stop_cleanly()
