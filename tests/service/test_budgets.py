"""Budgets and limits: refused before the upstream call with a 429 in each dialect's
shape, exact at the edge under concurrency, reset at the period's end (an injected
clock), announced at 80 % and 100 % on /ws/monitoring, and persisted across a restart."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anthropic
import httpx
import ollama
import openai
import pytest
from websockets.sync.client import connect

from connector.config import Settings
from connector.main import create_app
from connector.services.budgets import BudgetService
from connector.services.container import Services
from tests.fakes.server import ServerThread
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import assert_error, chat_body, ws_url
from tests.service.test_keys import bearer, make_key

MODEL = "ollama/gpt-oss:20b"
TOKENS = 308  # what the recorded Ollama answer counts (prompt + completion)
HI = [{"role": "user", "content": "Hi"}]


@dataclass
class Running:
    url: str
    services: Services


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def start() -> Iterator[Callable[[Settings], Running]]:
    servers: list[ServerThread] = []

    def run(settings: Settings) -> Running:
        app = create_app(settings)
        server = ServerThread(app, lifespan="on").start()
        servers.append(server)
        return Running(server.url, app.state.services)

    yield run
    for server in reversed(servers):
        server.stop()


def _chat(url: str, key: str, **extra: Any) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/chat/completions", json=chat_body(model=MODEL, **extra), headers=bearer(key)
    )


def test_the_last_of_a_budget_goes_to_one_request_of_a_burst(
    make_settings: Callable[..., Settings], start: Callable[[Settings], Running]
) -> None:
    run = start(make_settings())
    limit = 3 * TOKENS + 100
    created = make_key(run.url, "burst", tokens_per_day=limit)
    key = created["key"]
    for _ in range(3):
        assert _chat(run.url, key).status_code == 200
    # 924 of 1024 spent: room for one more. Eight at once: the first admitted counts as
    # in flight (at this key's mean, 308 tokens), so none of the others gets in.
    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(r.status_code for r in pool.map(lambda _: _chat(run.url, key), range(8)))
    assert statuses == [200] + [429] * 7
    [use] = httpx.get(f"{run.url}/keys/{created['id']}").json()["usage"]
    assert use["budget"] == "tokens_per_day"
    assert use["spent"] == 4 * TOKENS and use["in_flight"] == 0 and use["fraction"] > 1
    # The overshoot is the one request that was in flight; nothing recorded beyond it.
    summary = httpx.get(f"{run.url}/usage", headers=bearer(key)).json()
    assert summary["totals"]["requests"] == 4 and summary["totals"]["total_tokens"] == 4 * TOKENS


def test_a_new_keys_first_burst_counts_at_what_requests_cost_here(
    make_settings: Callable[..., Settings], start: Callable[[Settings], Running]
) -> None:
    run = start(make_settings())
    assert httpx.post(f"{run.url}/v1/chat/completions", json=chat_body()).status_code == 200
    key = make_key(run.url, "fresh", tokens_per_day=TOKENS + 100)["key"]
    # No history of its own: each request in flight counts at this connector's mean
    # (308 tokens), so of a burst of eight, two get in (0, then 308 < 408), however
    # they overlap.
    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(r.status_code for r in pool.map(lambda _: _chat(run.url, key), range(8)))
    assert statuses == [200] * 2 + [429] * 6
    assert_error(_chat(run.url, key), 429)


def test_requests_per_minute_is_exact_under_concurrency(
    make_settings: Callable[..., Settings], start: Callable[[Settings], Running]
) -> None:
    """Counted at admission, so a burst gets exactly the limit, however it overlaps."""
    run = start(make_settings())
    key = make_key(run.url, "rpm", requests_per_minute=3)["key"]
    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(r.status_code for r in pool.map(lambda _: _chat(run.url, key), range(8)))
    assert statuses == [200] * 3 + [429] * 5
    refused = assert_error(_chat(run.url, key), 429)
    assert "3 requests per minute" in refused["message"]


def test_a_budget_resets_at_the_end_of_its_day_and_month(
    make_settings: Callable[..., Settings], start: Callable[[Settings], Running]
) -> None:
    run = start(make_settings())
    clock = Clock(datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC))
    run.services.budgets.clock = clock
    daily = make_key(run.url, "daily", tokens_per_day=TOKENS)["key"]
    monthly = make_key(run.url, "monthly", tokens_per_month=TOKENS)["key"]
    for key in (daily, monthly):
        assert _chat(run.url, key).status_code == 200
    response = _chat(run.url, daily)
    refused = assert_error(response, 429)
    assert refused["code"] == "budget_exceeded" and refused["type"] == "rate_limit_error"
    assert refused["message"] == (
        f"Key 'daily' ({httpx.get(f'{run.url}/keys').json()[0]['id']}) is over its budget of "
        f"{TOKENS} tokens per day: {TOKENS} spent today (UTC). It resets at "
        "2027-01-01T00:00:00Z (in 30 s)."
    )
    assert response.headers["retry-after"] == "30"
    assert "tokens per month" in assert_error(_chat(run.url, monthly), 429)["message"]

    clock.now += timedelta(seconds=31)  # a new day, and a new month
    assert _chat(run.url, daily).status_code == 200
    assert _chat(run.url, monthly).status_code == 200
    clock.now += timedelta(days=1)  # the next day: the daily budget is back, not the month's
    assert _chat(run.url, daily).status_code == 200
    assert "resets at 2027-02-01T00:00:00Z" in assert_error(_chat(run.url, monthly), 429)["message"]


def test_over_budget_is_a_429_in_every_dialect(
    make_settings: Callable[..., Settings],
    start: Callable[[Settings], Running],
    upstream: FakeUpstream,
) -> None:
    run = start(make_settings())
    url = run.url
    key = make_key(url, "spent", tokens_per_day=1)["key"]
    assert _chat(url, key).status_code == 200  # now over
    calls = len(upstream.calls())

    blocking = assert_error(_chat(url, key), 429)
    assert blocking["code"] == "budget_exceeded" and "tokens per day" in blocking["message"]
    streamed = _chat(url, key, stream=True)
    assert streamed.status_code == 429 and streamed.json()["error"]["code"] == "budget_exceeded"

    with pytest.raises(openai.RateLimitError) as oa_error:
        openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0).responses.create(
            model=MODEL, input="Hi"
        )
    assert oa_error.value.code == "budget_exceeded"

    with pytest.raises(anthropic.RateLimitError) as an_error:
        anthropic.Anthropic(base_url=url, api_key=key, max_retries=0).messages.create(
            model=MODEL,
            max_tokens=8,
            messages=HI,  # type: ignore[arg-type]
        )
    body = an_error.value.body
    assert isinstance(body, dict) and body["type"] == "error"
    assert body["error"]["type"] == "rate_limit_error"
    assert "tokens per day" in body["error"]["message"]

    with pytest.raises(ollama.ResponseError) as ol_error:
        ollama.Client(host=url, headers=bearer(key)).chat(model="gpt-oss:20b", messages=HI)
    assert ol_error.value.status_code == 429 and "tokens per day" in ol_error.value.error
    raw = httpx.post(
        f"{url}/api/chat", json={"model": "gpt-oss:20b", "messages": HI}, headers=bearer(key)
    )
    assert raw.status_code == 429 and set(raw.json()) == {"error"}

    embed = httpx.post(
        f"{url}/v1/embeddings",
        json={"model": "ollama/all-minilm", "input": "x"},
        headers=bearer(key),
    )
    assert assert_error(embed, 429)["code"] == "budget_exceeded"

    with connect(ws_url(url, f"/ws/chat?token={key}"), open_timeout=5) as ws:
        ws.send(json.dumps({"type": "chat", "id": "r1", "request": chat_body(model=MODEL)}))
        message = json.loads(ws.recv(timeout=10))
    assert message["type"] == "error" and message["id"] == "r1" and message["status"] == 429
    assert message["error"]["code"] == "budget_exceeded"

    # None of them reached the upstream, and none is on the books.
    assert len(upstream.calls()) == calls
    assert httpx.get(f"{url}/usage", headers=bearer(key)).json()["totals"]["requests"] == 1


def test_crossing_80_and_100_percent_is_announced_once_each(
    make_settings: Callable[..., Settings], start: Callable[[Settings], Running]
) -> None:
    run = start(make_settings())
    created = make_key(run.url, "watched", tokens_per_day=700)
    key = created["key"]
    events: list[dict[str, Any]] = []
    ready = threading.Event()

    def watch() -> None:
        with connect(ws_url(run.url, f"/ws/monitoring?token={key}"), open_timeout=5) as ws:
            ready.set()
            while len(events) < 2:
                message = json.loads(ws.recv(timeout=10))
                if message["type"] == "budget":
                    events.append(message)

    watcher = threading.Thread(target=watch)
    watcher.start()
    assert ready.wait(5)
    for _ in range(3):  # 308 (44 %), 616 (88 %), 924 (132 %)
        assert _chat(run.url, key).status_code == 200
    watcher.join(10)
    assert [(e["budget"], e["threshold"], e["spent"]) for e in events] == [
        ("tokens_per_day", 80, 2 * TOKENS),
        ("tokens_per_day", 100, 3 * TOKENS),
    ]
    assert all(e["key_id"] == created["id"] and e["key_name"] == "watched" for e in events)
    assert events[0]["limit"] == 700 and events[0]["resets_at"].endswith("T00:00:00Z")


def test_global_limits_count_every_request(
    make_settings: Callable[..., Settings], start: Callable[[Settings], Running]
) -> None:
    run = start(make_settings())
    url = run.url
    changed = httpx.patch(f"{url}/budgets", json={"requests_per_minute": 2})
    assert changed.status_code == 200 and changed.json()["limits"]["requests_per_minute"] == 2
    assert httpx.post(f"{url}/v1/chat/completions", json=chat_body()).status_code == 200
    assert httpx.post(f"{url}/v1/chat/completions", json=chat_body()).status_code == 200
    refused = assert_error(httpx.post(f"{url}/v1/chat/completions", json=chat_body()), 429)
    assert refused["message"].startswith(
        "This connector is over its budget of 2 requests per minute"
    )
    assert httpx.get(f"{url}/budgets").json()["usage"][0]["spent"] == 2
    assert httpx.patch(f"{url}/budgets", json={"requests_per_minute": None}).json()["usage"] == []
    assert httpx.post(f"{url}/v1/chat/completions", json=chat_body()).status_code == 200
    assert_error(httpx.patch(f"{url}/budgets", json={"usd_per_day": -1}), 422)


def test_what_was_spent_survives_a_restart(
    make_settings: Callable[..., Settings], start: Callable[[Settings], Running]
) -> None:
    settings = make_settings()
    first = start(settings)
    created = make_key(first.url, "persisted", tokens_per_day=2 * TOKENS)
    assert _chat(first.url, created["key"]).status_code == 200
    second = start(settings.model_copy(update={"port": 0}))
    [use] = httpx.get(f"{second.url}/keys/{created['id']}").json()["usage"]
    assert use["spent"] == TOKENS
    assert _chat(second.url, created["key"]).status_code == 200
    assert_error(_chat(second.url, created["key"]), 429)


def test_a_start_answers_while_the_months_spending_is_summed(
    make_settings: Callable[..., Settings],
    start: Callable[[Settings], Running],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sum of the month's records runs while the server answers: a request no limit
    applies to does not wait for it, one with a limit does, and the sum and what was
    spent meanwhile add up."""
    settings = make_settings()
    first = start(settings)
    created = make_key(first.url, "summed", tokens_per_day=2 * TOKENS)
    unlimited = make_key(first.url, "unlimited")
    assert _chat(first.url, created["key"]).status_code == 200
    release = threading.Event()
    spent = BudgetService._spent

    def slow(self: BudgetService, now: datetime, upto: int) -> Any:
        release.wait(30)
        return spent(self, now, upto)

    monkeypatch.setattr(BudgetService, "_spent", slow)
    second = start(settings.model_copy(update={"port": 0}))
    with ThreadPoolExecutor(2) as pool:
        try:
            limited = pool.submit(_chat, second.url, created["key"])
            view = pool.submit(httpx.get, f"{second.url}/keys/{created['id']}", timeout=30)
            free = _chat(second.url, unlimited["key"])
            assert free.status_code == 200  # no limit applies: answered during the sum
            assert not limited.done() and not view.done()
        finally:
            release.set()
        assert limited.result(30).status_code == 200
        [use] = view.result(30).json()["usage"]
    assert use["spent"] in (TOKENS, 2 * TOKENS)  # the view may see the limited one settled
    assert_error(_chat(second.url, created["key"]), 429)  # history + the limited one
