"""App keys: made (shown once), used by the official clients on every surface, revoked
(the next request is a 401), hashed at rest; the key on every usage record."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx
import ollama
import openai
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from connector.config import Settings
from tests.service.helpers import OLLAMA_TEXT, assert_error, chat_body, ws_url

MODEL = "ollama/gpt-oss:20b"


def make_key(url: str, name: str = "ci", **limits: Any) -> dict[str, Any]:
    response = httpx.post(f"{url}/keys", json={"name": name, "limits": limits})
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created: dict[str, Any] = response.json()
    return created


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _ws_chat(url: str, key: str) -> dict[str, Any]:
    with connect(ws_url(url, f"/ws/chat?token={key}"), open_timeout=5) as ws:
        ws.send(json.dumps({"type": "chat", "id": "r1", "request": chat_body(model=MODEL)}))
        while True:
            message: dict[str, Any] = json.loads(ws.recv(timeout=10))
            if message["type"] in ("done", "error"):
                return message


def test_a_key_works_on_every_surface_and_is_refused_once_revoked(
    live_server: str, settings: Settings
) -> None:
    url = live_server
    assert httpx.post(f"{url}/v1/chat/completions", json=chat_body()).status_code == 200
    created = make_key(url, "ci-script")
    key = created["key"]
    assert key.startswith("aic_") and len(key) > 40
    assert created["hint"] == f"…{key[-4:]}" and created["name"] == "ci-script"
    listed = httpx.get(f"{url}/keys").json()
    assert [k["id"] for k in listed] == [created["id"]]
    assert key not in json.dumps(listed) and "key" not in listed[0]

    # From the first key on, the model API wants one.
    refused = assert_error(httpx.post(f"{url}/v1/chat/completions", json=chat_body()), 401)
    assert refused["code"] == "invalid_api_key" and key not in refused["message"]
    assert_error(
        httpx.post(f"{url}/v1/chat/completions", json=chat_body(), headers=bearer("aic_nope")), 401
    )

    # The official clients, each sending the key its own way.
    oa = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)
    assert oa.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}])
    assert oa.responses.create(model=MODEL, input="Hi").output_text == OLLAMA_TEXT
    ol = ollama.Client(host=url, headers=bearer(key))
    assert ol.chat(model="gpt-oss:20b", messages=[{"role": "user", "content": "Hi"}]).message
    an = anthropic.Anthropic(base_url=url, api_key=key, max_retries=0)  # sends x-api-key
    message = an.messages.create(
        model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
    )
    assert message.content[0].type == "text"
    assert _ws_chat(url, key)["type"] == "done"
    with connect(ws_url(url, f"/ws/monitoring?token={key}"), open_timeout=5) as ws:
        snapshot = json.loads(ws.recv(timeout=5))
    assert snapshot["type"] == "snapshot"
    with pytest.raises(InvalidStatus):
        with connect(ws_url(url, "/ws/monitoring"), open_timeout=5) as ws:
            ws.recv(timeout=5)

    usage = httpx.get(f"{url}/usage", headers=bearer(key)).json()
    surfaces = sorted(r["surface"] for r in usage["recent"])
    assert surfaces == ["anthropic", "ollama", "responses", "v1", "ws"]
    assert {r["key_id"] for r in usage["recent"]} == {created["id"]}
    assert {r["key_name"] for r in usage["recent"]} == {"ci-script"}
    assert all(r["overhead_ms"] is not None and r["overhead_ms"] >= 0 for r in usage["recent"])
    # The key reads its own usage only: the request made before it is not there.
    assert usage["totals"]["requests"] == 5 and usage["key_id"] == created["id"]
    assert [(k["key_id"], k["requests"]) for k in usage["by_key"]] == [(created["id"], 5)]
    # Unfiltered (from this machine, no token: the admin's view) both are grouped.
    everything = httpx.get(f"{url}/usage", headers={"Sec-Fetch-Site": "same-origin"}).json()
    assert sorted((k["key_id"] or "", k["requests"]) for k in everything["by_key"]) == [
        ("", 1),
        (created["id"], 5),
    ]

    [seen] = httpx.get(f"{url}/keys").json()
    assert seen["requests"] == 5 and seen["last_used_at"] >= seen["created_at"]

    revoked = httpx.delete(f"{url}/keys/{created['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    gone = assert_error(
        httpx.post(f"{url}/v1/chat/completions", json=chat_body(), headers=bearer(key)), 401
    )
    assert "revoked" in gone["message"]
    with pytest.raises(anthropic.AuthenticationError):
        an.messages.create(model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "x"}])
    with pytest.raises(ollama.ResponseError) as failed:
        ol.chat(model="gpt-oss:20b", messages=[{"role": "user", "content": "x"}])
    assert failed.value.status_code == 401
    with pytest.raises(InvalidStatus):
        with connect(ws_url(url, f"/ws/chat?token={key}"), open_timeout=5) as ws:
            ws.recv(timeout=5)
    # Revoked keys stay listed (their records keep a name); the only key is revoked, so
    # the model API is open again, as it was before any key.
    assert httpx.get(f"{url}/keys").json()[0]["revoked_at"]
    assert httpx.post(f"{url}/v1/chat/completions", json=chat_body()).status_code == 200

    # At rest, only the hash: the raw key is in no file under the data directory.
    files = [p for p in Path(settings.data_dir).rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert key.encode() not in path.read_bytes(), path
    db = sqlite3.connect(Path(settings.data_dir) / "connector.db")
    try:
        (stored,) = db.execute("SELECT key_hash FROM app_key").fetchone()
    finally:
        db.close()
    assert stored == hashlib.sha256(key.encode()).hexdigest()


def test_blocking_answers_say_the_connectors_own_time(live_server: str) -> None:
    url = live_server
    key = make_key(url)["key"]
    auth = bearer(key)
    hi = [{"role": "user", "content": "Hi"}]
    blocking = [
        ("/v1/chat/completions", chat_body(model=MODEL)),
        ("/chat/completions", chat_body(model=MODEL)),
        ("/api/chat", {"model": "gpt-oss:20b", "messages": hi, "stream": False}),
        ("/v1/messages", {"model": MODEL, "max_tokens": 64, "messages": hi}),
        ("/v1/responses", {"model": MODEL, "input": "Hi"}),
        ("/v1/embeddings", {"model": "ollama/nomic-embed-text", "input": "Hi"}),
    ]
    for path, body in blocking:
        response = httpx.post(f"{url}{path}", json=body, headers=auth)
        assert response.status_code == 200, (path, response.text)
        overhead = float(response.headers["x-connector-overhead-ms"])
        assert 0 <= overhead < 1000, path
    streamed = httpx.post(
        f"{url}/v1/chat/completions", json=chat_body(model=MODEL, stream=True), headers=auth
    )
    assert streamed.status_code == 200 and "x-connector-overhead-ms" not in streamed.headers
    # A request that never reached an upstream has no such header.
    assert "x-connector-overhead-ms" not in httpx.get(f"{url}/keys").headers
    records = httpx.get(f"{url}/usage", headers=auth).json()["recent"]
    assert len(records) == len(blocking) + 1
    assert all(0 <= r["overhead_ms"] < 1000 for r in records)


def test_keys_open_the_model_api_only(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    token = "tok-admin-123456"
    url = serve(make_settings(api_token=token))
    admin = bearer(token)
    assert_error(httpx.post(f"{url}/keys", json={"name": "x"}), 401)
    created = httpx.post(f"{url}/keys", json={"name": "agent"}, headers=admin).json()
    key = created["key"]
    assert (
        httpx.post(f"{url}/v1/chat/completions", json=chat_body(), headers=bearer(key)).status_code
        == 200
    )
    for path in ("/keys", "/settings", "/metrics", "/requests"):
        assert_error(httpx.get(f"{url}{path}", headers=bearer(key)), 401)
    assert_error(httpx.delete(f"{url}/keys/{created['id']}", headers=bearer(key)), 401)
    # The admin token's requests are on the books as the admin's.
    httpx.post(f"{url}/v1/chat/completions", json=chat_body(), headers=admin)
    by_key = httpx.get(f"{url}/usage", headers=admin).json()["by_key"]
    assert sorted(k["key_id"] for k in by_key) == ["admin", created["id"]]


def test_the_connectors_own_page_still_chats_on_a_tokenless_loopback_server(
    live_server: str,
) -> None:
    url = live_server
    make_key(url)
    assert_error(httpx.post(f"{url}/v1/chat/completions", json=chat_body()), 401)
    page = {"Sec-Fetch-Site": "same-origin"}
    assert httpx.post(f"{url}/chat/completions", json=chat_body(), headers=page).status_code == 200
    # Another site's page is not the connector's own.
    other = {"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}
    assert httpx.post(f"{url}/chat/completions", json=chat_body(), headers=other).status_code in (
        401,
        403,
    )


def test_the_programs_key_is_one_of_the_keys(live_server: str) -> None:
    url = live_server
    httpx.post(f"{url}/settings", json={"programs_need_key": True}).raise_for_status()
    program = httpx.post(f"{url}/settings/program-key/reveal").json()["key"]
    listed = httpx.get(f"{url}/keys").json()
    assert [(k["id"], k["builtin"]) for k in listed] == [("programs", True)]
    assert listed[0]["hint"] == f"…{program[-4:]}" and program not in json.dumps(listed)
    assert (
        httpx.post(
            f"{url}/v1/chat/completions", json=chat_body(), headers=bearer(program)
        ).status_code
        == 200
    )
    record = httpx.get(f"{url}/usage", headers=bearer(program)).json()["recent"][0]
    assert (record["key_id"], record["key_name"]) == ("programs", "programs' key")
    # Its budgets are set like any key's; it is rotated in Settings, not revoked here.
    patched = httpx.patch(f"{url}/keys/programs", json={"limits": {"requests_per_minute": 100}})
    assert patched.json()["limits"]["requests_per_minute"] == 100
    assert_error(httpx.delete(f"{url}/keys/programs"), 404)
    rotated = httpx.post(f"{url}/settings/program-key/rotate").json()["key"]
    assert_error(
        httpx.post(f"{url}/v1/chat/completions", json=chat_body(), headers=bearer(program)), 401
    )
    assert (
        httpx.post(
            f"{url}/v1/chat/completions", json=chat_body(), headers=bearer(rotated)
        ).status_code
        == 200
    )


def test_keys_and_their_names_survive_a_restart(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    settings = make_settings()
    first = serve(settings)
    created = make_key(first, "nightly", tokens_per_day=1000)
    renamed = httpx.patch(f"{first}/keys/{created['id']}", json={"name": "nightly-job"})
    assert renamed.json()["name"] == "nightly-job"
    assert renamed.json()["limits"]["tokens_per_day"] == 1000  # the rest stays
    second = serve(settings.model_copy(update={"port": 0}))
    assert_error(httpx.post(f"{second}/v1/chat/completions", json=chat_body()), 401)
    ok = httpx.post(
        f"{second}/v1/chat/completions", json=chat_body(), headers=bearer(created["key"])
    )
    assert ok.status_code == 200
    [key] = httpx.get(f"{second}/keys").json()
    assert key["name"] == "nightly-job" and key["limits"]["tokens_per_day"] == 1000
    assert_error(httpx.patch(f"{second}/keys/key_missing", json={"name": "x"}), 404)
    assert_error(httpx.post(f"{second}/keys", json={"name": ""}), 422)


def test_monitoring_shows_a_key_its_own_records(live_server: str) -> None:
    url = live_server
    mine, theirs = make_key(url, "mine"), make_key(url, "theirs")
    with connect(ws_url(url, f"/ws/monitoring?token={mine['key']}"), open_timeout=5) as ws:
        snapshot = json.loads(ws.recv(timeout=5))
        assert snapshot["type"] == "snapshot" and snapshot["usage"]["key_id"] == mine["id"]
        for key in (theirs, mine):
            body = chat_body(model=MODEL)
            headers = bearer(key["key"])
            assert httpx.post(f"{url}/v1/chat/completions", json=body, headers=headers).is_success
        while (message := json.loads(ws.recv(timeout=5)))["type"] != "record":
            pass
    # Their record came first, and was not shown.
    assert message["record"]["key_id"] == mine["id"]
    # The admin's view (here: this machine's page, no token set) narrows with ?key=.
    page = {"Origin": url}
    with connect(ws_url(url, f"/ws/monitoring?key={theirs['id']}"), additional_headers=page) as ws:
        usage = json.loads(ws.recv(timeout=5))["usage"]
    assert usage["key_id"] == theirs["id"] and usage["totals"]["requests"] == 1
