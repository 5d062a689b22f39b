"""The real llama-server as a second OpenAI-compatible endpoint (`llama`, priced local,
no key) beside a fake one (`openai`, the default endpoint): addressing, catalogue
routing of its bare model name, a fallback onto it, and what its records say."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from connector.config import Settings
from tests.conftest import TEST_OPENAI_KEY
from tests.fakes.server import closed_port_url
from tests.fakes.upstream import FakeUpstream
from tests.llama.helpers import SHORT_PROMPT, body, latest_records, read_stream, upstream_body
from tests.llama.server import LlamaServer
from tests.service.helpers import OPENAI_TEXT


@pytest.fixture
def base(
    tmp_path: Path,
    clean_env: None,
    llama: LlamaServer,
    upstream: FakeUpstream,
    serve: Callable[[Settings], str],
) -> str:
    upstream.openai_models = ["gpt-4o-mini"]
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    endpoints = {
        "endpoints": [
            {
                "name": "llama",
                "kind": "openai-compatible",
                "base_url": llama.openai_url,
                "pricing": "local",
            }
        ],
        "aliases": {"sturdy": ["openai/gpt-4o-mini", f"llama/{llama.model}"]},
    }
    url = serve(
        Settings(
            data_dir=data_dir,
            openai_base_url=upstream.openai_url,
            openai_api_key=TEST_OPENAI_KEY,
            ollama_base_url=closed_port_url(),
            key_store="memory",
            default_provider="openai",
            endpoints_json=json.dumps(endpoints),
        )
    )
    health = httpx.get(f"{url}/endpoints/health", params={"refresh": "true"}, timeout=30).json()
    assert {h["name"]: h["up"] for h in health} == {"ollama": False, "openai": True, "llama": True}
    return url


def test_both_servers_are_listed_and_addressed(
    base: str, llama: LlamaServer, upstream: FakeUpstream
) -> None:
    ids = {m["id"] for m in httpx.get(f"{base}/v1/models", timeout=30).json()["data"]}
    assert {f"llama/{llama.model}", "openai/gpt-4o-mini"} <= ids
    request = body(SHORT_PROMPT, max_tokens=32, model=f"llama/{llama.model}")
    direct = llama.chat(upstream_body(request))
    reply = httpx.post(f"{base}/v1/chat/completions", json=request, timeout=120)
    assert reply.status_code == 200, reply.text
    assert reply.json()["provider"] == "llama"
    text = reply.json()["choices"][0]["message"]["content"]
    assert text == direct["choices"][0]["message"]["content"] and "Paris" in text
    fake = httpx.post(
        f"{base}/v1/chat/completions", json=body(model="openai/gpt-4o-mini"), timeout=30
    )
    assert fake.json()["choices"][0]["message"]["content"] == OPENAI_TEXT
    assert [r.json["model"] for r in upstream.requests_to("/v1/chat/completions")] == [
        "gpt-4o-mini"
    ]
    records = {r["endpoint"]: r for r in latest_records(base)}
    # llama is local: free, and it saved the reference model's price.
    assert records["llama"]["cost_usd"] == 0 and records["llama"]["saved_usd"] > 0
    assert records["openai"]["saved_usd"] == 0


def test_a_bare_name_streams_from_the_server_that_has_it(base: str, llama: LlamaServer) -> None:
    # The default endpoint is the fake; llama's catalogue has the model.
    with httpx.Client(timeout=120) as client:
        stream = read_stream(
            client, f"{base}/v1/chat/completions", body(model=llama.model, stream=True)
        )
    assert "Paris" in stream.text
    record = latest_records(base)[0]
    assert record["endpoint"] == "llama" and record["tried"] == "llama"


def test_a_failing_cloud_endpoint_falls_back_to_the_local_server(
    base: str, llama: LlamaServer, upstream: FakeUpstream
) -> None:
    upstream.scenario = "server_error"
    reply = httpx.post(f"{base}/v1/chat/completions", json=body(model="sturdy"), timeout=120)
    assert reply.status_code == 200, reply.text
    assert reply.json()["provider"] == "llama"
    assert "Paris" in reply.json()["choices"][0]["message"]["content"]
    assert upstream.requests_to("/v1/chat/completions")
    record = latest_records(base)[0]
    assert record["endpoint"] == "llama" and record["tried"] == "openai,llama"
