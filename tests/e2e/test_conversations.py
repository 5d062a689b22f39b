"""Conversation management and chat controls in a real browser: structured output,
regenerate, edit last, rename, export, delete, and an unreachable provider."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from connector.config import Settings
from tests.fakes.server import closed_port_url
from tests.fakes.upstream import FakeUpstream

from .helpers import last_reply, send_message, wait_reply_done


def user_turns(upstream: FakeUpstream) -> list[str]:
    """The user messages of the last chat request the fake Ollama got."""
    body = upstream.last("/api/chat").json
    return [m["content"] for m in body["messages"] if m["role"] == "user"]


def test_structured_output_shows_the_parsed_result(
    page: Any, live_server: str, upstream: FakeUpstream
) -> None:
    page.goto(live_server + "/app/chat")
    page.get_by_role("button", name="Options").click()
    page.get_by_label("Structured (JSON schema)").check()
    editor = page.get_by_label("JSON schema for the reply")
    editor.fill('{"type": "object", "properties": ')
    page.get_by_text("Invalid JSON").wait_for()
    # A broken schema is not sent.
    send_message(page, "List colors")
    page.get_by_text("Fix the JSON schema before sending.").wait_for()
    assert upstream.requests_to("/api/chat") == []

    schema = {
        "type": "object",
        "properties": {"colors": {"type": "array", "items": {"type": "string"}}},
        "required": ["colors"],
    }
    editor.fill(json.dumps(schema))
    page.get_by_text("✓ Valid schema").wait_for()
    send_message(page, "List colors")
    reply = wait_reply_done(page)
    assert reply.get_attribute("data-status") == "done"
    parsed = json.loads(reply.locator(".parsed > pre").inner_text())
    assert isinstance(parsed["colors"], list) and parsed["colors"]
    # The raw text is there too, folded away.
    assert not reply.locator(".parsed .raw pre").is_visible()
    reply.get_by_text("Raw reply").click()
    assert json.loads(reply.locator(".parsed .raw pre").inner_text()) == parsed
    assert upstream.last("/api/chat").json["format"] == schema


def test_options_reach_ollama_and_context_length_is_ollama_only(
    page: Any, live_server: str, upstream: FakeUpstream
) -> None:
    page.goto(live_server + "/app/chat")
    page.wait_for_selector("#model-input:not([value=''])")
    page.get_by_role("button", name="Options").click()
    page.get_by_label("Set temperature").check()
    page.get_by_label("Reasoning effort").select_option("low")
    page.get_by_label("Context length").select_option("32768")
    send_message(page, "Summarise our chat")
    wait_reply_done(page)
    sent = upstream.last("/api/chat").json
    assert sent["options"]["num_ctx"] == 32768
    assert sent["options"]["temperature"] == 0.7
    assert sent["think"] == "low"

    # OpenAI has no such option: the picker goes away and nothing is sent.
    page.select_option("#provider-select", "openai")
    expect(page.get_by_label("Context length")).to_have_count(0)
    page.fill("#model-input", "gpt-4o-mini")
    send_message(page, "And now?")
    wait_reply_done(page)
    sent = upstream.last("/v1/chat/completions").json
    assert "options" not in sent and "num_ctx" not in sent
    assert sent["temperature"] == 0.7


def test_regenerate_and_edit_last_message(
    page: Any, live_server: str, upstream: FakeUpstream
) -> None:
    page.goto(live_server + "/app/chat")
    # Shift+Enter is a new line, not a send.
    box = page.get_by_label("Message", exact=True)
    box.fill("line one")
    box.press("Shift+Enter")
    box.type("line two")
    assert box.input_value() == "line one\nline two"
    assert page.locator(".msg").count() == 0
    send_message(page, "First question")
    wait_reply_done(page)
    page.get_by_role("button", name="↻ Regenerate").click()
    wait_reply_done(page)
    assert page.locator(".msg-assistant").count() == 1
    assert len(upstream.requests_to("/api/chat")) == 2
    assert user_turns(upstream) == ["First question"]

    page.get_by_role("button", name="✎ Edit").click()
    assert box.input_value() == "First question"
    expect(page.locator(".msg")).to_have_count(0)
    box.fill("Edited question")
    box.press("Enter")
    wait_reply_done(page)
    assert user_turns(upstream) == ["Edited question"]
    page.wait_for_selector(".conv-meta >> text=2 msg")
    page.reload()
    page.wait_for_selector(".msg-user >> text=Edited question")
    assert page.locator(".msg-user").count() == 1


def test_rename_export_and_delete(page: Any, live_server: str, upstream: FakeUpstream) -> None:
    page.goto(live_server + "/app/chat")
    send_message(page, "Talk about the sky")
    wait_reply_done(page)
    item = page.locator(".conv").first
    item.get_by_text("2 msg").wait_for()

    item.hover()
    item.get_by_role("button", name="Actions for Talk about the sky").click()
    page.get_by_role("menuitem", name="Rename").click()
    title = page.get_by_label("Conversation title")
    title.fill("Sky notes")
    title.press("Enter")
    page.locator(".conv-title", has_text="Sky notes").wait_for()

    item.hover()
    item.get_by_role("button", name="Actions for Sky notes").click()
    with page.expect_download() as md_info:
        page.get_by_role("menuitem", name="Export Markdown").click()
    md = md_info.value
    assert md.suggested_filename.endswith(".md")
    text = open(md.path(), encoding="utf-8").read()
    assert "Talk about the sky" in text and "Rayleigh" in text

    item.hover()
    item.get_by_role("button", name="Actions for Sky notes").click()
    with page.expect_download() as json_info:
        page.get_by_role("menuitem", name="Export JSON").click()
    exported = json.loads(open(json_info.value.path(), encoding="utf-8").read())
    assert "Rayleigh" in json.dumps(exported)

    item.hover()
    item.get_by_role("button", name="Actions for Sky notes").click()
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("menuitem", name="Delete").click()
    page.get_by_text("No saved conversations yet.").wait_for()
    page.wait_for_url("**/app/chat")
    page.reload()
    page.get_by_text("No saved conversations yet.").wait_for()


def test_unreachable_ollama_is_explained(
    page: Any, make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    dead = closed_port_url()
    url = serve(make_settings(ollama_base_url=dead))
    page.goto(url + "/app/chat")
    problem = page.locator(".provider-problem")
    problem.get_by_text("Ollama is unavailable").wait_for()
    assert dead.split("//")[1] in problem.inner_text()
    send_message(page, "Hello?")
    reply = wait_reply_done(page)
    assert reply.get_attribute("data-status") == "error"
    assert "503" in last_reply(page).inner_text()
    problem.get_by_role("link", name="Open Settings →").click()
    page.wait_for_url("**/app/settings")
