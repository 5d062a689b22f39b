"""The fake upstreams every tier shares answer like the recorded servers."""

from __future__ import annotations

import json
import time

import httpx
import jsonschema
import openai
import pytest

from tests.fakes.schema_values import invalid_value, valid_value
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import COLOR_SCHEMA, OLLAMA_TEXT, OPENAI_TEXT, parse_sse

AUTH = {"Authorization": "Bearer sk-fake"}
# Empty messages are Ollama's load call (answered as Ollama does); a chat needs one.
_HI = [{"role": "user", "content": "Hi"}]


def _ndjson(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_ollama_stream_and_blocking(upstream: FakeUpstream) -> None:
    with httpx.Client(base_url=upstream.ollama_url) as client:
        streamed = client.post("/api/chat", json={"model": "m1", "messages": _HI})
        assert streamed.headers["content-type"] == "application/x-ndjson"
        lines = _ndjson(streamed.text)
        assert all(line["model"] == "m1" for line in lines)
        assert "".join(line["message"]["content"] for line in lines) == OLLAMA_TEXT  # type: ignore[index]
        assert lines[-1]["done"] is True and lines[-1]["eval_count"] == 282
        blocking = client.post("/api/chat", json={"model": "m1", "messages": _HI, "stream": False})
        assert blocking.json()["done"] is True and blocking.json()["model"] == "m1"
    assert [r.path for r in upstream.requests] == ["/api/chat", "/api/chat"]
    assert upstream.last("/api/chat").json["stream"] is False


@pytest.mark.parametrize(
    ("scenario", "status"),
    [("not_found", 404), ("think_unsupported", 400), ("rate_limited", 429), ("server_error", 500)],
)
def test_ollama_error_scenarios(upstream: FakeUpstream, scenario: str, status: int) -> None:
    upstream.scenario = scenario
    response = httpx.post(f"{upstream.ollama_url}/api/chat", json={"model": "x:1", "messages": _HI})
    assert response.status_code == status
    assert isinstance(response.json()["error"], str)
    if scenario == "rate_limited":
        assert response.headers["retry-after"] == "7"
    if scenario == "not_found":
        assert response.json()["error"] == "model 'x:1' not found"


def test_ollama_auto_scenarios(upstream: FakeUpstream) -> None:
    thinking = httpx.post(
        f"{upstream.ollama_url}/api/chat", json={"model": "m", "messages": _HI, "think": "low"}
    )
    assert any("thinking" in line["message"] for line in _ndjson(thinking.text))  # type: ignore[operator]
    structured = httpx.post(
        f"{upstream.ollama_url}/api/chat",
        json={"model": "m", "messages": _HI, "format": COLOR_SCHEMA, "stream": False},
    )
    assert json.loads(structured.json()["message"]["content"]) == {
        "colors": ["red", "green", "blue"]
    }
    upstream.model_scenarios = {"m": "not_found"}
    assert httpx.post(f"{upstream.ollama_url}/api/chat", json={"model": "m"}).status_code == 404


def test_ollama_pull_and_listings(upstream: FakeUpstream) -> None:
    pull = _ndjson(httpx.post(f"{upstream.ollama_url}/api/pull", json={"model": "m"}).text)
    assert pull[0] == {"status": "pulling manifest"} and pull[-1] == {"status": "success"}
    assert any(line.get("completed") == line.get("total") for line in pull if "total" in line)
    assert httpx.get(f"{upstream.ollama_url}/api/version").json() == {"version": "0.12.6"}
    assert len(httpx.get(f"{upstream.ollama_url}/api/tags").json()["models"]) == 3
    upstream.scenario = "no_models"
    assert httpx.get(f"{upstream.ollama_url}/api/tags").json() == {"models": []}


def test_openai_fake_with_the_official_sdk(upstream: FakeUpstream) -> None:
    client = openai.OpenAI(base_url=upstream.openai_url, api_key="sk-fake", max_retries=0)
    reply = client.chat.completions.create(
        model="gpt-x", messages=[{"role": "user", "content": "Hi"}]
    )
    assert reply.model == "gpt-x" and reply.choices[0].message.content == OPENAI_TEXT
    chunks = list(
        client.chat.completions.create(
            model="gpt-x",
            messages=[{"role": "user", "content": "Hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == OPENAI_TEXT
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 29
    assert [m.id for m in client.models.list()] == ["model-id-0", "model-id-1", "model-id-2"]
    assert upstream.last("/v1/chat/completions").headers["authorization"] == "Bearer sk-fake"
    upstream.scenario = "rate_limited"
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model="gpt-x", messages=[{"role": "user", "content": "Hi"}])
    assert limited.value.response.headers["retry-after"] == "7"


def test_openai_fake_needs_a_key(upstream: FakeUpstream) -> None:
    response = httpx.post(f"{upstream.openai_url}/chat/completions", json={"model": "m"})
    assert response.status_code == 401
    upstream.openai_valid_keys = {"sk-good"}
    rejected = httpx.post(f"{upstream.openai_url}/chat/completions", json={}, headers=AUTH)
    assert rejected.json()["error"]["code"] == "invalid_api_key"


def test_openai_midstream_error_and_without_usage(upstream: FakeUpstream) -> None:
    body = {"model": "m", "messages": _HI, "stream": True}
    plain = parse_sse(
        httpx.post(
            f"{upstream.openai_url}/chat/completions", json=body, headers=AUTH
        ).text.splitlines()
    )
    assert plain[-1] == "[DONE]" and all("usage" not in f for f in plain[:-1])
    upstream.scenario = "midstream_error"
    broken = parse_sse(
        httpx.post(
            f"{upstream.openai_url}/chat/completions", json=body, headers=AUTH
        ).text.splitlines()
    )
    assert "error" in broken[-1] and "[DONE]" not in broken


def test_paced_streams_and_cancel_counting(upstream: FakeUpstream) -> None:
    upstream.chunk_delay = 0.05
    started = time.monotonic()
    httpx.post(
        f"{upstream.ollama_url}/api/chat", json={"model": "m", "messages": _HI, "stream": False}
    )
    # A blocking answer takes as long as its 12 paced token pieces would.
    assert time.monotonic() - started >= 0.5
    assert upstream.cancelled == 0
    upstream.scenario = "slow"
    with httpx.stream("POST", f"{upstream.ollama_url}/api/chat", json={"model": "m"}) as response:
        for _ in response.iter_lines():
            break
    assert upstream.wait_cancelled(1)
    upstream.scenario = "stall"
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{upstream.openai_url}/chat/completions", json={}, headers=AUTH, timeout=0.3)
    assert upstream.wait_cancelled(2)


def test_schema_values() -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 2},
            "count": {"type": "integer", "minimum": 3, "maximum": 9},
            "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}, "minItems": 1},
            "kind": {"enum": ["a", "b"]},
            "maybe": {"anyOf": [{"type": "null"}, {"type": "number"}]},
        },
        "required": ["name", "count"],
        "$defs": {"Tag": {"type": "object", "properties": {"label": {"type": "string"}}}},
    }
    jsonschema.validate(valid_value(schema), schema)
    bad, path = invalid_value(schema)
    assert path == "name"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    jsonschema.validate(valid_value(COLOR_SCHEMA), COLOR_SCHEMA)
