"""Usage records: written durably by the recorder (`recorder.py`), aggregated for
`/usage`, and pushed to `/ws/monitoring` as they land."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, case, func, select, true
from sqlalchemy.exc import SQLAlchemyError

from connector.schemas import (
    Bucket,
    ModelUsage,
    SeriesPoint,
    Totals,
    UsageRecordPublic,
    UsageSummary,
)
from connector.schemas.usage import (
    ClientSurfaceUsage,
    ClientUsage,
    EndpointUsage,
    KeyUsage,
    Surface,
)
from connector.schemas.ws import MonitorRecord
from connector.services.background import StartJob
from connector.services.monitor import MonitorHub
from connector.services.recorder import InflightEntry, UsageEntry, UsageRecorder, _Batch
from connector.tables import UsageRecord

__all__ = ["InflightEntry", "UsageEntry", "UsageService"]

log = logging.getLogger(__name__)

_RECENT = 50
# `/usage` waits this long for queued records before answering from what is on disk.
_FLUSH_WAIT_S = 2.0
_TABLE = UsageRecord.__table__  # type: ignore[attr-defined]
_C = _TABLE.c
# Tokens per second needs a generation window this long: an answer that arrives in one
# or two chunks (a cached reply, a recorded upstream) would otherwise show absurd rates.
MIN_RATE_WINDOW_MS = 20.0
# Time-series points returned by default: the newest buckets, enough for a chart.
DEFAULT_POINTS = 120
MAX_POINTS = 10_000


def _aware_utc(value: datetime | None) -> datetime | None:
    """Query times without a zone are taken as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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
    totals.saved_usd += rec.saved_usd


def public(rec: Any) -> UsageRecordPublic:
    return UsageRecordPublic.model_validate(rec, from_attributes=True)


