"""App keys in a real browser: a key made in Settings (shown once), used by a script with
Bearer, its spend and budget bar live in Monitoring, the 80/100 % banner, the 429 once
over, the request detail from the request log, and revoking (the next request is 401)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import OLLAMA_TEXT

# The recorded Ollama exchange costs 26 + 282 tokens: the first request leaves the key
# under its budget, the second takes it over, the third is refused.
TOKENS_PER_REQUEST = 308
BUDGET = 500


def _create_key(page: Any, name: str, tokens_per_day: int | None = None) -> str:
    page.fill("#key-name", name)
    if tokens_per_day is not None:
        page.fill("#limit-tokens_per_day", str(tokens_per_day))
    page.get_by_role("button", name="Create key").click()
    shown = page.get_by_test_id("new-key")
    shown.wait_for()
    key = shown.inner_text().strip()
    assert len(key) >= 32
    page.get_by_role("button", name="Done").click()
    shown.wait_for(state="detached")
    return key


def _chat(base: str, key: str) -> httpx.Response:
    return httpx.post(
        f"{base}/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "Why is the sky blue?"}]},
        headers={"Authorization": f"Bearer {key}", "User-Agent": "budget-script/1.0"},
        timeout=30,
    )


def test_a_key_spends_into_its_budget_and_is_stopped(
    new_page: Callable[..., Any], live_server: str, upstream: FakeUpstream
) -> None:
    settings = new_page()
    settings.goto(live_server + "/app/settings")
    key = _create_key(settings, "ci-script", tokens_per_day=BUDGET)
    row = settings.get_by_test_id("keys").locator("tbody tr", has_text="ci-script")
    row.wait_for()
    assert key not in settings.content()  # shown once, then gone from the page
    assert key[-4:] in row.inner_text()  # the hint only
    settings.reload()
    assert key not in settings.content()

    monitor = new_page()
    monitor.goto(live_server + "/app/monitoring")
    monitor.get_by_test_id("live-state").get_by_text("Live").wait_for()
    monitor.get_by_test_id("request-log-toggle").click()
    monitor.wait_for_function(
        "() => document.querySelector('[data-testid=request-log-toggle]')?.checked === true"
    )

    # Live figures come from the socket's records, not from asking GET /usage again.
    usage_gets: list[str] = []
    monitor.on(
        "request",
        lambda r: usage_gets.append(r.url) if urlsplit(r.url).path == "/usage" else None,
    )
    first = _chat(live_server, key)
    assert first.status_code == 200, first.text
    by_key = monitor.get_by_test_id("by-key")
    key_row = by_key.locator("tbody tr", has_text="ci-script")
    key_row.wait_for()
    cells = key_row.locator("td").all_inner_texts()
    assert cells[1].startswith("1") and cells[2] == f"{TOKENS_PER_REQUEST:,}"
    meter = key_row.get_by_role("meter", name="Tokens per day")
    percent = round(100 * TOKENS_PER_REQUEST / BUDGET)
    monitor.wait_for_function(
        "([row, v]) => row.querySelector('[role=meter]')?.getAttribute('aria-valuenow') === v",
        arg=[key_row.element_handle(), str(percent)],
    )
    assert "308 / 500" in key_row.inner_text()
    assert monitor.get_by_test_id("budget-banner").count() == 0

    # The request detail, from the request log: the question, the answer, where it ran.
    recent = monitor.get_by_test_id("recent").locator("tbody tr", has_text="ci-script").first
    recent.get_by_role("button", name=re.compile(r"\d")).click()
    detail = monitor.get_by_test_id("request-detail")
    detail.get_by_test_id("request-output").get_by_text(OLLAMA_TEXT).wait_for()
    assert "Why is the sky blue?" in detail.inner_text()
    assert "ci-script" in detail.get_by_test_id("request-facts").inner_text()
    assert key not in monitor.content()

    second = _chat(live_server, key)
    assert second.status_code == 200, second.text
    banner = monitor.get_by_test_id("budget-banner")
    banner.get_by_text("is over its tokens per day budget").wait_for()
    assert "ci-script" in banner.inner_text()
    monitor.wait_for_function(
        "([row]) => row.querySelector('[role=meter]')?.getAttribute('aria-valuenow') === '100'",
        arg=[key_row.element_handle()],
    )

    assert usage_gets == []
    third = _chat(live_server, key)
    assert third.status_code == 429
    message = third.json()["error"]["message"]
    assert "ci-script" in message and "tokens per day" in message
    assert monitor.get_by_test_id("stat-requests").locator(".stat-value").inner_text() != "0"
    assert meter.count() == 1


def test_a_revoked_key_is_refused(page: Any, live_server: str, upstream: FakeUpstream) -> None:
    page.goto(live_server + "/app/settings")
    key = _create_key(page, "colleague")
    assert _chat(live_server, key).status_code == 200
    row = page.get_by_test_id("keys").locator("tbody tr", has_text="colleague")
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="Revoke").click()
    row.wait_for(state="detached")
    refused = _chat(live_server, key)
    assert refused.status_code == 401
    assert key not in refused.text


def test_budgets_for_every_request_are_set_in_settings(
    page: Any, live_server: str, upstream: FakeUpstream
) -> None:
    page.goto(live_server + "/app/settings")
    page.fill("#global-tokens_per_day", str(TOKENS_PER_REQUEST))
    page.get_by_role("button", name="Save budgets").click()
    page.get_by_text("Budgets saved.").wait_for()
    assert httpx.get(f"{live_server}/budgets").json()["limits"]["tokens_per_day"] == (
        TOKENS_PER_REQUEST
    )
    plain = {"messages": [{"role": "user", "content": "Hi"}]}
    assert httpx.post(f"{live_server}/v1/chat/completions", json=plain).status_code == 200
    over = httpx.post(f"{live_server}/v1/chat/completions", json=plain)
    assert over.status_code == 429 and "tokens per day" in over.json()["error"]["message"]

    page.reload()
    assert page.input_value("#global-tokens_per_day") == str(TOKENS_PER_REQUEST)
    page.fill("#global-tokens_per_day", "")
    page.get_by_role("button", name="Save budgets").click()
    page.get_by_text("Budgets saved.").wait_for()
    assert httpx.post(f"{live_server}/v1/chat/completions", json=plain).status_code == 200
