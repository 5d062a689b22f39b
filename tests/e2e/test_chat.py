"""Chat in a real browser: streaming, stopping, reloading, thinking, pulling a model."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import expect

from tests.fakes.upstream import FakeUpstream

from .helpers import last_reply, send_message, wait_reply_done

SKY = "The sky appears blue because of a phenomenon called Rayleigh scattering."


def reply_text(page: Any) -> str:
    loc = last_reply(page).locator(".reply")
    return loc.inner_text() if loc.count() else ""


def test_tokens_stream_in(page: Any, live_server: str, upstream: FakeUpstream) -> None:
    upstream.chunk_delay = 0.15
    page.goto(live_server + "/")
    page.wait_for_url("**/app/chat")
    send_message(page, "Why is the sky blue?")
    page.wait_for_selector(".msg-user >> text=Why is the sky blue?")
    # Sample the reply while it streams: it must grow through several lengths.
    lengths: list[int] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lengths.append(len(reply_text(page)))
        if last_reply(page).get_attribute("data-status") == "done":
            break
        time.sleep(0.05)
    grown = sorted({n for n in lengths if n > 0})
    assert len(grown) >= 3, f"reply did not grow over time: {lengths}"
    reply = wait_reply_done(page)
    assert reply.get_attribute("data-status") == "done"
    assert reply.locator(".reply").inner_text().strip() == SKY
    metrics = reply.locator(".metrics").inner_text()
    assert re.search(r"\d+ tokens", metrics), metrics
    assert "TTFT" in metrics and "tok/s" in metrics and "cost" in metrics


def test_stop_button_and_escape_cancel_the_stream(
    page: Any, live_server: str, upstream: FakeUpstream
) -> None:
    upstream.scenario = "slow"
    page.goto(live_server + "/app/chat")
    send_message(page, "Count slowly")
    page.wait_for_function(
        "() => (document.querySelector('.msg-assistant .reply')?.textContent || '')"
        ".includes('tick3')"
    )
    page.get_by_role("button", name="Stop").click()
    reply = wait_reply_done(page)
    assert reply.get_attribute("data-status") == "cancelled"
    assert upstream.wait_cancelled(1, timeout=15), "the upstream stream was not cancelled"
    stopped_at = reply_text(page)
    time.sleep(0.5)
    assert reply_text(page) == stopped_at, "text kept arriving after Stop"
    assert "tick199" not in stopped_at
    page.get_by_role("button", name="Send").wait_for()

    # Esc stops too, and the socket stays usable for the next turn.
    send_message(page, "Again")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.msg-assistant')].length === 2"
        " && (document.querySelectorAll('.msg-assistant')[1].textContent || '').includes('tick2')"
    )
    page.keyboard.press("Escape")
    assert wait_reply_done(page).get_attribute("data-status") == "cancelled"
    assert upstream.wait_cancelled(2, timeout=15), f"upstream saw {upstream.cancelled} cancels"


def test_conversation_survives_reload(page: Any, live_server: str, upstream: FakeUpstream) -> None:
    page.goto(live_server + "/app/chat")
    send_message(page, "Remember the blue sky")
    wait_reply_done(page)
    page.wait_for_url(re.compile(r".*/app/chat/[^/]+$"))
    url = page.url
    # Saved after the reply: the sidebar lists it with both messages.
    page.wait_for_selector(".conv-title >> text=Remember the blue sky")
    page.wait_for_selector(".conv-meta >> text=2 msg")

    page.reload()
    page.wait_for_selector(".msg-user >> text=Remember the blue sky")
    assert page.url == url
    assert last_reply(page).locator(".reply").inner_text().strip() == SKY
    assert "tokens" in last_reply(page).locator(".metrics").inner_text()

    # A new chat empties the transcript; the sidebar opens the saved one again.
    page.get_by_role("button", name="+ New chat").click()
    page.wait_for_url("**/app/chat")
    # The transcript clears on the render after the navigation: wait for it.
    expect(page.locator(".msg-user")).to_have_count(0)
    page.locator(".conv-open", has_text="Remember the blue sky").click()
    page.wait_for_selector(".msg-user >> text=Remember the blue sky")
    assert page.url == url


def test_thinking_is_streamed_into_its_own_block(
    page: Any, live_server: str, upstream: FakeUpstream
) -> None:
    upstream.scenario = "thinking"
    page.goto(live_server + "/app/chat")
    send_message(page, "What is 1+1?")
    reply = wait_reply_done(page)
    reply.locator(".reply strong").wait_for()  # Markdown rendered
    assert reply.locator(".reply").inner_text().strip() == "1 + 1 = 2."
    toggle = reply.locator(".thinking-toggle")
    assert "Thought process" in toggle.inner_text()
    # Collapsed once the answer is there; opens on click and holds the reasoning only.
    assert reply.locator(".thinking-body").count() == 0
    toggle.click()
    thought = reply.locator(".thinking-body").inner_text()
    assert "Simple arithmetic" in thought
    assert "Simple arithmetic" not in reply.locator(".reply").inner_text()


def test_missing_ollama_model_can_be_pulled(
    page: Any, live_server: str, upstream: FakeUpstream
) -> None:
    upstream.chunk_delay = 0.02
    page.goto(live_server + "/app/chat")
    page.wait_for_selector("#model-input[value='gpt-oss:20b']")
    page.fill("#model-input", "qwen3:0.6b")
    page.get_by_role("button", name="Pull qwen3:0.6b").click()
    panel = page.get_by_label("Pull qwen3:0.6b")
    panel.get_by_text("Done — the model is ready.").wait_for()
    text = panel.inner_text()
    assert "13.8 GB of 13.8 GB" in text, text
    assert panel.locator(".layers li").count() == 2
    pulls = upstream.requests_to("/api/pull")
    assert pulls, "the connector never asked Ollama to pull"
    sent = pulls[-1].json
    assert sent.get("model", sent.get("name")) == "qwen3:0.6b"


def test_pull_can_be_cancelled(page: Any, live_server: str, upstream: FakeUpstream) -> None:
    upstream.scenario = "slow"
    page.goto(live_server + "/app/chat")
    page.wait_for_selector("#model-input[value='gpt-oss:20b']")
    page.fill("#model-input", "qwen3:0.6b")
    page.get_by_role("button", name="Pull qwen3:0.6b").click()
    panel = page.get_by_label("Pull qwen3:0.6b")
    panel.locator(".progress").first.wait_for()
    panel.get_by_role("button", name="Cancel").click()
    panel.get_by_text("Cancelled.").wait_for()
    assert upstream.wait_cancelled(1), "closing the request did not stop the pull upstream"


def test_chat_404_offers_pull(page: Any, live_server: str, upstream: FakeUpstream) -> None:
    upstream.model_scenarios["gpt-oss:20b"] = "not_found"
    page.goto(live_server + "/app/chat")
    page.wait_for_selector("#model-input[value='gpt-oss:20b']")
    send_message(page, "Hello?")
    reply = wait_reply_done(page)
    assert reply.get_attribute("data-status") == "error"
    assert "404" in reply.inner_text()
    assert "ollama pull" in reply.inner_text()
    reply.get_by_role("button", name="Pull this model").click()
    page.get_by_label("Pull gpt-oss:20b").wait_for()
