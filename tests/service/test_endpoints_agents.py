"""The OpenAI Agents SDK names a bare model (`Agent(model="gpt-4o-mini")`) and, given
`openai/NAME`, strips the prefix itself: either way the connector routes the bare name
to the endpoint whose catalogue has it, whatever the default endpoint is."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connector.config import Settings
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import OPENAI_TEXT


def _run(base: str, model: str) -> Any:
    import agents
    from openai import AsyncOpenAI

    async def run() -> Any:
        client = AsyncOpenAI(base_url=f"{base}/v1", api_key="sk-client-side", max_retries=0)
        agents.set_default_openai_client(client, use_for_tracing=False)
        agents.set_default_openai_api("responses")
        agents.set_tracing_disabled(True)
        agent = agents.Agent(name="Helper", instructions="Be brief.", model=model)
        try:
            return await agents.Runner.run(agent, "Why is the sky blue?")
        finally:
            await client.close()

    return asyncio.run(run())


@pytest.mark.parametrize(
    ("model", "endpoint", "sent"),
    [
        pytest.param("gpt-4o-mini", "openai", "gpt-4o-mini", id="bare-cloud-name"),
        pytest.param("smollm2", "lab", "smollm2", id="bare-name-on-a-second-server"),
        # The SDK strips `openai/` itself: the connector sees `smollm2` and still finds lab.
        pytest.param("openai/smollm2", "lab", "smollm2", id="sdk-stripped-prefix"),
    ],
)
def test_agents_sdk_reaches_the_endpoint_that_has_the_model(
    make_settings: Callable[..., Settings],
    serve: Callable[[Settings], str],
    upstream: FakeUpstream,
    second_upstream: FakeUpstream,
    model: str,
    endpoint: str,
    sent: str,
) -> None:
    upstream.openai_models = ["gpt-4o-mini"]
    lab = second_upstream
    lab.openai_models = ["smollm2"]
    extra = [{"name": "lab", "kind": "openai-compatible", "base_url": lab.openai_url}]
    base = serve(make_settings(endpoints_json=json.dumps(extra)))  # default endpoint: ollama
    httpx.get(f"{base}/endpoints/health", params={"refresh": "true"}, timeout=10)
    result = _run(base, model)
    assert result.final_output == OPENAI_TEXT
    served = upstream if endpoint == "openai" else lab
    assert [r.json["model"] for r in served.requests_to("/v1/chat/completions")] == [sent]
    assert not upstream.requests_to("/api/chat")  # never the default Ollama endpoint
    [record] = httpx.get(f"{base}/usage").json()["recent"]
    assert record["endpoint"] == endpoint and record["surface"] == "responses"
