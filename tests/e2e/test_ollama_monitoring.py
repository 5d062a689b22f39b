"""A program calling Ollama's API through the connector shows up in Monitoring: on
`/ws/monitoring` with its surface and client, and in the page's "By client" table,
which the program filter narrows to it."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import httpx
import ollama
from websockets.sync.client import connect

from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import ws_url

CLIENT = f"ollama-python/{version('ollama')}"


def test_ollama_requests_appear_by_client(
    new_page: Callable[..., Any], live_server: str, upstream: FakeUpstream
) -> None:
    page = new_page()
    page.goto(live_server + "/app/monitoring")
    page.get_by_test_id("live-state").get_by_text("Live").wait_for()

    with connect(ws_url(live_server, "/ws/monitoring")) as socket:
        assert json.loads(socket.recv(timeout=10))["type"] == "snapshot"
        client = ollama.Client(host=live_server)
        client.chat(model="gpt-oss:20b", messages=[{"role": "user", "content": "Hi"}])
        client.generate(model="gpt-oss:20b", prompt="Hi")
        client.embed(model="all-minilm", input="Hi")
        records: list[dict[str, Any]] = []
        while len(records) < 3:
            message = json.loads(socket.recv(timeout=10))
            if message["type"] == "record":
                records.append(message["record"])
    assert [(r["surface"], r["client"]) for r in records] == [("ollama", CLIENT)] * 3
    assert sorted(r["kind"] for r in records) == ["chat", "chat", "embed"]
    # Someone else, on another surface.
    httpx.post(
        f"{live_server}/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "Hi"}]},
        headers={"User-Agent": "curl/8.5.0"},
    ).raise_for_status()

    table = page.get_by_test_id("by-client")
    row = table.locator("tbody tr", has_text=CLIENT)
    row.wait_for()
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == CLIENT and cells[1] == "ollama"
    assert cells[2].startswith("3") and "1 embed" in cells[2]
    table.locator("tbody tr", has_text="curl/8.5.0").wait_for()

    page.get_by_test_id("client-filter").select_option(CLIENT)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=by-client] tbody tr').length === 1"
    )
    assert page.get_by_test_id("stat-requests").locator(".stat-value").inner_text() == "3"
    page.get_by_test_id("client-filter").select_option("")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=by-client] tbody tr').length === 2"
    )
    assert page.get_by_test_id("stat-requests").locator(".stat-value").inner_text() == "4"
