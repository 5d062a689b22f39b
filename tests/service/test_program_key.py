"""The programs' key: "Programs need a key" on, the model API wants it (Bearer,
x-api-key or ?token= on WebSockets); it is never shown by a GET, only by the
admin-only reveal and rotate routes."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from connector.config import Settings
from tests.fakes.server import ServerThread
from tests.service.helpers import assert_error, chat_body, ws_url

TOKEN = "tok-desktop-abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def desktop_like(make_settings: Callable[..., Settings], serve: Callable[[Settings], str]) -> str:
    """A connector set up as the desktop app runs it: a token for the admin surface."""
    return serve(make_settings(api_token=TOKEN, api_token_scope="admin"))


def _chat(url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{url}/v1/chat/completions", json=chat_body(), headers=headers or {})


def test_programs_need_the_key_once_it_is_on(desktop_like: str) -> None:
    url = desktop_like
    before = httpx.get(f"{url}/settings", headers=AUTH).json()
    assert before["programs_need_key"] is False
    assert before["program_key"] == {"set": False, "hint": None, "storage": "none"}
    assert _chat(url).status_code == 200

    on = httpx.post(f"{url}/settings", json={"programs_need_key": True}, headers=AUTH)
    assert on.status_code == 200, on.text
    view = on.json()
    assert view["programs_need_key"] is True and view["program_access"] == "program_key"
    assert view["program_key"]["set"] is True and view["program_key"]["storage"] == "memory"

    refused = assert_error(_chat(url), 401)
    assert refused["code"] == "invalid_api_key"
    assert "Connect your tools" in refused["message"]
    assert_error(_chat(url, {"Authorization": "Bearer aic-wrong"}), 401)
    assert_error(httpx.get(f"{url}/v1/models"), 401)

    revealed = httpx.post(f"{url}/settings/program-key/reveal", headers=AUTH)
    assert revealed.status_code == 200
    assert revealed.headers["cache-control"] == "no-store"
    key = revealed.json()["key"]
    assert key.startswith("aic-") and len(key) > 30
    assert view["program_key"]["hint"] == f"…{key[-4:]}"
    # Never in a GET, nor in the error bodies.
    assert key not in httpx.get(f"{url}/settings", headers=AUTH).text
    assert key not in refused["message"]

    assert _chat(url, {"Authorization": f"Bearer {key}"}).status_code == 200
    assert _chat(url, {"x-api-key": key}).status_code == 200
    # A placeholder in one header does not hide the key in the other.
    assert _chat(url, {"Authorization": "Bearer unused", "x-api-key": key}).status_code == 200
    assert httpx.get(f"{url}/v1/models", headers={"x-api-key": key}).status_code == 200
    assert _chat(url, AUTH).status_code == 200  # the UI's token works too
    with pytest.raises(InvalidStatus):
        with connect(ws_url(url, "/ws/monitoring"), open_timeout=5) as ws:
            ws.recv(timeout=5)
    with connect(ws_url(url, f"/ws/monitoring?token={key}"), open_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"
    # The key opens the model API only, never the admin surface.
    assert_error(httpx.get(f"{url}/settings", headers={"Authorization": f"Bearer {key}"}), 401)
    assert_error(httpx.post(f"{url}/settings/program-key/reveal", headers={"x-api-key": key}), 401)

    off = httpx.post(f"{url}/settings", json={"programs_need_key": False}, headers=AUTH)
    assert off.json()["program_access"] == "open"
    assert _chat(url).status_code == 200


def test_rotating_makes_a_new_key_and_the_old_one_stops(desktop_like: str) -> None:
    url = desktop_like
    httpx.post(f"{url}/settings", json={"programs_need_key": True}, headers=AUTH)
    old = httpx.post(f"{url}/settings/program-key/reveal", headers=AUTH).json()["key"]
    rotated = httpx.post(f"{url}/settings/program-key/rotate", headers=AUTH)
    assert rotated.status_code == 200 and rotated.headers["cache-control"] == "no-store"
    new = rotated.json()["key"]
    assert new != old
    assert_error(_chat(url, {"Authorization": f"Bearer {old}"}), 401)
    assert _chat(url, {"Authorization": f"Bearer {new}"}).status_code == 200
    assert httpx.post(f"{url}/settings/program-key/reveal", headers=AUTH).json()["key"] == new
    assert_error(httpx.post(f"{url}/settings/program-key/rotate"), 401)


def test_the_setting_and_the_key_survive_a_restart(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    """The flag is in the database; the key in the key store (here a keyring that
    lives as long as the test process: the fake backend below)."""
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 10

        def __init__(self) -> None:
            super().__init__()
            self.saved: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.saved.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.saved[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.saved.pop((service, username), None)

    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        settings = make_settings(api_token=TOKEN, api_token_scope="admin", key_store="keyring")
        first = serve(settings)
        view = httpx.post(f"{first}/settings", json={"programs_need_key": True}, headers=AUTH)
        assert view.json()["program_key"]["storage"] == "keyring"
        key = httpx.post(f"{first}/settings/program-key/reveal", headers=AUTH).json()["key"]
        assert backend.saved[("ai-connector", "program_key")] == key

        second = serve(settings.model_copy(update={"port": 0}))
        again = httpx.get(f"{second}/settings", headers=AUTH).json()
        assert again["programs_need_key"] is True
        assert again["program_key"]["hint"] == f"…{key[-4:]}"
        assert_error(_chat(second), 401)
        assert _chat(second, {"x-api-key": key}).status_code == 200
    finally:
        keyring.set_keyring(previous)


def test_a_tokenless_server_on_loopback_can_require_the_key_too(live_server: str) -> None:
    url = live_server
    assert httpx.get(f"{url}/settings").json()["program_access"] == "open"
    httpx.post(f"{url}/settings", json={"programs_need_key": True}).raise_for_status()
    assert_error(_chat(url), 401)
    key = httpx.post(f"{url}/settings/program-key/reveal").json()["key"]
    assert _chat(url, {"Authorization": f"Bearer {key}"}).status_code == 200


def test_settings_list_the_dialects_the_app_serves(settings: Settings) -> None:
    from connector.api.access import available_dialects
    from connector.main import create_app

    app = create_app(settings)
    server = ServerThread(app, lifespan="on").start()
    try:
        view = httpx.get(f"{server.url}/settings").json()
        # Read from the routes, not from the OpenAPI document: building that takes half
        # a second, and the UI's first page asks for /settings.
        assert app.openapi_schema is None
    finally:
        server.stop()
    assert view["dialects"] == ["openai_chat", "embeddings", "anthropic", "responses", "ollama"]
    assert view["listen"]["url"] == f"http://127.0.0.1:{view['listen']['port']}"
    assert available_dialects(["/v1/chat/completions", "/api/chat"]) == ["openai_chat", "ollama"]
    assert available_dialects(["/v1/messages", "/v1/responses"]) == ["anthropic", "responses"]
