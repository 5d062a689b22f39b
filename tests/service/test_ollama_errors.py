"""Errors on Ollama's API come as Ollama writes them, `{"error": "..."}` with Ollama's
statuses: route errors, validation, the security middleware's refusals, unknown
routes; and each chat, generate and embed call is on the books exactly once, with its
surface and calling program."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import httpx
import ollama
import pytest

from connector.config import Settings
from tests.fakes.recorded import load_ndjson
from tests.fakes.upstream import FakeUpstream

MODEL = "gpt-oss:20b"
# What the client's User-Agent (`ollama-python/0.6.3 (x86_64 linux) Python/3.11.7`) names.
CLIENT = f"ollama-python/{version('ollama')}"


def _ollama_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"]
    return str(body["error"])


def _chat(**extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], **extra}


def test_model_not_found_is_404_with_the_pull_hint(
    shared_live_server: str, upstream: FakeUpstream
) -> None:
    upstream.scenario = "not_found"
    client = ollama.Client(host=shared_live_server)
    for call in (
        lambda: client.chat(model="nope:1b", messages=[{"role": "user", "content": "Hi"}]),
        lambda: client.generate(model="nope:1b", prompt="Hi", stream=False),
        lambda: client.show("nope:1b"),
        lambda: client.embed(model="nope:1b", input="Hi"),
    ):
        with pytest.raises(ollama.ResponseError) as caught:
            call()
        assert caught.value.status_code == 404
        assert "ollama pull nope:1b" in caught.value.error
    # Streamed: the failure comes before the first chunk, so the status is kept too.
    streamed = httpx.post(f"{shared_live_server}/api/chat", json=_chat(model="nope:1b"))
    assert "ollama pull" in _ollama_error(streamed, 404)


def test_think_on_a_model_without_thinking_is_400(
    shared_live_server: str, upstream: FakeUpstream
) -> None:
    upstream.scenario = "think_unsupported"
    response = httpx.post(f"{shared_live_server}/api/chat", json=_chat(think=True))
    assert "does not support thinking" in _ollama_error(response, 400)


@pytest.mark.parametrize(
    "body",
    [
        {"messages": [{"role": "user", "content": "Hi"}]},  # no model
        _chat(think="extreme"),
        _chat(format="yaml"),
        _chat(messages=[{"role": "robot", "content": "Hi"}]),
    ],
)
def test_bad_bodies_are_400_before_any_upstream_call(
    shared_live_server: str, upstream: FakeUpstream, body: dict[str, Any]
) -> None:
    _ollama_error(httpx.post(f"{shared_live_server}/api/chat", json=body), 400)
    assert not upstream.requests_to("/api/chat")


def test_invalid_format_schema_is_400(shared_live_server: str, upstream: FakeUpstream) -> None:
    bad = {"type": "object", "properties": {"a": {"type": "no-such-type"}}}
    response = httpx.post(f"{shared_live_server}/api/chat", json=_chat(format=bad))
    assert "JSON Schema" in _ollama_error(response, 400)


def test_midstream_failure_is_an_error_line(
    shared_live_server: str, upstream: FakeUpstream
) -> None:
    upstream.scenario = "midstream_error"
    response = httpx.post(f"{shared_live_server}/api/chat", json=_chat())
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert set(lines[-1]) == {"error"}
    assert not any(line.get("done") for line in lines)
    recorded = load_ndjson("ollama/chat_stream_midstream_error.ndjson")
    assert recorded[-1]["error"] in lines[-1]["error"]


def test_unknown_ollama_route_is_501_naming_ollama(
    shared_live_server: str, upstream: FakeUpstream
) -> None:
    response = httpx.post(f"{shared_live_server}/api/create", json={"model": "x"})
    message = _ollama_error(response, 501)
    assert f"{upstream.ollama_url}/api/create" in message
    assert not upstream.requests_to("/api/create")
    wrong_method = httpx.get(f"{shared_live_server}/api/chat")
    assert "POST" in _ollama_error(wrong_method, 405)
    assert "POST" in wrong_method.headers["allow"]


def test_security_refusals_speak_ollama(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    url = serve(make_settings(api_token="s3cret-token"))
    refused = httpx.post(f"{url}/api/chat", json=_chat())
    _ollama_error(refused, 401)
    assert "s3cret" not in refused.text
    with pytest.raises(ollama.ResponseError) as caught:
        ollama.Client(host=url).list()
    assert caught.value.status_code == 401
    allowed = ollama.Client(host=url, headers={"Authorization": "Bearer s3cret-token"})
    assert allowed.list().models
    # Other paths keep the OpenAI error object.
    other = httpx.get(f"{url}/models")
    assert other.status_code == 401 and isinstance(other.json()["error"], dict)
    bad_host = httpx.get(f"{url}/api/tags", headers={"Host": "evil.example"})
    assert bad_host.status_code in (400, 403) and isinstance(bad_host.json()["error"], str)


def test_each_call_is_counted_once_with_surface_and_client(
    live_server: str, upstream: FakeUpstream
) -> None:
    client = ollama.Client(host=live_server)
    client.chat(model=MODEL, messages=[{"role": "user", "content": "Hi"}])
    list(client.chat(model=MODEL, messages=[{"role": "user", "content": "Hi"}], stream=True))
    client.generate(model=MODEL, prompt="Hi")
    client.chat(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
    client.embed(model="all-minilm", input=["a b", "c"])
    upstream.scenario = "not_found"
    with pytest.raises(ollama.ResponseError):
        client.embed(model="nope", input="x")
    upstream.scenario = "default"
    client.chat(model=MODEL, messages=[])  # a load call: no tokens, not a chat
    client.list()

    usage = httpx.get(f"{live_server}/usage").json()
    records = usage["recent"]
    assert len(records) == 6
    assert {r["surface"] for r in records} == {"ollama"}
    assert {r["client"] for r in records} == {CLIENT}
    kinds = sorted((r["kind"], r["status"]) for r in records)
    assert kinds == [("chat", "ok")] * 4 + [("embed", "error"), ("embed", "ok")]
    embed = next(r for r in records if r["kind"] == "embed" and r["status"] == "ok")
    assert embed["prompt_tokens"] == (2 + 3) + (1 + 3) and embed["completion_tokens"] == 0
    done = load_ndjson("ollama/chat_stream.ndjson")[-1]
    chats = [r for r in records if r["kind"] == "chat" and r["provider"] == "ollama"]
    assert all(r["prompt_tokens"] == done["prompt_eval_count"] for r in chats)
    assert all(r["completion_tokens"] == done["eval_count"] for r in chats)
    rows = usage["by_client"]
    assert [(r["client"], r["surface"], r["requests"], r["embeds"]) for r in rows] == [
        (CLIENT, "ollama", 6, 2)
    ]
    # Filters narrow everything to one program or one surface.
    httpx.post(
        f"{live_server}/v1/chat/completions", json={"messages": [{"role": "user", "content": "Hi"}]}
    )
    mine = httpx.get(f"{live_server}/usage", params={"client": rows[0]["client"]}).json()
    assert mine["totals"]["requests"] == 6 and mine["client"] == rows[0]["client"]
    v1 = httpx.get(f"{live_server}/usage", params={"surface": "v1"}).json()
    assert v1["totals"]["requests"] == 1
    assert [r["client"] for r in v1["by_client"]] == [f"python-httpx/{httpx.__version__}"]
    everyone = httpx.get(f"{live_server}/usage").json()
    assert len(everyone["by_client"]) == 2 and everyone["totals"]["requests"] == 7
