"""Host/Origin checks, the API token, and the OpenAI key never leaking anywhere."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from connector.config import Settings
from tests.conftest import TEST_OPENAI_KEY
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import COLOR_FORMAT, assert_error, chat_body, ws_url

EVIL_ORIGIN = "http://evil.example"
NEW_KEY = "sk-test-NEWSECRET5678"


def test_foreign_host_is_403_everywhere(live_server: str) -> None:
    headers = {"Host": "evil.example:8000"}
    for method, path in (("GET", "/settings"), ("GET", "/models"), ("POST", "/profile")):
        response = httpx.request(
            method, f"{live_server}{path}", headers=headers, json={"display_name": "x"}
        )
        assert_error(response, 403)
    # Loopback names are fine.
    port = live_server.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        assert httpx.get(f"{live_server}/settings", headers={"Host": host}).status_code == 200


def test_foreign_origin_cannot_change_settings(live_server: str) -> None:
    before = httpx.get(f"{live_server}/settings").json()
    response = httpx.post(
        f"{live_server}/settings",
        json={"ollama_base_url": "http://evil.example:11434", "openai_api_key": NEW_KEY},
        headers={"Origin": EVIL_ORIGIN},
    )
    assert_error(response, 403)
    assert httpx.get(f"{live_server}/settings").json() == before
    profile = httpx.post(
        f"{live_server}/profile", json={"display_name": "pwned"}, headers={"Origin": EVIL_ORIGIN}
    )
    assert_error(profile, 403)
    assert httpx.get(f"{live_server}/profile").json()["display_name"] == ""
    # The app's own origin may.
    own = httpx.post(
        f"{live_server}/settings",
        json={"default_model": "llama3.2"},
        headers={"Origin": live_server},
    )
    assert own.status_code == 200, own.text
    assert own.json()["default_model"] == "llama3.2"


@pytest.mark.parametrize("path", ["/ws/chat", "/ws/monitoring"])
def test_foreign_origin_websocket_rejected(
    live_server: str, upstream: FakeUpstream, path: str
) -> None:
    rejected = False
    try:
        with connect(ws_url(live_server, path), origin=Origin(EVIL_ORIGIN), open_timeout=5) as ws:
            if path == "/ws/chat":
                ws.send(json.dumps({"type": "chat", "id": "x", "request": chat_body()}))
            ws.recv(timeout=5)
    except InvalidStatus as exc:
        rejected = exc.response.status_code == 403
    except ConnectionClosed as exc:
        rejected = exc.rcvd is not None and exc.rcvd.code == 1008
    assert rejected
    assert upstream.requests_to("/api/chat") == []
    # Same socket from the app's own origin works.
    with connect(ws_url(live_server, path), origin=Origin(live_server), open_timeout=5) as ws:
        if path == "/ws/chat":
            ws.send(json.dumps({"type": "chat", "id": "x", "request": chat_body()}))
        assert json.loads(ws.recv(timeout=5))["type"] in ("chunk", "snapshot")


def test_api_token_guards_everything_but_healthz(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    token = "tok-abcdef123456"
    url = serve(make_settings(api_token=token))
    auth = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
    for path in ("/settings", "/models", "/usage", "/profile", "/v1/models"):
        assert_error(httpx.get(f"{url}{path}"), 401)
        assert_error(httpx.get(f"{url}{path}", headers={"Authorization": "Bearer wrong"}), 401)
        assert httpx.get(f"{url}{path}", headers=auth).status_code == 200, path
    assert_error(httpx.post(f"{url}/chat/completions", json=chat_body()), 401)
    assert httpx.post(f"{url}/chat/completions", json=chat_body(), headers=auth).status_code == 200

    with pytest.raises((InvalidStatus, ConnectionClosed)):
        with connect(ws_url(url, "/ws/monitoring"), open_timeout=5) as ws:
            ws.recv(timeout=5)
    with connect(ws_url(url, f"/ws/monitoring?token={token}"), open_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"


def _secret_fragments() -> list[str]:
    return [TEST_OPENAI_KEY, "SECRETKEY", NEW_KEY, "NEWSECRET"]


def _assert_clean(text: str, where: str) -> None:
    for fragment in _secret_fragments():
        assert fragment not in text, f"the key leaked into {where}"


def test_key_never_leaks(
    live_server: str,
    settings: Settings,
    upstream: FakeUpstream,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: dict[str, str] = {}
    with httpx.Client(base_url=live_server, timeout=20) as client:
        texts["settings"] = client.get("/settings").text
        assert json.loads(texts["settings"])["openai_api_key"]["hint"].endswith("1234")
        texts["openapi"] = client.get("/openapi.json").text
        texts["docs"] = client.get("/docs").text
        texts["chat"] = client.post("/chat/completions", json=chat_body(provider="openai")).text
        texts["stream"] = client.post(
            "/chat/completions/stream", json=chat_body(provider="openai")
        ).text
        texts["structured"] = client.post(
            "/chat/completions", json=chat_body(provider="openai", response_format=COLOR_FORMAT)
        ).text
        # Error paths: the upstream rejects the key, fails, or is not found.
        upstream.openai_valid_keys = {"sk-only-this-one"}
        rejected = client.post("/chat/completions", json=chat_body(provider="openai"))
        assert rejected.status_code == 401
        texts["401"] = rejected.text
        texts["401-stream"] = client.post(
            "/chat/completions/stream", json=chat_body(provider="openai")
        ).text
        upstream.openai_valid_keys = None
        for scenario in ("server_error", "not_found", "rate_limited", "midstream_error"):
            upstream.scenario = scenario
            texts[scenario] = client.post(
                "/chat/completions/stream", json=chat_body(provider="openai")
            ).text
        upstream.scenario = "default"
        texts["models"] = client.get("/models").text
        texts["v1-models"] = client.get("/v1/models").text
        texts["check"] = client.post("/providers/openai/test").text
        # Change the key at runtime, then read everything again.
        changed = client.post("/settings", json={"openai_api_key": NEW_KEY})
        assert changed.status_code == 200
        texts["settings-changed"] = changed.text
        assert changed.json()["openai_api_key"]["hint"].endswith("5678")
        texts["chat-new-key"] = client.post(
            "/chat/completions", json=chat_body(provider="openai")
        ).text
        texts["usage"] = client.get("/usage").text
        texts["settings-again"] = client.get("/settings").text
        with connect(ws_url(live_server, "/ws/monitoring"), open_timeout=5) as ws:
            texts["ws-monitoring"] = str(ws.recv(timeout=5))

    # The key did reach the upstream (so the checks above are not vacuous).
    sent = {r.headers.get("authorization") for r in upstream.requests_to("/v1/chat/completions")}
    assert f"Bearer {TEST_OPENAI_KEY}" in sent and f"Bearer {NEW_KEY}" in sent

    for where, text in texts.items():
        _assert_clean(text, f"the {where} response")
    _assert_clean(caplog.text, "the log records")
    captured = capfd.readouterr()
    _assert_clean(captured.out + captured.err, "stdout/stderr")

    # Nor into the database (main file, WAL and shared memory), raw bytes.
    db_files = [p for p in Path(settings.data_dir).rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" or p.name.endswith(".db-wal") for p in db_files), db_files
    for path in db_files:
        raw = path.read_bytes()
        for fragment in _secret_fragments():
            assert fragment.encode() not in raw, f"the key leaked into {path.name}"


# -- Model API vs admin surface (connector/api/access.py) --------------------------

MODEL_ROUTES = [
    ("POST", "/chat/completions"),
    ("POST", "/chat/completions/stream"),
    ("POST", "/v1/chat/completions"),
    ("GET", "/v1/models"),
    ("POST", "/v1/messages"),
    ("POST", "/v1/messages/count_tokens"),
    ("POST", "/v1/responses"),
    ("GET", "/v1/responses/resp_1"),
    ("POST", "/v1/embeddings"),
    ("POST", "/responses"),
    ("POST", "/api/chat"),
    ("POST", "/api/generate"),
    ("GET", "/api/tags"),
    ("POST", "/api/show"),
    ("POST", "/api/embed"),
    ("GET", "/api/version"),
    ("GET", "/models"),
    ("GET", "/usage"),
    ("GET", "/usage/clients"),
    ("GET", "/ws/chat"),
    ("GET", "/ws/monitoring"),
]
ADMIN_ROUTES = [
    ("GET", "/settings"),
    ("POST", "/settings"),
    ("POST", "/settings/program-key/reveal"),
    ("POST", "/settings/program-key/rotate"),
    ("GET", "/profile"),
    ("POST", "/profile"),
    ("GET", "/conversations"),
    ("POST", "/conversations"),
    ("DELETE", "/conversations/abc"),
    ("POST", "/models/pull"),
    ("POST", "/models"),
    ("POST", "/usage"),
    ("POST", "/providers/ollama/test"),
    ("POST", "/desktop/focus"),
    ("POST", "/api/pull"),
    ("DELETE", "/api/delete"),
    ("POST", "/api/create"),
    ("POST", "/api/copy"),
    ("POST", "/api/push"),
    ("POST", "/api/blobs/sha256:abc"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/something/new"),
    ("TRACE", "/v1/models"),
    ("PUT", "/v1/chat/completions"),
    ("PATCH", "/api/chat"),
]


def test_route_classification() -> None:
    from connector.api.access import classify, is_model_api

    for method, path in MODEL_ROUTES:
        assert is_model_api(method, path), (method, path)
        assert classify(method, path) == "model", (method, path)
    for method, path in ADMIN_ROUTES:
        assert not is_model_api(method, path), (method, path)
        assert classify(method, path) == "admin", (method, path)
    for path in ("/", "/healthz", "/app", "/app/settings", "/assets/index.js", "/favicon.svg"):
        assert classify("GET", path) == "public", path


def _admin_scope_server(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str], token: str
) -> str:
    return serve(make_settings(api_token=token, api_token_scope="admin"))


def test_admin_scope_opens_the_model_api_to_loopback_programs(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str], upstream: FakeUpstream
) -> None:
    token = "tok-desktop-123456"
    url = _admin_scope_server(make_settings, serve, token)
    auth = {"Authorization": f"Bearer {token}"}
    # The model API: no token needed from this machine.
    for path in ("/v1/models", "/models", "/usage", "/usage/clients"):
        assert httpx.get(f"{url}{path}").status_code == 200, path
    reply = httpx.post(f"{url}/v1/chat/completions", json=chat_body(model="ollama/gpt-oss:20b"))
    assert reply.status_code == 200, reply.text
    assert reply.json()["object"] == "chat.completion"
    with connect(ws_url(url, "/ws/monitoring"), open_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"
    # The admin surface: the token, as before.
    for method, path in (
        ("GET", "/settings"),
        ("POST", "/settings"),
        ("GET", "/profile"),
        ("GET", "/conversations"),
        ("POST", "/models/pull"),
        ("POST", "/providers/ollama/test"),
        ("POST", "/settings/program-key/reveal"),
        ("GET", "/openapi.json"),
    ):
        body = {"name": "x"} if path == "/models/pull" else {}
        refused = assert_error(httpx.request(method, f"{url}{path}", json=body), 401)
        assert refused["code"] == "invalid_api_token"
        wrong = httpx.request(method, f"{url}{path}", json=body, headers={"x-api-key": "nope"})
        assert_error(wrong, 401)
    assert httpx.get(f"{url}/settings", headers=auth).json()["program_access"] == "open"
    assert httpx.get(f"{url}/profile", headers={"x-api-key": token}).status_code == 200


def test_admin_scope_keeps_host_and_origin_checks_on_every_route(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str], upstream: FakeUpstream
) -> None:
    token = "tok-desktop-123456"
    url = _admin_scope_server(make_settings, serve, token)
    auth = {"Authorization": f"Bearer {token}"}
    for method, path in MODEL_ROUTES + ADMIN_ROUTES:
        if path.startswith("/ws/") or method not in ("GET", "POST", "DELETE"):
            continue
        for headers in ({"Host": "evil.example"}, {"Host": "evil.example", **auth}):
            response = httpx.request(method, f"{url}{path}", headers=headers, json={})
            assert response.status_code == 403, (method, path, headers)
        if method != "GET":
            response = httpx.request(
                method, f"{url}{path}", headers={"Origin": EVIL_ORIGIN, **auth}, json={}
            )
            assert response.status_code == 403, (method, path)
    # A chat body sent as a "simple" cross-site form post is refused too.
    evil = httpx.post(
        f"{url}/v1/chat/completions",
        content=json.dumps(chat_body()),
        headers={"Origin": EVIL_ORIGIN, "Content-Type": "text/plain"},
    )
    assert_error(evil, 403)
    for path in ("/ws/chat", "/ws/monitoring"):
        with pytest.raises(InvalidStatus) as refused:
            with connect(ws_url(url, path), origin=Origin(EVIL_ORIGIN), open_timeout=5) as ws:
                ws.recv(timeout=5)
        assert refused.value.response.status_code == 403
    assert upstream.requests_to("/api/chat") == []


def test_admin_scope_wants_the_token_from_other_machines(
    make_settings: Callable[..., Settings],
) -> None:
    """A window bound beyond loopback: the model API opens to loopback peers only."""
    import asyncio

    from connector.main import create_app

    token = "tok-desktop-123456"
    app = create_app(make_settings(api_token=token, api_token_scope="admin"))

    async def ask(client_host: str, headers: dict[str, str]) -> int:
        transport = httpx.ASGITransport(app=app, client=(client_host, 5555))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return (await c.post("/v1/chat/completions", json={}, headers=headers)).status_code

    assert asyncio.run(ask("192.168.1.20", {})) == 401
    assert asyncio.run(ask("192.168.1.20", {"Authorization": "Bearer wrong"})) == 401
    # With the token the request gets past security (to validation: the body is empty).
    assert asyncio.run(ask("192.168.1.20", {"Authorization": f"Bearer {token}"})) == 422
    assert asyncio.run(ask("127.0.0.1", {})) == 422
