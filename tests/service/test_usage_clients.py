"""GET /usage/clients: the calling programs seen, from the usage records' `client`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.service.helpers import chat_body


def test_clients_are_listed_newest_first_with_todays_counts(live_server: str) -> None:
    url = live_server
    assert httpx.get(f"{url}/usage/clients").json() == []
    start = datetime.now(UTC) - timedelta(seconds=1)
    for agent, path in (
        ("curl/8.5.0", "/v1/chat/completions"),
        ("curl/8.5.0", "/v1/chat/completions"),
        ("claude-cli/2.1.197 (external, sdk-cli)", "/chat/completions"),
    ):
        reply = httpx.post(f"{url}{path}", json=chat_body(), headers={"User-Agent": agent})
        assert reply.status_code == 200, reply.text

    clients = httpx.get(f"{url}/usage/clients", params={"since": start.isoformat()}).json()
    assert [c["client"] for c in clients] == ["claude-cli/2.1.197", "curl/8.5.0"]
    claude, curl = clients
    assert (claude["requests"], claude["total_requests"], claude["last_surface"]) == (1, 1, "rest")
    assert (curl["requests"], curl["total_requests"], curl["last_surface"]) == (2, 2, "v1")
    seen = datetime.fromisoformat(claude["last_seen"])
    assert start <= seen <= datetime.now(UTC)
    assert seen >= datetime.fromisoformat(curl["last_seen"])

    # `requests` counts from `since`; the totals stay.
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    future = httpx.get(f"{url}/usage/clients", params={"since": later}).json()
    assert [(c["requests"], c["total_requests"]) for c in future] == [(0, 1), (0, 2)]
    assert httpx.get(f"{url}/usage/clients", params={"since": "yesterday"}).status_code == 422
