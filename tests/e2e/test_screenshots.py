"""Screenshots of the four pages in light and dark, with some data in them, written to
docs/screenshots/ (committed, so the look of the UI is reviewable)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fakes.upstream import FakeUpstream

from .helpers import send_message, wait_reply_done

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PAGES = ("chat", "monitoring", "settings", "profile")


def test_screenshots_of_every_page(
    new_page: Callable[..., Any], live_server: str, upstream: FakeUpstream
) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    seed = new_page()
    seed.goto(live_server + "/app/profile")
    seed.fill("#display-name", "Ada Lovelace")
    seed.fill("#email", "ada@example.com")
    seed.get_by_role("button", name="Save profile").click()
    seed.get_by_text("Profile saved.").wait_for()
    seed.goto(live_server + "/app/chat")
    upstream.scenario = "thinking"
    send_message(seed, "What is 1+1?")
    wait_reply_done(seed)
    upstream.scenario = "default"
    send_message(seed, "And why is the sky blue? Show a tiny Python example.")
    wait_reply_done(seed)
    chat_url = seed.url

    written = []
    for scheme in ("light", "dark"):
        page = new_page(color_scheme=scheme)
        for name in PAGES:
            page.goto(chat_url if name == "chat" else f"{live_server}/app/{name}")
            if name == "chat":
                page.wait_for_selector(".msg-assistant .reply")
                page.locator(".thinking-toggle").first.click()
            elif name == "monitoring":
                page.get_by_test_id("live-state").get_by_text("Live").wait_for()
                page.wait_for_selector("[data-testid=recent] tbody tr")
            elif name == "settings":
                page.get_by_test_id("key-status").wait_for()
            else:
                page.wait_for_selector("#display-name")
            theme = page.evaluate("document.documentElement.dataset.theme")
            assert theme == scheme, f"{name}: theme {theme}, wanted {scheme}"
            page.wait_for_timeout(300)  # let transitions settle
            path = OUT / f"{name}-{scheme}.png"
            page.screenshot(path=str(path))
            written.append(path)
    for path in written:
        assert path.stat().st_size > 10_000, f"{path.name} looks empty"