class UsageService:
    """Usage on the books: the durable recorder (`recorder.py`), the live totals
    monitoring shows, and the reports `/usage` answers from the database."""

    def __init__(self, engine: Engine, hub: MonitorHub) -> None:
        self._engine = engine
        self._hub = hub
        self.recorder = UsageRecorder(engine)
        self.recorder.on_committed.append(self._committed)
        self.totals = Totals()
        # Records committed while the history is being summed (see `start`), in order.
        self._unsummed: list[tuple[UsageEntry, int]] | None = None
        self._summing = StartJob()
        # The newest record's id at start: the history the start sums ends there.
        self.history_end = 0

    async def start(self) -> None:
        """Start the recorder, and sum the history in a thread while the server
        answers: the sum reads every record (0.8 s for a million here, measured
        2026-12-03), so waiting for it would make every start slower as the books grow.
        Records committed meanwhile are held and published, with their running totals,
        once the sum is in."""
        await self.recorder.start()
        self.history_end = await asyncio.to_thread(self._last_id)
        self._unsummed = []
        self._summing.start(self._sum_history(self.history_end))

    async def _sum_history(self, last: int) -> None:
        totals = Totals()
        try:
            totals = await asyncio.to_thread(self._load_totals, last)
        except SQLAlchemyError:
            log.exception("Could not sum the usage history: live totals count from this start")
        finally:
            held, self._unsummed = self._unsummed or [], None
            self.totals = totals
            for rec, rec_id in held:
                self._committed(rec, rec_id)

    async def totals_loaded(self) -> None:
        """Wait until the history's sum is in `totals`."""
        await self._summing.wait()

    async def stop(self) -> None:
        await self._summing.cancel()
        await self.recorder.stop()

    def begin(self, entry: InflightEntry, *, urgent: bool = True) -> asyncio.Future[bool] | None:
        """A request started: its in-flight row, so a crash leaves it marked. Await
        `durable(...)` with the result before its first byte goes out. A request whose
        answer goes out only at its end is not `urgent` (see recorder.py)."""
        return self.recorder.begin(entry, urgent=urgent)

    def record(self, rec: UsageEntry) -> asyncio.Future[bool] | None:
        """Queue a finished request's record; never blocks. Await `durable(...)` with
        the result before the request's last byte goes out."""
        return self.recorder.finish(rec)

    async def durable(self, commit: asyncio.Future[bool] | None) -> bool:
        return await self.recorder.durable(commit)

    async def flush(self, wait_s: float | None = _FLUSH_WAIT_S) -> bool:
        """Wait until every queued record is in the database (bounded: a stuck
        database must not hang `/usage` or a shutdown)."""
        return await self.recorder.flush(wait_s)

    def health(self) -> str | None:
        return self.recorder.health()

    def _committed(self, rec: UsageEntry, rec_id: int) -> None:
        if self._unsummed is not None:  # the history is still being summed
            self._unsummed.append((rec, rec_id))
            return
        _add(self.totals, rec)
        if self._hub.has_subscribers:
            message = MonitorRecord(
                record=public({"id": rec_id, **rec.row()}),
                totals=self.totals,
                in_flight=self._hub.in_flight,
            )
            self._hub.publish(message.model_dump(mode="json"))

    def _insert(self, batch: list[UsageEntry]) -> list[int]:
        return self.recorder._write(_Batch(ends=batch))

    def _last_id(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.max(_C.id))).scalar() or 0)

    def _load_totals(self, last: int | None = None) -> Totals:
        """The sum of every record, or of those up to id `last`."""
        with self._engine.connect() as conn:
            return _totals(conn, [] if last is None else [_C.id <= last])

    async def summary(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        bucket: Bucket = "hour",
        points: int = DEFAULT_POINTS,
        client: str | None = None,
        surface: Surface | None = None,
        key_id: str | None = None,
    ) -> UsageSummary:
        await self.flush()
        return await asyncio.to_thread(
            self._summary, since, until, bucket, points, client, surface, key_id
        )

    def _summary(
        self,
        since: datetime | None,
        until: datetime | None,
        bucket: Bucket,
        points: int,
        client: str | None = None,
        surface: Surface | None = None,
        key_id: str | None = None,
    ) -> UsageSummary:
        # Aggregated by the database: a server with a long history answers in
        # a fraction of a second (100k records: about 0.2 s) instead of loading every
        # record into Python.
        lo, hi = _aware_utc(since), _aware_utc(until)
        where: list[ColumnElement[bool]] = []
        if lo is not None:
            where.append(_C.created_at >= lo)
        if hi is not None:
            where.append(_C.created_at < hi)
        if client is not None:
            where.append(_C.client == client)
        if surface is not None:
            where.append(_C.surface == surface)
        if key_id is not None:
            where.append(_C.key_id == key_id)
        with self._engine.connect() as conn:
            totals = _totals(conn, where)
            by_model = _by_model(conn, where)
            by_client = _by_client(conn, where)
            by_key = _by_key(conn, where)
            by_endpoint = _by_endpoint(conn, where)
            series = _series(conn, where, bucket, points)
            recent = conn.execute(
                select(_TABLE).where(*where).order_by(_C.id.desc()).limit(_RECENT)
            ).all()
        return UsageSummary(
            totals=totals,
            by_model=by_model,
            by_client=by_client,
            by_key=by_key,
            by_endpoint=by_endpoint,
            series=series,
            recent=[public(rec) for rec in recent],
            bucket=bucket,
            since=since,
            until=until,
            client=client,
            surface=surface,
            key_id=key_id,
        )

    async def clients(self, since: datetime | None = None) -> list[ClientUsage]:
        """Every calling program seen, the most recent first."""
        await self.flush()
        return await asyncio.to_thread(self._clients, since)

    def _clients(self, since: datetime | None) -> list[ClientUsage]:
        lo = _aware_utc(since)
        recent = _C.created_at >= lo if lo is not None else true()
        last = func.max(_C.id).label("last_id")
        with self._engine.connect() as conn:
            grouped = (
                select(
                    _C.client,
                    func.count().label("total_requests"),
                    _count_if(recent).label("requests"),
                    last,
                )
                .group_by(_C.client)
                .subquery()
            )
            # The newest record of each client says when and through which surface.
            rows = conn.execute(
                select(grouped, _C.created_at.label("last_seen"), _C.surface.label("last_surface"))
                .join(_TABLE, _C.id == grouped.c.last_id)
                .order_by(grouped.c.last_id.desc())
            ).all()
        result = []
        for row in rows:
            values = row._asdict()
            values.pop("last_id")
            values["last_seen"] = _as_datetime(values["last_seen"])
            result.append(ClientUsage.model_validate(values))
        return result


def _sum(expr: Any) -> ColumnElement[Any]:
    return func.coalesce(func.sum(expr), 0)


def _count_if(cond: ColumnElement[bool]) -> ColumnElement[Any]:
    return _sum(case((cond, 1), else_=0))


# Stored on each record when it is written (connector/services/pricing.py).
_SAVED = _C.saved_usd
# Records before endpoints existed name only their provider (migration 0005 fills it).
_ENDPOINT = func.coalesce(_C.endpoint, _C.provider)


def _sums() -> list[ColumnElement[Any]]:
    """Requests by outcome, tokens, cost and savings: what totals and per-model rows share."""
    return [
        func.count().label("requests"),
        _count_if(_C.status.not_in(("ok", "cancelled"))).label("errors"),
        _sum(_C.prompt_tokens).label("prompt_tokens"),
        _sum(_C.completion_tokens).label("completion_tokens"),
        _sum(_C.reasoning_tokens).label("reasoning_tokens"),
        _sum(_C.total_tokens).label("total_tokens"),
        _sum(_C.cost_usd).label("cost_usd"),
        _sum(_SAVED).label("saved_usd"),
    ]


def _totals(conn: Connection, where: list[ColumnElement[bool]]) -> Totals:
    row = conn.execute(
        select(
            *_sums(),
            _count_if(_C.status == "ok").label("ok"),
            _count_if(_C.status == "cancelled").label("cancelled"),
        ).where(*where)
    ).one()
    return Totals.model_validate(row._asdict())


