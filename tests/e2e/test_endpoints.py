"""An endpoint added in Settings is chatted with and shows up in Monitoring: the second
fake upstream (`lab`, OpenAI-compatible, its own port) beside the default ones."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import OPENAI_TEXT

from .helpers import send_message, wait_reply_done


def test_add_an_endpoint_chat_with_its_model_see_it_in_monitoring(
    page: Any, live_server: str, upstream: FakeUpstream, second_upstream: FakeUpstream
) -> None:
    lab = second_upstream
    lab.openai_models = ["smollm2"]
    page.goto(live_server + "/app/settings")
    form = page.get_by_role("form", name="Add an endpoint")
    form.get_by_label("Name").fill("lab")
    form.get_by_label("Kind").select_option("openai-compatible")
    form.get_by_label("Base URL").fill(lab.openai_url)
    form.get_by_label("Usage is").select_option("local")
    form.get_by_role("button", name="Add endpoint").click()
    expect(form.get_by_role("status")).to_contain_text("Added lab")
    row = page.locator("li.endpoint[data-endpoint=lab]")
    row.get_by_role("button", name="Test connection").click()
    expect(row.get_by_role("status").first).to_contain_text("✓")
    assert lab.requests_to("/v1/models")

    page.goto(live_server + "/app/chat")
    page.locator("#provider-select").select_option("lab")
    expect(page.locator("#model-input")).to_have_value("smollm2")
    send_message(page, "Hello lab")
    reply = wait_reply_done(page)
    assert reply.get_attribute("data-status") == "done"
    assert reply.locator(".reply").inner_text().strip() == OPENAI_TEXT
    [sent] = [r.json for r in lab.requests_to("/v1/chat/completions")]
    assert sent["model"] == "smollm2"
    assert not upstream.requests_to("/v1/chat/completions")

    page.goto(live_server + "/app/monitoring")
    line = page.locator(".endpoint-health li[data-endpoint=lab]")
    expect(line.locator(".badge")).to_have_text("up")
    expect(line).to_contain_text("1 requests")
    expect(line).to_contain_text("saved")
    expect(page.locator(".endpoint-health li[data-endpoint=ollama]")).to_be_visible()
