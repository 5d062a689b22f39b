"""`/metrics`: scraped and parsed with prometheus_client's own parser, its values equal
`/usage`'s; guarded by the admin token; label values capped; one registry per app."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from connector.config import Settings
from connector.services.metrics import OTHER, PrometheusMetrics
from connector.services.monitor import MonitorHub
from connector.services.recorder import UsageEntry
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import chat_body
from tests.service.test_keys import bearer, make_key


def scrape(
    url: str, headers: dict[str, str] | None = None
) -> dict[str, list[tuple[dict[str, str], float]]]:
    response = httpx.get(f"{url}/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[sample.name].append((dict(sample.labels), sample.value))
    return samples


def total(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **match: str) -> float:
    return sum(
        value
        for labels, value in samples.get(name, [])
        if all(labels.get(k) == v for k, v in match.items())
    )


def test_metrics_equal_usage(live_server: str, upstream: FakeUpstream) -> None:
    url = live_server
    assert httpx.post(f"{url}/v1/chat/completions", json=chat_body()).status_code == 200
    key = make_key(url, "metered")
    auth = bearer(key["key"])
    for model in ("ollama/gpt-oss:20b", "openai/gpt-4o-mini"):
        body = chat_body(model=model)
        assert httpx.post(f"{url}/v1/chat/completions", json=body, headers=auth).status_code == 200
    streamed = chat_body(model="ollama/gpt-oss:20b", stream=True)
    assert httpx.post(f"{url}/v1/chat/completions", json=streamed, headers=auth).status_code == 200
    embed = {"model": "ollama/all-minilm", "input": "x"}
    assert httpx.post(f"{url}/v1/embeddings", json=embed, headers=auth).status_code == 200
    upstream.scenario = "server_error"
    assert (
        httpx.post(f"{url}/v1/chat/completions", json=chat_body(), headers=auth).status_code >= 500
    )
    upstream.scenario = "default"

    usage = httpx.get(f"{url}/usage", headers={"Sec-Fetch-Site": "same-origin"}).json()
    totals = usage["totals"]
    samples = scrape(url)
    assert totals["requests"] == 6
    assert total(samples, "connector_requests_total") == totals["requests"]
    assert total(samples, "connector_requests_total", status="error") == totals["errors"] == 1
    assert total(samples, "connector_requests_total", kind="embed") == 1
    assert total(samples, "connector_prompt_tokens_total") == totals["prompt_tokens"]
    assert total(samples, "connector_completion_tokens_total") == totals["completion_tokens"]
    assert total(samples, "connector_cost_usd_total") == pytest.approx(totals["cost_usd"])
    assert totals["cost_usd"] > 0 and totals["saved_usd"] > 0
    assert total(samples, "connector_saved_usd_total") == pytest.approx(totals["saved_usd"])
    for name in (
        "connector_request_duration_seconds_count",
        "connector_overhead_seconds_count",
    ):
        assert total(samples, name) == totals["requests"], name
    # Time to first token: the chats that produced one.
    assert total(samples, "connector_time_to_first_token_seconds_count") == 4
    assert total(samples, "connector_requests_in_flight") == 0
    # By key: the key's id, and `none` for the request made before any key.
    assert total(samples, "connector_requests_total", key=key["id"]) == 5
    assert total(samples, "connector_requests_total", key="none") == 1
    by_model = {m["model"]: m["requests"] for m in usage["by_model"]}
    assert (
        total(samples, "connector_requests_total", model="gpt-4o-mini") == by_model["gpt-4o-mini"]
    )
    labels = samples["connector_requests_total"][0][0]
    assert set(labels) == {
        "endpoint",
        "provider",
        "model",
        "surface",
        "client",
        "key",
        "status",
        "kind",
    }
    overhead = [v for labels, v in samples["connector_overhead_seconds_sum"]]
    assert 0 <= sum(overhead) < 5


def test_metrics_want_the_admin_token_when_one_is_set(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    url = serve(make_settings(api_token="tok-metrics-1234"))
    assert httpx.get(f"{url}/metrics").status_code == 401
    key = httpx.post(f"{url}/keys", json={"name": "k"}, headers=bearer("tok-metrics-1234")).json()
    assert httpx.get(f"{url}/metrics", headers=bearer(key["key"])).status_code == 401
    assert "connector_requests_in_flight" in scrape(url, bearer("tok-metrics-1234"))


def test_each_app_has_its_own_registry(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    first = serve(make_settings())
    second = serve(make_settings(data_dir=make_settings().data_dir.parent / "other"))
    httpx.post(f"{first}/v1/chat/completions", json=chat_body()).raise_for_status()
    httpx.get(f"{first}/usage").raise_for_status()
    assert total(scrape(first), "connector_requests_total") == 1
    assert total(scrape(second), "connector_requests_total") == 0


def _entry(model: str, client: str = "curl/8") -> UsageEntry:
    return UsageEntry(
        request_id="r",
        surface="v1",
        provider="ollama",
        model=model,
        status="ok",
        error_type=None,
        prompt_tokens=1,
        completion_tokens=1,
        reasoning_tokens=0,
        total_tokens=2,
        latency_ms=1.0,
        ttft_ms=None,
        cost_usd=0.0,
        reference_cost_usd=None,
        structured=False,
        client=client,
    )


def test_label_values_a_caller_chooses_are_capped() -> None:
    metrics = PrometheusMetrics(MonitorHub())
    for i in range(100):
        metrics.observe(_entry(f"model-{i}", client=f"bot-{i}/1.0"))
    families = {
        sample.labels["model"]: sample.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for sample in family.samples
        if sample.name == "connector_requests_total"
    }
    assert len(families) == 65 and families[OTHER] == 36
    assert sum(families.values()) == 100
