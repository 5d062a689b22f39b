"""Several endpoints at once: the seed's `ollama` and `openai` (the shared fake) and a
second OpenAI-compatible server `lab` (a second fake on another port), plus `dead`
(a closed port). Addressing, catalogue routing of bare names, aliases with globs,
fallback on each failure kind (never after the first token), and the records."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connector.config import Settings
from tests.fakes.server import closed_port_url
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import OPENAI_TEXT, chat_body, sse_events, wait_until

OLLAMA_MODELS = ["gpt-oss:20b", "qwen3:8b", "twin"]
OPENAI_MODELS = ["gpt-4o-mini", "gpt-4.1", "twin"]
LAB_MODELS = ["smollm2", "qwen2.5-coder", "twin"]
ALIASES = {
    "fast": "ollama/gpt-oss:20b",
    "claude-haiku-*": "ollama/qwen3:8b",
    "coder": ["lab/qwen2.5-coder", "openai/gpt-4o-mini"],
    "sturdy": ["dead/anything", "lab/smollm2"],
}


@pytest.fixture
def lab(second_upstream: FakeUpstream) -> FakeUpstream:
    second_upstream.openai_models = list(LAB_MODELS)
    return second_upstream


def endpoints_json(lab: FakeUpstream, **extra: Any) -> str:
    return json.dumps(
        {
            "endpoints": [
                {
                    "name": "lab",
                    "kind": "openai-compatible",
                    "base_url": lab.openai_url,
                    "pricing": "local",
                },
                {"name": "dead", "kind": "openai-compatible", "base_url": closed_port_url()},
            ],
            "aliases": ALIASES,
            **extra,
        }
    )


@pytest.fixture
def base(
    make_settings: Callable[..., Settings],
    serve: Callable[[Settings], str],
    upstream: FakeUpstream,
    lab: FakeUpstream,
) -> str:
    upstream.openai_models = list(OPENAI_MODELS)
    upstream.ollama_models = list(OLLAMA_MODELS)
    url = serve(make_settings(endpoints_json=endpoints_json(lab), read_timeout=1.5))
    # The catalogue is filled in the background at start; a listing refreshes it now.
    health = httpx.get(f"{url}/endpoints/health", params={"refresh": "true"}, timeout=10)
    assert {h["name"]: h["up"] for h in health.json()} == {
        "ollama": True,
        "openai": True,
        "lab": True,
        "dead": False,
    }
    return url


def chat(base: str, model: str, **extra: Any) -> httpx.Response:
    return httpx.post(
        f"{base}/v1/chat/completions", json=chat_body(model=model, **extra), timeout=20
    )


def records(base: str) -> list[dict[str, Any]]:
    return list(httpx.get(f"{base}/usage", timeout=10).json()["recent"])


def test_endpoint_slash_model_reaches_that_endpoint(
    base: str, upstream: FakeUpstream, lab: FakeUpstream
) -> None:
    reply = chat(base, "lab/smollm2")
    assert reply.status_code == 200, reply.text
    assert reply.json()["provider"] == "lab"
    assert lab.last("/v1/chat/completions").json["model"] == "smollm2"
    assert not upstream.requests_to("/v1/chat/completions")
    # lab wants no key: a placeholder bearer, never another endpoint's key.
    assert "sk-test" not in lab.last("/v1/chat/completions").headers["authorization"]

    assert chat(base, "openai/gpt-4o-mini").json()["provider"] == "openai"
    assert upstream.last("/v1/chat/completions").json["model"] == "gpt-4o-mini"
    assert chat(base, "ollama/qwen3:8b").json()["provider"] == "ollama"
    assert upstream.last("/api/chat").json["model"] == "qwen3:8b"
    assert len(lab.requests_to("/v1/chat/completions")) == 1


def test_every_listing_has_every_endpoints_models(base: str) -> None:
    v1 = {m["id"] for m in httpx.get(f"{base}/v1/models").json()["data"]}
    assert {"lab/smollm2", "openai/gpt-4o-mini", "ollama/gpt-oss:20b"} <= v1
    listed = httpx.get(f"{base}/models").json()["providers"]
    by_name = {p["name"]: p for p in listed}
    assert set(by_name) == {"ollama", "openai", "lab", "dead"}
    assert by_name["dead"]["available"] is False and by_name["dead"]["reason"]
    assert [m["id"] for m in by_name["lab"]["models"]] == sorted(LAB_MODELS)
    # The kind and pricing say what an endpoint is; its name never does.
    assert (by_name["lab"]["kind"], by_name["lab"]["local"]) == ("openai-compatible", True)
    assert (by_name["openai"]["kind"], by_name["openai"]["local"]) == ("openai-compatible", False)
    assert (by_name["ollama"]["kind"], by_name["ollama"]["local"]) == ("ollama", True)
    tags = [m["name"] for m in httpx.get(f"{base}/api/tags").json()["models"]]
    # The Ollama endpoint's own names as Ollama wrote them, the others' prefixed.
    assert tags[:3] == OLLAMA_MODELS
    assert {"lab/smollm2", "openai/gpt-4o-mini"} <= set(tags)


def test_a_bare_name_goes_to_the_endpoint_whose_catalogue_has_it(
    base: str, upstream: FakeUpstream, lab: FakeUpstream
) -> None:
    assert chat(base, "smollm2").json()["provider"] == "lab"
    assert chat(base, "gpt-4o-mini").json()["provider"] == "openai"
    assert chat(base, "qwen3:8b").json()["provider"] == "ollama"
    # Several have it, or none: the default endpoint.
    assert chat(base, "twin").json()["provider"] == "ollama"
    assert chat(base, "nobody-has-this").json()["provider"] == "ollama"
    assert [r.json["model"] for r in lab.requests_to("/v1/chat/completions")] == ["smollm2"]
    assert [r.json["model"] for r in upstream.requests_to("/api/chat")] == [
        "qwen3:8b",
        "twin",
        "nobody-has-this",
    ]


def test_the_ollama_api_and_anthropic_address_endpoints_too(
    base: str, upstream: FakeUpstream, lab: FakeUpstream
) -> None:
    reply = httpx.post(
        f"{base}/api/chat",
        json={
            "model": "lab/smollm2",
            "messages": [{"role": "user", "content": "Hi"}],
            "stream": False,
        },
        timeout=20,
    )
    assert reply.status_code == 200, reply.text
    assert lab.last("/v1/chat/completions").json["model"] == "smollm2"
    # A bare name on Ollama's API routes by catalogue as well.
    reply = httpx.post(
        f"{base}/api/chat",
        json={
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "Hi"}],
            "stream": False,
        },
        timeout=20,
    )
    assert reply.status_code == 200, reply.text
    assert upstream.last("/v1/chat/completions").json["model"] == "gpt-4o-mini"
    # Claude Code's fixed background model, pointed at a local one by a glob alias.
    reply = httpx.post(
        f"{base}/v1/messages",
        json={
            "model": "claude-haiku-4-5-20251001",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "Hi"}],
        },
        timeout=20,
    )
    assert reply.status_code == 200, reply.text
    assert upstream.last("/api/chat").json["model"] == "qwen3:8b"


def test_an_alias_stands_for_its_model(base: str, upstream: FakeUpstream) -> None:
    assert chat(base, "fast").json()["provider"] == "ollama"
    assert upstream.last("/api/chat").json["model"] == "gpt-oss:20b"
    # A glob that does not match leaves the name as it is.
    assert chat(base, "claude-sonnet-4").json()["provider"] == "ollama"
    assert upstream.last("/api/chat").json["model"] == "claude-sonnet-4"


@pytest.mark.parametrize("scenario", ["server_error", "overloaded", "rate_limited", "stall"])
def test_fallback_takes_the_next_endpoint_before_the_first_token(
    base: str, upstream: FakeUpstream, lab: FakeUpstream, scenario: str
) -> None:
    lab.scenario = scenario
    reply = chat(base, "coder")
    assert reply.status_code == 200, reply.text
    assert reply.json()["provider"] == "openai"
    assert reply.json()["choices"][0]["message"]["content"] == OPENAI_TEXT
    assert lab.last("/v1/chat/completions").json["model"] == "qwen2.5-coder"
    assert upstream.last("/v1/chat/completions").json["model"] == "gpt-4o-mini"
    [record] = records(base)
    assert record["status"] == "ok"
    assert record["endpoint"] == "openai" and record["provider"] == "openai"
    assert record["tried"] == "lab,openai"
    health = {h["name"]: h for h in httpx.get(f"{base}/endpoints/health").json()}
    assert health["lab"]["up"] is False and health["lab"]["last_error"]


def test_fallback_over_an_unreachable_endpoint(base: str, lab: FakeUpstream) -> None:
    events = sse_events(
        httpx.post(
            f"{base}/v1/chat/completions",
            json=chat_body(model="sturdy", stream=True),
            timeout=20,
        )
    )
    assert events[-1] == "[DONE]"
    assert {e["provider"] for e in events[:-1] if isinstance(e, dict)} == {"lab"}
    assert lab.last("/v1/chat/completions").json["model"] == "smollm2"
    [record] = records(base)
    assert record["endpoint"] == "lab" and record["tried"] == "dead,lab"


def test_no_fallback_after_the_first_token(
    base: str, upstream: FakeUpstream, lab: FakeUpstream
) -> None:
    lab.scenario = "midstream_error"
    response = httpx.post(
        f"{base}/v1/chat/completions", json=chat_body(model="coder", stream=True), timeout=20
    )
    assert response.status_code == 200
    events = sse_events(response)
    text = "".join(
        (e["choices"][0]["delta"].get("content") or "")
        for e in events
        if isinstance(e, dict) and e.get("choices")
    )
    assert text  # the client had tokens from lab...
    assert "error" in events[-1]  # ...then the error, and no second answer spliced on
    assert not upstream.requests_to("/v1/chat/completions")
    [record] = records(base)
    assert record["status"] == "error"
    assert record["endpoint"] == "lab" and record["tried"] == "lab"


def test_a_failure_that_is_not_the_upstreams_does_not_fall_back(
    base: str, upstream: FakeUpstream, lab: FakeUpstream
) -> None:
    lab.scenario = "unauthorized"
    reply = chat(base, "coder")
    assert reply.status_code == 401
    assert not upstream.requests_to("/v1/chat/completions")


def test_usage_groups_by_endpoint_and_prices_by_endpoint(
    base: str, upstream: FakeUpstream, lab: FakeUpstream
) -> None:
    for model in ("lab/smollm2", "lab/smollm2", "openai/gpt-4o-mini", "ollama/gpt-oss:20b"):
        assert chat(base, model).status_code == 200
    lab.scenario = "server_error"
    assert chat(base, "coder").status_code == 200
    summary = httpx.get(f"{base}/usage").json()
    by_endpoint = {row["endpoint"]: row for row in summary["by_endpoint"]}
    assert by_endpoint["lab"]["requests"] == 2
    assert by_endpoint["openai"]["requests"] == 2
    assert by_endpoint["openai"]["fallbacks"] == 1
    assert by_endpoint["ollama"]["requests"] == 1
    # lab is priced local: free, and what it saved is on each of its records.
    lab_records = [r for r in summary["recent"] if r["endpoint"] == "lab"]
    assert all(r["cost_usd"] == 0 and r["saved_usd"] > 0 for r in lab_records)
    assert by_endpoint["lab"]["saved_usd"] == pytest.approx(
        sum(r["saved_usd"] for r in lab_records)
    )
    assert by_endpoint["openai"]["saved_usd"] == 0
    assert summary["totals"]["saved_usd"] == pytest.approx(
        sum(row["saved_usd"] for row in summary["by_endpoint"])
    )


def test_a_disabled_endpoint_is_neither_listed_nor_routed(
    base: str, upstream: FakeUpstream, lab: FakeUpstream
) -> None:
    changed = httpx.patch(f"{base}/endpoints/lab", json={"enabled": False})
    assert changed.status_code == 200, changed.text
    assert changed.json()["enabled"] is False
    assert not any(
        m["id"].startswith("lab/") for m in httpx.get(f"{base}/v1/models").json()["data"]
    )
    assert chat(base, "lab/smollm2").status_code == 400
    # Its catalogue no longer routes bare names: the default endpoint answers.
    assert chat(base, "smollm2").json()["provider"] == "ollama"
    # The alias skips it.
    assert chat(base, "coder").json()["provider"] == "openai"
    assert not lab.requests_to("/v1/chat/completions")


def test_endpoints_are_added_tested_and_removed_at_runtime(base: str, lab: FakeUpstream) -> None:
    added = httpx.post(
        f"{base}/endpoints",
        json={
            "name": "lab2",
            "kind": "openai-compatible",
            "base_url": lab.openai_url,
            "api_key": "sk-lab2-SECRET-9876",
            "models": ["smoll*"],
        },
    )
    assert added.status_code == 201, added.text
    assert added.json()["api_key"] == {"set": True, "hint": "…9876", "storage": "memory"}
    assert added.json()["pricing"] == "cloud"
    tested = httpx.post(f"{base}/endpoints/lab2/test").json()
    assert tested["ok"] is True and tested["provider"] == "lab2"
    assert chat(base, "lab2/smollm2").json()["provider"] == "lab2"
    assert lab.last("/v1/chat/completions").headers["authorization"] == "Bearer sk-lab2-SECRET-9876"
    # Its model filter: what it does not offer is not routed there.
    assert chat(base, "lab2/qwen2.5-coder").status_code == 404
    listed = httpx.get(f"{base}/endpoints").text
    assert "sk-lab2-SECRET-9876" not in listed and "lab2" in listed
    bad = httpx.post(
        f"{base}/endpoints",
        json={"name": "x", "kind": "telepathy", "base_url": "http://127.0.0.1:9"},
    )
    assert bad.status_code == 400 and "telepathy" in bad.text
    assert (
        httpx.post(
            f"{base}/endpoints",
            json={"name": "a/b", "kind": "ollama", "base_url": "http://127.0.0.1:9"},
        ).status_code
        == 422
    )
    # The default endpoint stays.
    assert httpx.delete(f"{base}/endpoints/ollama").status_code == 400
    before = len(lab.requests_to("/v1/chat/completions"))
    assert httpx.delete(f"{base}/endpoints/lab2").status_code == 204
    assert "lab2" not in [e["name"] for e in httpx.get(f"{base}/endpoints").json()["endpoints"]]
    # `lab2/` names no endpoint now: the whole name is a bare one (as `org/model` is).
    assert chat(base, "lab2/smollm2").json()["provider"] == "ollama"
    assert len(lab.requests_to("/v1/chat/completions")) == before


def test_aliases_are_replaced_at_runtime(base: str, lab: FakeUpstream) -> None:
    put = httpx.put(
        f"{base}/endpoints/aliases",
        json={"aliases": [{"name": "gpt-5*", "targets": ["lab/smollm2"]}]},
    )
    assert put.status_code == 200, put.text
    assert chat(base, "gpt-5-codex").json()["provider"] == "lab"
    assert lab.last("/v1/chat/completions").json["model"] == "smollm2"
    assert chat(base, "fast").json()["provider"] == "ollama"  # no longer an alias
    assert httpx.get(f"{base}/endpoints").json()["aliases"] == [
        {"name": "gpt-5*", "targets": ["lab/smollm2"]}
    ]


def test_endpoints_saved_at_runtime_survive_a_restart(
    make_settings: Callable[..., Settings],
    serve: Callable[[Settings], str],
    lab: FakeUpstream,
) -> None:
    settings = make_settings()
    first = serve(settings)
    added = httpx.post(
        f"{first}/endpoints",
        json={"name": "lab", "kind": "openai-compatible", "base_url": lab.openai_url},
    )
    assert added.status_code == 201
    second = serve(settings)
    names = [e["name"] for e in httpx.get(f"{second}/endpoints").json()["endpoints"]]
    assert names == ["ollama", "openai", "lab"]
    assert wait_until(lambda: chat(second, "lab/smollm2").status_code == 200)
