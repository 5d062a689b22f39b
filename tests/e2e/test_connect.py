"""Settings → Connect your tools in a real browser: the live address, copy buttons that
put the exact text (with the real key when one is needed) on the clipboard, and a
program showing up as seen once it has called."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.fakes.upstream import FakeUpstream

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CLIPBOARD = ["clipboard-read", "clipboard-write"]
CHAT = {"model": "ollama/gpt-oss:20b", "messages": [{"role": "user", "content": "Hi"}]}


def _clipboard(page: Any) -> str:
    text: str = page.evaluate("navigator.clipboard.readText()")
    return text


def test_connect_panel_shows_the_address_copies_and_sees_programs(
    new_page: Callable[..., Any], live_server: str, upstream: FakeUpstream
) -> None:
    page = new_page(permissions=CLIPBOARD)
    page.goto(live_server + "/app/settings")
    address = page.get_by_test_id("connect-address")
    address.wait_for()
    assert address.inner_text() == live_server
    assert page.get_by_test_id("topbar-address").inner_text() == live_server.removeprefix("http://")
    assert "Open" in page.get_by_test_id("program-access").inner_text()

    # Every snippet shown names the live address; copying puts that text on the clipboard.
    curl = page.get_by_test_id("snippet-curl")
    assert f"{live_server}/v1/chat/completions" in curl.inner_text()
    assert page.get_by_test_id("snippet-openai-python").count() == 1
    page.get_by_role("button", name="Copy curl settings").click()
    curl.locator("button", has_text="Copied").wait_for()
    copied = _clipboard(page)
    assert copied.startswith(f"curl {live_server}/v1/chat/completions")
    assert "Authorization" not in copied
    page.get_by_role("button", name="Copy the address").first.click()
    page.wait_for_function(
        "(url) => navigator.clipboard.readText().then((t) => t === url)", arg=live_server
    )

    # A program calls: the panel shows it as seen, with today's count.
    seen = page.get_by_test_id("seen-curl")
    assert seen.inner_text() == "Not seen yet"
    reply = httpx.post(
        f"{live_server}/v1/chat/completions", json=CHAT, headers={"User-Agent": "curl/8.5.0"}
    )
    assert reply.status_code == 200
    page.wait_for_function(
        "() => document.querySelector('[data-testid=seen-curl]').textContent"
        ".includes('curl/8.5.0 · 1 request today · last just now')",
        timeout=15_000,
    )
    assert page.get_by_test_id("seen-zed").count() in (0, 1)  # shown only with Ollama's API
    # The whole panel in view (the page scrolls inside its own box).
    page.set_viewport_size({"width": 1280, "height": 3000})
    page.locator("#connect").screenshot(path=str(SHOTS / "connect-light.png"))
    page.set_viewport_size({"width": 1280, "height": 800})

    # Programs need a key: the snippets carry it masked; the copy carries the real key.
    page.get_by_label("Programs need a key").click()
    page.get_by_test_id("program-access").get_by_text("Key needed").wait_for()
    shown = page.get_by_test_id("program-key").inner_text()
    assert shown.startswith("aic-…") and len(shown) == len("aic-…") + 4
    assert shown in curl.inner_text()
    page.get_by_role("button", name="Copy curl settings").click()
    curl.locator("button", has_text="Copied").wait_for()
    keyed = _clipboard(page)
    key = keyed.split("Authorization: Bearer ", 1)[1].split('"', 1)[0]
    assert key.startswith("aic-") and key.endswith(shown[-4:]) and len(key) > 30
    assert key not in page.content()  # the real key is never in the page
    assert httpx.post(f"{live_server}/v1/chat/completions", json=CHAT).status_code == 401
    with_key = httpx.post(
        f"{live_server}/v1/chat/completions", json=CHAT, headers={"Authorization": f"Bearer {key}"}
    )
    assert with_key.status_code == 200

    # Rotating makes a new key; the old one stops working.
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Rotate key").click()
    page.get_by_text("New key made").wait_for()
    assert page.get_by_test_id("program-key").inner_text() != shown
    again = httpx.post(
        f"{live_server}/v1/chat/completions", json=CHAT, headers={"Authorization": f"Bearer {key}"}
    )
    assert again.status_code == 401
    page.get_by_label("Programs need a key").click()
    page.get_by_test_id("program-access").get_by_text("Open").wait_for()


def test_first_run_card_points_at_connect_your_tools(page: Any, live_server: str) -> None:
    page.goto(live_server + "/app/chat")
    card = page.get_by_test_id("connect-card")
    card.wait_for()
    assert live_server in card.inner_text()
    card.get_by_role("link", name="Connect your tools").click()
    page.get_by_test_id("connect-address").wait_for()
    assert page.url.endswith("/app/settings#connect")
    page.goto(live_server + "/app/chat")
    page.get_by_test_id("connect-card").get_by_role("button", name="Dismiss").click()
    page.reload()
    page.get_by_text("Start a conversation").wait_for()
    assert page.get_by_test_id("connect-card").count() == 0


def test_copy_falls_back_when_the_clipboard_api_is_refused(
    new_page: Callable[..., Any], live_server: str
) -> None:
    """Qt WebEngine (the desktop window) refuses the async Clipboard API's permission;
    a click must still copy, through the selection fallback."""
    page = new_page(permissions=CLIPBOARD)
    page.add_init_script(
        "navigator.clipboard.writeText = () => Promise.reject(new Error('denied'))"
    )
    page.goto(live_server + "/app/settings")
    page.get_by_test_id("connect-address").wait_for()
    page.get_by_role("button", name="Copy curl settings").click()
    page.get_by_test_id("snippet-curl").locator("button", has_text="Copied").wait_for()
    assert _clipboard(page).startswith(f"curl {live_server}/v1/chat/completions")