def _by_model(conn: Connection, where: list[ColumnElement[bool]]) -> list[ModelUsage]:
    # Speed figures count finished requests that streamed a first token (and, for
    # tokens/s, generated long enough to be timed).
    first = and_(_C.status == "ok", _C.ttft_ms.is_not(None))
    timed = and_(first, _C.latency_ms - _C.ttft_ms >= MIN_RATE_WINDOW_MS)
    rows = conn.execute(
        select(
            _C.provider,
            _C.model,
            *_sums(),
            func.avg(case((_C.status == "ok", _C.latency_ms))).label("avg_latency_ms"),
            func.avg(case((first, _C.ttft_ms))).label("avg_ttft_ms"),
            _sum(case((timed, _C.completion_tokens), else_=0)).label("gen_tokens"),
            _sum(case((timed, _C.latency_ms - _C.ttft_ms), else_=0.0)).label("gen_ms"),
        )
        .where(*where)
        .group_by(_C.provider, _C.model)
        .order_by(_C.provider, _C.model)
    ).all()
    result = []
    for row in rows:
        values = row._asdict()
        gen_tokens, gen_ms = values.pop("gen_tokens"), values.pop("gen_ms")
        values["tokens_per_s"] = gen_tokens / (gen_ms / 1000) if gen_ms > 0 else None
        result.append(ModelUsage.model_validate(values))
    return result


def _by_client(conn: Connection, where: list[ColumnElement[bool]]) -> list[ClientSurfaceUsage]:
    """Spending per calling program and surface, the busiest first."""
    rows = conn.execute(
        select(
            _C.client,
            _C.surface,
            *_sums(),
            _count_if(_C.kind == "embed").label("embeds"),
            func.avg(case((_C.status == "ok", _C.latency_ms))).label("avg_latency_ms"),
        )
        .where(*where)
        .group_by(_C.client, _C.surface)
        .order_by(func.count().desc(), _C.client, _C.surface)
    ).all()
    return [ClientSurfaceUsage.model_validate(row._asdict()) for row in rows]


def _by_endpoint(conn: Connection, where: list[ColumnElement[bool]]) -> list[EndpointUsage]:
    """What each endpoint served, as `_by_model` groups by model."""
    first = and_(_C.status == "ok", _C.ttft_ms.is_not(None))
    endpoint = _ENDPOINT.label("endpoint")
    rows = conn.execute(
        select(
            endpoint,
            *_sums(),
            _count_if(_C.tried.contains(",")).label("fallbacks"),
            func.avg(case((_C.status == "ok", _C.latency_ms))).label("avg_latency_ms"),
            func.avg(case((first, _C.ttft_ms))).label("avg_ttft_ms"),
        )
        .where(*where)
        .group_by(endpoint)
        .order_by(endpoint)
    ).all()
    return [EndpointUsage.model_validate(row._asdict()) for row in rows]


def _by_key(conn: Connection, where: list[ColumnElement[bool]]) -> list[KeyUsage]:
    """Spending per app key (requests without one: `key_id` null), the busiest first."""
    rows = conn.execute(
        select(
            _C.key_id,
            func.max(_C.key_name).label("key_name"),
            *_sums(),
            func.avg(case((_C.status == "ok", _C.latency_ms))).label("avg_latency_ms"),
            func.avg(_C.overhead_ms).label("avg_overhead_ms"),
        )
        .where(*where)
        .group_by(_C.key_id)
        .order_by(func.count().desc(), _C.key_id)
    ).all()
    return [KeyUsage.model_validate(row._asdict()) for row in rows]


def _series(
    conn: Connection, where: list[ColumnElement[bool]], bucket: Bucket, points: int
) -> list[SeriesPoint]:
    start = _bucket_expr(conn, bucket).label("bucket_start")
    rows = conn.execute(
        select(
            start,
            func.count().label("requests"),
            _sum(_C.total_tokens).label("total_tokens"),
            _sum(_C.cost_usd).label("cost_usd"),
            _sum(_SAVED).label("saved_usd"),
        )
        .where(*where)
        .group_by(start)
        .order_by(start.desc())
        .limit(points)
    ).all()
    series = []
    for row in reversed(rows):
        values = row._asdict()
        values["bucket_start"] = _as_datetime(values["bucket_start"])
        series.append(SeriesPoint.model_validate(values))
    return series


_SQLITE_FORMATS: dict[Bucket, str] = {
    "minute": "%Y-%m-%d %H:%M:00",
    "hour": "%Y-%m-%d %H:00:00",
    "day": "%Y-%m-%d 00:00:00",
}


def _bucket_expr(conn: Connection, bucket: Bucket) -> ColumnElement[Any]:
    """The start of a record's time bucket, computed by the database (times are UTC)."""
    if conn.dialect.name == "sqlite":
        return func.strftime(_SQLITE_FORMATS[bucket], _C.created_at)
    # PostgreSQL and the others that know date_trunc.
    return func.date_trunc(bucket, _C.created_at)


def _as_datetime(value: datetime | str) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
