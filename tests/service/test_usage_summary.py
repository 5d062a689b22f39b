"""`/usage` aggregation, done by the database, against a plain-Python reference
over records with every status, provider, missing timings and bucket edges."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from connector.db import make_engine, migrate
from connector.schemas import Bucket
from connector.services import pricing
from connector.services.monitor import MonitorHub
from connector.services.usage import MIN_RATE_WINDOW_MS, UsageEntry, UsageService
from tests.service.helpers import assert_error

NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


def _entries(count: int, seed: int = 7) -> list[UsageEntry]:
    rng = random.Random(seed)
    entries = []
    for i in range(count):
        provider = rng.choice(["ollama", "openai"])
        status = rng.choice(["ok", "ok", "ok", "error", "cancelled"])
        prompt, completion, reasoning = rng.randint(0, 50), rng.randint(0, 200), rng.randint(0, 9)
        latency = rng.uniform(5, 900)
        reference = rng.choice([None, rng.uniform(0, 0.01)])
        entries.append(
            UsageEntry(
                request_id=f"r{i}",
                surface=rng.choice(["rest", "sse", "ws", "v1"]),
                provider=provider,
                model=rng.choice(["m-a", "m-b"]),
                status=status,
                error_type=None if status != "error" else "upstream_error",
                prompt_tokens=prompt,
                completion_tokens=completion,
                reasoning_tokens=reasoning,
                total_tokens=prompt + completion,
                latency_ms=latency,
                ttft_ms=rng.choice([None, latency * rng.uniform(0.05, 0.9)]),
                cost_usd=0.0 if provider == "ollama" else rng.uniform(0, 0.01),
                reference_cost_usd=reference,
                # What it saved is decided when it is recorded (services/pricing.py).
                saved_usd=pricing.saved_usd(provider == "ollama", reference),
                endpoint=provider,
                structured=rng.random() < 0.2,
                # Spread over three days, some exactly on a bucket boundary.
                created_at=NOW
                - timedelta(
                    minutes=rng.randint(0, 3 * 24 * 60), seconds=rng.choice([0, 0, 17, 59])
                ),
            )
        )
    return entries


def _expected_series(entries: list[UsageEntry], bucket: str) -> list[dict[str, Any]]:
    points: dict[datetime, dict[str, Any]] = defaultdict(
        lambda: {"requests": 0, "total_tokens": 0, "cost_usd": 0.0, "saved_usd": 0.0}
    )
    for e in entries:
        t = e.created_at.replace(second=0, microsecond=0)
        if bucket in ("hour", "day"):
            t = t.replace(minute=0)
        if bucket == "day":
            t = t.replace(hour=0)
        p = points[t]
        p["requests"] += 1
        p["total_tokens"] += e.total_tokens
        p["cost_usd"] += e.cost_usd
        p["saved_usd"] += e.saved_usd
    return [{"bucket_start": t, **v} for t, v in sorted(points.items())]


@pytest.fixture
def usage(tmp_path: Path) -> UsageService:
    engine = make_engine(f"sqlite:///{tmp_path / 'usage.db'}")
    migrate(engine)
    return UsageService(engine, MonitorHub())


def test_summary_matches_a_plain_python_reference(usage: UsageService) -> None:
    entries = _entries(600)
    usage._insert(entries)
    summary = asyncio.run(usage.summary(bucket="hour", points=10_000))

    t = summary.totals
    assert t.requests == 600
    assert t.ok == sum(e.status == "ok" for e in entries)
    assert t.errors == sum(e.status == "error" for e in entries)
    assert t.cancelled == sum(e.status == "cancelled" for e in entries)
    assert t.total_tokens == sum(e.total_tokens for e in entries)
    assert t.reasoning_tokens == sum(e.reasoning_tokens for e in entries)
    assert t.cost_usd == pytest.approx(sum(e.cost_usd for e in entries))
    assert t.saved_usd == pytest.approx(sum(e.saved_usd for e in entries))
    # The running totals a restarted server starts from are the same numbers.
    assert usage._load_totals() == t

    assert [(m.provider, m.model) for m in summary.by_model] == sorted(
        {(e.provider, e.model) for e in entries}
    )
    for m in summary.by_model:
        mine = [e for e in entries if (e.provider, e.model) == (m.provider, m.model)]
        ok = [e for e in mine if e.status == "ok"]
        first = [e for e in ok if e.ttft_ms is not None]
        timed = [e for e in first if e.latency_ms - (e.ttft_ms or 0) >= MIN_RATE_WINDOW_MS]
        assert m.requests == len(mine)
        assert m.errors == sum(e.status == "error" for e in mine)
        assert m.prompt_tokens == sum(e.prompt_tokens for e in mine)
        assert m.avg_latency_ms == pytest.approx(sum(e.latency_ms for e in ok) / len(ok))
        assert m.avg_ttft_ms == pytest.approx(sum(e.ttft_ms or 0 for e in first) / len(first))
        assert 0 < len(timed) < len(first)  # the data has answers too short to time
        gen_s = sum((e.latency_ms - (e.ttft_ms or 0)) / 1000 for e in timed)
        assert m.tokens_per_s == pytest.approx(sum(e.completion_tokens for e in timed) / gen_s)

    buckets: tuple[Bucket, ...] = ("minute", "hour", "day")
    for bucket in buckets:
        got = asyncio.run(usage.summary(bucket=bucket, points=10_000)).series
        want = _expected_series(entries, bucket)
        assert [p.bucket_start for p in got] == [p["bucket_start"] for p in want]
        assert [p.requests for p in got] == [p["requests"] for p in want]
        assert [p.total_tokens for p in got] == [p["total_tokens"] for p in want]
        assert [p.cost_usd for p in got] == pytest.approx([p["cost_usd"] for p in want])
        assert [p.saved_usd for p in got] == pytest.approx([p["saved_usd"] for p in want])

    newest = sorted(range(600), reverse=True)[:50]
    assert [r.request_id for r in summary.recent] == [f"r{i}" for i in newest]


def test_series_keeps_the_newest_points_and_filters_apply(usage: UsageService) -> None:
    entries = _entries(300, seed=3)
    usage._insert(entries)
    full = _expected_series(entries, "hour")

    last = asyncio.run(usage.summary(bucket="hour", points=5)).series
    assert [p.bucket_start for p in last] == [p["bucket_start"] for p in full[-5:]]

    since, until = NOW - timedelta(hours=30), NOW - timedelta(hours=6)
    window = asyncio.run(usage.summary(since=since, until=until, bucket="day", points=10_000))
    inside = [e for e in entries if since <= e.created_at < until]
    assert window.totals.requests == len(inside)
    assert sum(p.requests for p in window.series) == len(inside)
    assert sum(m.total_tokens for m in window.by_model) == sum(e.total_tokens for e in inside)

    empty = asyncio.run(usage.summary(since=NOW + timedelta(days=1)))
    assert empty.totals.requests == 0 and empty.by_model == [] and empty.series == []


def test_points_is_bounded(live_server: str) -> None:
    with httpx.Client(base_url=live_server) as client:
        assert client.get("/usage", params={"points": 1}).status_code == 200
        assert_error(client.get("/usage", params={"points": 0}), 422)
        assert_error(client.get("/usage", params={"points": 10_001}), 422)


def test_a_start_does_not_wait_for_the_history_to_be_summed(
    usage: UsageService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The history's sum runs while the server answers; a record committed meanwhile
    is published once the sum is in, with totals that count the history and itself."""
    import threading

    history = _entries(300)
    usage._insert(history)
    release = threading.Event()
    summing = usage._load_totals

    def slow_sum(last: int | None = None) -> Any:
        release.wait(30)
        return summing(last)

    monkeypatch.setattr(usage, "_load_totals", slow_sum)
    late = _entries(1, seed=99)[0]

    async def main() -> list[dict[str, Any]]:
        async with usage._hub.subscribe() as queue:
            await asyncio.wait_for(usage.start(), 5)  # returns with the sum still running
            try:
                assert await usage.durable(usage.record(late))
                await asyncio.sleep(0)
                assert queue.empty()  # held until the sum is in
                release.set()
                await asyncio.wait_for(usage.totals_loaded(), 30)
                return [queue.get_nowait() for _ in range(queue.qsize())]
            finally:
                release.set()
                await usage.stop()

    published = asyncio.run(main())
    assert [m["record"]["request_id"] for m in published] == [late.request_id]
    totals = published[0]["totals"]
    assert totals["requests"] == 301
    assert totals["total_tokens"] == sum(e.total_tokens for e in history) + late.total_tokens
    assert usage.totals.requests == 301
