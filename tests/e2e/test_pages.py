"""Settings, profile, monitoring and the API token in a real browser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connector.config import Settings
from tests.fakes.upstream import FakeUpstream

from .helpers import send_message, wait_reply_done

NEW_KEY = "sk-proj-E2eSecretValue0123456789wxyz"


def test_saved_key_shows_only_the_masked_hint(
    page: Any, make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    url = serve(make_settings(openai_api_key=None))
    page.goto(url + "/app/settings")
    status = page.get_by_test_id("key-status")
    status.get_by_text("Not set").wait_for()
    page.fill("#openai-key", NEW_KEY)
    page.get_by_role("button", name="Save key").click()
    page.get_by_text("Key saved.").wait_for()
    status.get_by_text("…wxyz").wait_for()
    assert page.input_value("#openai-key") == ""
    assert NEW_KEY not in page.content()
    assert "memory" in status.inner_text()  # where it is stored

    page.reload()
    status.get_by_text("…wxyz").wait_for()
    assert NEW_KEY not in page.content()
    assert page.get_by_role("button", name="Replace key").count() == 1

    # Clearing asks first, then the key is gone.
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Clear").click()
    status.get_by_text("Not set").wait_for()


def test_settings_test_connection_and_listen_address(
    page: Any, live_server: str, upstream: FakeUpstream
) -> None:
    page.goto(live_server + "/app/settings")
    listen = page.get_by_test_id("listen").inner_text()
    assert ":" in listen
    page.get_by_role("button", name="Test Ollama connection").click()
    page.locator(".test-row .ok-text").first.wait_for()
    assert "✓" in page.locator(".test-row .ok-text").first.inner_text()
    # Saving the Ollama URL round-trips through the server.
    page.fill("#ollama-url", "not a url")
    assert page.locator(".field-error").inner_text() == "Enter an http(s) URL."
    page.fill("#ollama-url", upstream.ollama_url + "/")
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Settings saved.").wait_for()


def test_profile_validates_and_persists(page: Any, live_server: str) -> None:
    page.goto(live_server + "/app/profile")
    page.fill("#display-name", "Ada Lovelace")
    page.fill("#email", "ada@")
    page.get_by_role("button", name="Save profile").click()
    page.get_by_text("Enter an email address like name@example.com.").wait_for()
    page.fill("#email", "ada@example.com")
    page.get_by_role("button", name="Save profile").click()
    page.get_by_text("Profile saved.").wait_for()
    page.reload()
    page.wait_for_selector("#display-name")
    assert page.input_value("#display-name") == "Ada Lovelace"
    assert page.input_value("#email") == "ada@example.com"


def test_monitoring_updates_live_after_a_chat(
    new_page: Callable[..., Any], live_server: str, upstream: FakeUpstream
) -> None:
    monitor = new_page()
    monitor.goto(live_server + "/app/monitoring")
    monitor.get_by_test_id("live-state").get_by_text("Live").wait_for()
    requests = monitor.get_by_test_id("stat-requests").locator(".stat-value")
    assert requests.inner_text() == "0"
    monitor.get_by_text("No requests yet").wait_for()

    chat = new_page()
    chat.goto(live_server + "/app/chat")
    send_message(chat, "Why is the sky blue?")
    wait_reply_done(chat)

    # The monitoring page (not reloaded) shows the request, its tokens and the model.
    monitor.wait_for_function(
        "() => document.querySelector('[data-testid=stat-requests] .stat-value')"
        "?.textContent === '1'"
    )
    assert monitor.get_by_test_id("stat-tokens").locator(".stat-value").inner_text() != "0"
    row = monitor.get_by_test_id("recent").locator("tbody tr").first
    row.wait_for()
    assert "gpt-oss:20b" in row.inner_text()
    assert "ok" in row.inner_text()
    # Per-model rows and the charts follow (refetched after the live record).
    model_row = monitor.get_by_test_id("by-model").locator("tbody tr").first
    model_row.wait_for()
    assert "gpt-oss:20b" in model_row.inner_text()
    monitor.locator(".chart svg rect").first.wait_for()


def test_token_from_fragment_is_used_and_removed(
    new_page: Callable[..., Any],
    make_settings: Callable[..., Settings],
    serve: Callable[[Settings], str],
) -> None:
    url = serve(make_settings(api_token="desk-top-secret"))
    page = new_page()
    page.goto(url + "/app/chat#token=desk-top-secret")
    page.wait_for_selector("#model-input[value='gpt-oss:20b']")  # /models answered
    assert "#" not in page.url
    assert page.evaluate("sessionStorage.getItem('connector.token')") == "desk-top-secret"
    page.locator(".conn[data-state=open]").wait_for()  # the WebSocket got in too
    send_message(page, "Hi")
    assert wait_reply_done(page).get_attribute("data-status") == "done"

    # Without it, the UI asks for the token.
    other = new_page()
    other.goto(url + "/app/settings")
    other.get_by_role("dialog").get_by_text("Access token needed").wait_for()
    other.fill("#token-input", "desk-top-secret")
    other.get_by_role("button", name="Continue").click()
    other.get_by_test_id("key-status").wait_for()


def test_theme_follows_the_system_and_the_toggle_sticks(
    new_page: Callable[..., Any], live_server: str
) -> None:
    page = new_page(color_scheme="dark")
    page.goto(live_server + "/app/profile")
    page.wait_for_selector("#display-name")
    theme = "document.documentElement.dataset.theme"
    assert page.evaluate(theme) == "dark"
    dark_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.get_by_role("button", name="Switch to light theme").click()
    assert page.evaluate(theme) == "light"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != dark_bg
    page.reload()
    page.wait_for_selector("#display-name")
    assert page.evaluate(theme) == "light"
    # Back to the system's choice.
    page.get_by_role("button", name="Switch to dark theme").click()
    assert page.evaluate("localStorage.getItem('connector.theme')") is None
    assert page.evaluate(theme) == "dark"


def test_readable_at_1024x768(new_page: Callable[..., Any], live_server: str) -> None:
    page = new_page(viewport={"width": 1024, "height": 768})
    for name in ("chat", "monitoring", "settings", "profile"):
        page.goto(f"{live_server}/app/{name}")
        page.get_by_role("navigation", name="Main").wait_for()
        page.wait_for_load_state("networkidle")
        # Nothing forces a horizontal scrollbar at this size.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1024, f"{name} is {width}px wide"
    page.goto(f"{live_server}/app/chat")
    page.get_by_role("button", name="Explain why the sky is blue, briefly.").click()
    box = page.get_by_label("Message", exact=True)
    assert box.input_value() == "Explain why the sky is blue, briefly."
    assert page.get_by_role("button", name="Send").is_visible()


def test_monitoring_shows_requests_in_flight(
    new_page: Callable[..., Any], live_server: str, upstream: FakeUpstream
) -> None:
    upstream.scenario = "slow"
    monitor = new_page()
    monitor.goto(live_server + "/app/monitoring")
    monitor.get_by_test_id("live-state").get_by_text("Live").wait_for()
    in_flight = "document.querySelector('[data-testid=stat-inflight] .stat-value')?.textContent"

    chat = new_page()
    chat.goto(live_server + "/app/chat")
    send_message(chat, "Count slowly")
    monitor.wait_for_function(f"() => {in_flight} === '1'")
    chat.get_by_role("button", name="Stop").click()
    monitor.wait_for_function(f"() => {in_flight} === '0'")
    row = monitor.get_by_test_id("recent").locator("tbody tr").first
    row.get_by_text("cancelled").wait_for()
    assert "1 cancelled" in monitor.get_by_test_id("stat-requests").inner_text()
