"""The offline state: the chat WebSocket drops (routed through Playwright so the test
decides when), the UI says so, fails the reply in flight, and reconnects."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import expect

from tests.fakes.upstream import FakeUpstream

from .helpers import send_message, wait_reply_done


def test_dropped_socket_shows_offline_and_reconnects(
    page: Any, live_server: str, upstream: FakeUpstream
) -> None:
    routes: list[Any] = []
    refuse = {"on": False}

    def handle(ws: Any) -> None:
        if refuse["on"]:
            ws.close()
            return
        ws.connect_to_server()
        routes.append(ws)

    page.route_web_socket(re.compile(r".*/ws/chat.*"), handle)
    upstream.scenario = "slow"
    page.goto(live_server + "/app/chat")
    page.locator(".conn[data-state=open]").wait_for()
    send_message(page, "Count slowly")
    page.wait_for_function(
        "() => (document.querySelector('.msg-assistant .reply')?.textContent || '')"
        ".includes('tick2')"
    )

    refuse["on"] = True
    routes[-1].close()
    banner = page.locator(".offline-banner")
    banner.get_by_text("Offline: lost the connection").wait_for()
    reply = wait_reply_done(page)
    assert reply.get_attribute("data-status") == "error"
    assert "Connection to the connector was lost." in reply.inner_text()

    # The banner stays up through the refused attempts in between. Wait until the backoff
    # has grown to at least 3 s, so a reconnect sooner than 2 s is the button's doing and
    # not the timer's.
    countdown = banner.get_by_text(re.compile(r"Reconnecting in [3-9] s"))
    countdown.wait_for(timeout=15_000)
    secs = int(re.search(r"in (\d) s", countdown.inner_text()).group(1))  # type: ignore[union-attr]
    refuse["on"] = False
    upstream.scenario = "default"
    started = time.monotonic()
    banner.get_by_role("button", name="Retry now").click()
    page.locator(".conn[data-state=open]").wait_for()
    assert time.monotonic() - started < secs - 1
    expect(page.locator(".offline-banner")).to_have_count(0)
    send_message(page, "Are you back?")
    assert wait_reply_done(page).get_attribute("data-status") == "done"
