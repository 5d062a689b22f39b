"""The connector lists the llama-server's model under the OpenAI provider and its
provider check reaches the server."""

from __future__ import annotations

import httpx

from tests.llama.server import LlamaServer


def test_models_lists_the_served_model(connector: str, llama: LlamaServer) -> None:
    listing = httpx.get(f"{connector}/models", timeout=30).json()
    (openai,) = [p for p in listing["providers"] if p["name"] == "openai"]
    assert openai["available"] is True, openai
    assert openai["base_url"].rstrip("/") == llama.openai_url
    assert [m["id"] for m in openai["models"]] == [llama.model]

    v1 = httpx.get(f"{connector}/v1/models", timeout=30).json()
    assert v1["object"] == "list"
    assert f"openai/{llama.model}" in {m["id"] for m in v1["data"]}


def test_provider_check_reaches_the_server(connector: str) -> None:
    response = httpx.post(f"{connector}/providers/openai/test", timeout=30)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["provider"], result["ok"]) == ("openai", True), result
    assert result["latency_ms"] > 0
