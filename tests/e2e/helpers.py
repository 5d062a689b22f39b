"""What the browser tests do often: send a chat message and wait for the reply."""

from __future__ import annotations

from typing import Any


def send_message(page: Any, text: str) -> None:
    """Types into the composer and presses Enter (once the model list is in)."""
    page.wait_for_selector("#model-input:not([value=''])")
    box = page.get_by_label("Message", exact=True)
    box.fill(text)
    box.press("Enter")


def wait_reply_done(page: Any, timeout: float = 10_000) -> Any:
    """The last assistant turn once it stopped streaming (done, error or cancelled)."""
    page.wait_for_selector(
        '.msg-assistant:last-child:not([data-status="streaming"])', timeout=timeout
    )
    return last_reply(page)


def last_reply(page: Any) -> Any:
    return page.locator(".msg-assistant").last
