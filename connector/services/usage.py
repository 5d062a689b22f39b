"""Usage records: written off the chat path by one batching writer, aggregated for
`/usage`, and pushed to `/ws/monitoring` as they land."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from connector.schemas import (
    Bucket,
    ModelUsage,
    SeriesPoint,
    Totals,
    UsageRecordPublic,
    UsageSummary,
)
from connector.services.monitor import MonitorHub
from connector.tables import UsageRecord, utcnow

log = logging.getLogger(__name__)

_RECENT = 50
# How long the writer gathers records into one transaction; well inside the
# 100 ms in which monitoring shows a finished request.
_BATCH_WINDOW_S = 0.01
_TABLE = UsageRecord.__table__  # type: ignore[attr-defined]


@dataclass(slots=True)
class UsageEntry:
    """A finished request, as the chat path hands it over: a plain object, because
    building ORM instances on the hot path costs a fraction of a millisecond each."""

    request_id: str
    surface: str
    provider: str
    model: str
    status: str
    error_type: str | None
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    total_tokens: int
    latency_ms: float
    ttft_ms: float | None
    cost_usd: float
    reference_cost_usd: float | None
    structured: bool
    created_at: datetime = field(default_factory=utcnow)

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _ENTRY_FIELDS}


_ENTRY_FIELDS = tuple(f.name for f in fields(UsageEntry))


def _aware_utc(value: datetime | None) -> datetime | None:
    """Query times without a zone are taken as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _bucket_start(value: datetime, bucket: Bucket) -> datetime:
    if bucket == "day":
        return value.replace(hour=0, minute=0, second=0, microsecond=0)
    if bucket == "hour":
        return value.replace(minute=0, second=0, microsecond=0)
    return value.replace(second=0, microsecond=0)


def _add(totals: Totals, rec: Any) -> None:
    """Add one record (an entry or a database row) to running totals."""
    totals.requests += 1
    if rec.status == "ok":
        totals.ok += 1
    elif rec.status == "cancelled":
        totals.cancelled += 1
    else:
        totals.errors += 1
    totals.prompt_tokens += rec.prompt_tokens
    totals.completion_tokens += rec.completion_tokens
    totals.reasoning_tokens += rec.reasoning_tokens
    totals.total_tokens += rec.total_tokens
    totals.cost_usd += rec.cost_usd
    if rec.provider == "ollama" and rec.reference_cost_usd:
        totals.saved_usd += rec.reference_cost_usd


def public(rec: Any) -> UsageRecordPublic:
    return UsageRecordPublic.model_validate(rec, from_attributes=True)


class UsageService:
    def __init__(self, engine: Engine, hub: MonitorHub) -> None:
        self._engine = engine
        self._hub = hub
        self._queue: asyncio.Queue[UsageEntry] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self.totals = Totals()

    async def start(self) -> None:
        self.totals = await asyncio.to_thread(self._load_totals)
        self._writer = asyncio.create_task(self._write_loop(), name="usage-writer")

    async def stop(self) -> None:
        await self.flush()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

    def record(self, rec: UsageEntry) -> None:
        """Queue a record; never blocks the caller."""
        self._queue.put_nowait(rec)

    async def flush(self) -> None:
        """Wait until every queued record is in the database."""
        await self._queue.join()

    async def _write_loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            await asyncio.sleep(_BATCH_WINDOW_S)
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                ids = await asyncio.to_thread(self._insert, batch)
                for rec, rec_id in zip(batch, ids, strict=True):
                    _add(self.totals, rec)
                    if self._hub.has_subscribers:
                        self._hub.publish(
                            {
                                "type": "record",
                                "record": public({"id": rec_id, **rec.row()}).model_dump(
                                    mode="json"
                                ),
                                "totals": self.totals.model_dump(mode="json"),
                                "in_flight": self._hub.in_flight,
                            }
                        )
            except Exception:
                log.exception("Writing %d usage records failed", len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _insert(self, batch: list[UsageEntry]) -> list[int]:
        # Core executemany with RETURNING: one statement for the batch, no ORM.
        with self._engine.begin() as conn:
            result = conn.execute(
                insert(_TABLE).returning(_TABLE.c.id, sort_by_parameter_order=True),
                [rec.row() for rec in batch],
            )
            return [row.id for row in result]

    def _load_totals(self) -> Totals:
        totals = Totals()
        with self._engine.connect() as conn:
            for rec in conn.execute(select(_TABLE)):
                _add(totals, rec)
        return totals

    async def summary(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        bucket: Bucket = "hour",
    ) -> UsageSummary:
        await self.flush()
        return await asyncio.to_thread(self._summary, since, until, bucket)

    def _summary(
        self, since: datetime | None, until: datetime | None, bucket: Bucket
    ) -> UsageSummary:
        lo, hi = _aware_utc(since), _aware_utc(until)
        query = select(_TABLE)
        if lo is not None:
            query = query.where(_TABLE.c.created_at >= lo)
        if hi is not None:
            query = query.where(_TABLE.c.created_at < hi)
        with self._engine.connect() as conn:
            rows = list(conn.execute(query.order_by(_TABLE.c.id)))

        totals = Totals()
        per_model: dict[tuple[str, str], list[Any]] = defaultdict(list)
        series: dict[datetime, dict[str, Any]] = {}
        for rec in rows:
            _add(totals, rec)
            per_model[(rec.provider, rec.model)].append(rec)
            start = _bucket_start(rec.created_at, bucket)
            point = series.setdefault(
                start, {"requests": 0, "total_tokens": 0, "cost_usd": 0.0, "saved_usd": 0.0}
            )
            point["requests"] += 1
            point["total_tokens"] += rec.total_tokens
            point["cost_usd"] += rec.cost_usd
            if rec.provider == "ollama" and rec.reference_cost_usd:
                point["saved_usd"] += rec.reference_cost_usd

        return UsageSummary(
            totals=totals,
            by_model=[_model_usage(p, m, recs) for (p, m), recs in sorted(per_model.items())],
            series=[
                SeriesPoint(bucket_start=start, **values)
                for start, values in sorted(series.items())
            ],
            recent=[public(rec) for rec in reversed(rows[-_RECENT:])],
            bucket=bucket,
            since=since,
            until=until,
        )


def _model_usage(provider: str, model: str, recs: list[Any]) -> ModelUsage:
    timed = [r for r in recs if r.status == "ok"]
    first = [r.ttft_ms for r in timed if r.ttft_ms is not None]
    gen_seconds = sum((r.latency_ms - r.ttft_ms) / 1000 for r in timed if r.ttft_ms is not None)
    gen_tokens = sum(r.completion_tokens for r in timed if r.ttft_ms is not None)
    return ModelUsage(
        provider=provider,
        model=model,
        requests=len(recs),
        errors=sum(1 for r in recs if r.status == "error"),
        prompt_tokens=sum(r.prompt_tokens for r in recs),
        completion_tokens=sum(r.completion_tokens for r in recs),
        reasoning_tokens=sum(r.reasoning_tokens for r in recs),
        total_tokens=sum(r.total_tokens for r in recs),
        cost_usd=sum(r.cost_usd for r in recs),
        saved_usd=sum(r.reference_cost_usd or 0.0 for r in recs if r.provider == "ollama"),
        avg_latency_ms=sum(r.latency_ms for r in timed) / len(timed) if timed else None,
        avg_ttft_ms=sum(first) / len(first) if first else None,
        tokens_per_s=gen_tokens / gen_seconds if gen_seconds > 0 else None,
    )
