"""Health, settings, profile, models and usage filters over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connector.config import Settings
from tests.conftest import TEST_OPENAI_KEY
from tests.fakes.server import closed_port_url
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import assert_error, chat_body


def test_healthz(live_server: str) -> None:
    response = httpx.get(f"{live_server}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_settings_roundtrip(live_server: str, upstream: FakeUpstream) -> None:
    with httpx.Client(base_url=live_server) as client:
        before = client.get("/settings").json()
        assert before["openai_api_key"]["set"] is True
        assert before["openai_api_key"]["hint"].endswith("1234")
        assert before["ollama_base_url"] == upstream.ollama_url
        assert before["openai_base_url"] == upstream.openai_url
        assert before["default_provider"] == "ollama"
        assert before["default_model"] == "gpt-oss:20b"

        update = {
            "default_provider": "openai",
            "default_model": "gpt-4o-mini",
            "reference_model": "gpt-4.1-mini",
            "openai_api_key": "sk-test-NEWKEY9876",
        }
        posted = client.post("/settings", json=update)
        assert posted.status_code == 200, posted.text
        after = client.get("/settings").json()
        assert posted.json() == after
        assert after["default_provider"] == "openai"
        assert after["default_model"] == "gpt-4o-mini"
        assert after["reference_model"] == "gpt-4.1-mini"
        assert after["openai_api_key"]["hint"].endswith("9876")
        assert "NEWKEY" not in posted.text and "NEWKEY" not in client.get("/settings").text

        # The new defaults are used: a request without provider/model goes to OpenAI
        # with the new key.
        reply = client.post("/chat/completions", json=chat_body())
        assert reply.status_code == 200, reply.text
        assert reply.json()["provider"] == "openai"
        sent = upstream.last("/v1/chat/completions")
        assert sent.json["model"] == "gpt-4o-mini"
        assert sent.headers["authorization"] == "Bearer sk-test-NEWKEY9876"

        cleared = client.post("/settings", json={"openai_api_key": ""})
        assert cleared.status_code == 200
        assert cleared.json()["openai_api_key"]["set"] is False


def test_settings_rejects_bad_values(live_server: str) -> None:
    with httpx.Client(base_url=live_server) as client:
        assert_error(client.post("/settings", json={"ollama_base_url": "ftp://x"}), 422)
        assert_error(client.post("/settings", json={"default_provider": "nope"}), 422)
        assert client.get("/settings").json()["default_provider"] == "ollama"


def test_settings_survive_restart(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    settings = make_settings()
    first = serve(settings)
    assert httpx.post(f"{first}/settings", json={"default_model": "llama3.2"}).status_code == 200
    assert (
        httpx.post(
            f"{first}/profile", json={"display_name": "Ada", "email": "ada@example.com"}
        ).status_code
        == 200
    )
    second = serve(make_settings())
    assert httpx.get(f"{second}/settings").json()["default_model"] == "llama3.2"
    assert httpx.get(f"{second}/profile").json() == {
        "display_name": "Ada",
        "email": "ada@example.com",
    }


def test_profile_roundtrip_and_bad_email(live_server: str) -> None:
    with httpx.Client(base_url=live_server) as client:
        assert client.get("/profile").json() == {"display_name": "", "email": ""}
        posted = client.post(
            "/profile", json={"display_name": "Grace Hopper", "email": "grace@example.com"}
        )
        assert posted.status_code == 200, posted.text
        assert posted.json() == {"display_name": "Grace Hopper", "email": "grace@example.com"}
        assert client.get("/profile").json() == posted.json()

        error = assert_error(
            client.post("/profile", json={"display_name": "X", "email": "not-an-email"}), 422
        )
        assert "email" in (error["message"] + str(error["param"]))
        assert client.get("/profile").json()["email"] == "grace@example.com"


def test_models_lists_both_providers(live_server: str) -> None:
    body = httpx.get(f"{live_server}/models").json()
    assert body["default_provider"] == "ollama"
    assert body["default_model"] == "gpt-oss:20b"
    providers = {p["name"]: p for p in body["providers"]}
    assert providers["ollama"]["available"] is True
    ollama_ids = [m["id"] for m in providers["ollama"]["models"]]
    assert {"gpt-oss:20b", "llama3.2:latest", "deepseek-r1:latest"} == set(ollama_ids)
    gpt_oss = next(m for m in providers["ollama"]["models"] if m["id"] == "gpt-oss:20b")
    assert gpt_oss["details"]["parameter_size"] == "20.9B"
    assert gpt_oss["size"] == 13780173724
    assert providers["openai"]["available"] is True
    assert "model-id-0" in [m["id"] for m in providers["openai"]["models"]]

    v1 = httpx.get(f"{live_server}/v1/models").json()
    assert v1["object"] == "list"
    ids = {m["id"] for m in v1["data"]}
    assert {"ollama/gpt-oss:20b", "openai/model-id-0"} <= ids
    assert all(m["object"] == "model" and "owned_by" in m for m in v1["data"])


def test_models_with_ollama_down_answers_fast(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    down = closed_port_url()
    url = serve(make_settings(ollama_base_url=down))
    started = time.monotonic()
    body = httpx.get(f"{url}/models", timeout=10).json()
    assert time.monotonic() - started < 2.0
    providers = {p["name"]: p for p in body["providers"]}
    assert providers["ollama"]["available"] is False
    assert down in providers["ollama"]["reason"]
    assert providers["openai"]["available"] is True
    assert providers["openai"]["models"]


def test_models_with_stalled_ollama_answers_within_models_timeout(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    with FakeUpstream() as stalled:
        stalled.scenario = "stall"
        url = serve(make_settings(ollama_base_url=stalled.ollama_url, models_timeout=0.5))
        started = time.monotonic()
        body = httpx.get(f"{url}/models", timeout=10).json()
        elapsed = time.monotonic() - started
    assert elapsed < 3.0, elapsed  # bounded by models_timeout, not the 600 s read timeout
    providers = {p["name"]: p for p in body["providers"]}
    assert providers["ollama"]["available"] is False and providers["ollama"]["reason"]
    assert providers["openai"]["available"] is True


def test_models_without_openai_key_says_what_to_do(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    url = serve(make_settings(openai_api_key=None))
    providers = {p["name"]: p for p in httpx.get(f"{url}/models").json()["providers"]}
    assert providers["openai"]["available"] is False
    assert "key" in providers["openai"]["reason"].lower()
    assert providers["ollama"]["available"] is True


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_usage_filters(live_server: str) -> None:
    with httpx.Client(base_url=live_server) as client:
        start = datetime.now(UTC) - timedelta(seconds=1)
        for _ in range(2):
            assert client.post("/chat/completions", json=chat_body()).status_code == 200
        assert (
            client.post(
                "/chat/completions", json=chat_body(provider="openai", model="gpt-4o-mini")
            ).status_code
            == 200
        )
        end = datetime.now(UTC) + timedelta(seconds=1)

        everything = client.get("/usage").json()
        assert everything["totals"]["requests"] == 3
        assert everything["totals"]["ok"] == 3
        by_model = {(m["provider"], m["model"]): m for m in everything["by_model"]}
        assert by_model[("ollama", "gpt-oss:20b")]["requests"] == 2
        assert by_model[("openai", "gpt-4o-mini")]["requests"] == 1
        assert by_model[("openai", "gpt-4o-mini")]["prompt_tokens"] == 19
        assert len(everything["recent"]) == 3

        window: dict[str, Any] = client.get(
            "/usage", params={"since": _iso(start), "until": _iso(end), "bucket": "minute"}
        ).json()
        assert window["totals"]["requests"] == 3
        assert window["bucket"] == "minute"
        assert sum(p["requests"] for p in window["series"]) == 3

        future = client.get("/usage", params={"since": _iso(end + timedelta(hours=1))}).json()
        assert future["totals"]["requests"] == 0 and future["recent"] == []
        past = client.get("/usage", params={"until": _iso(start - timedelta(hours=1))}).json()
        assert past["totals"]["requests"] == 0

        assert_error(client.get("/usage", params={"bucket": "week"}), 422)
        assert_error(client.get("/usage", params={"since": "yesterday-ish"}), 422)


def test_settings_hint_never_shows_the_key(live_server: str) -> None:
    text = httpx.get(f"{live_server}/settings").text
    assert TEST_OPENAI_KEY not in text and "SECRETKEY" not in text
