"""The usage recorder: every request on the books, durably, off the chat path.

    ChatService._run                         UsageRecorder (one writer task)
      begin(request)  ──► in-flight row  ─┐
      await durable  (before the first chunk) ├─► one transaction per batch (group
      finish(entry)   ──► record ─────────┘      commit): INSERT records, INSERT/DELETE
      await durable  ◄── resolved on COMMIT      in-flight rows; then totals + MonitorHub
      yield the final chunk / body / `done`

A request's record is committed before its last byte goes out, and a streamed
request's in-flight row before its first: the chat path awaits the commit of the batch
each joined. Concurrent requests share one transaction (the writer takes whatever
queued since its last commit), so the cost is one commit per batch, not per request.

On SQLite the writer commits on the event loop itself, through a sqlite3 connection of
its own that never waits for a lock: an INSERT and COMMIT in WAL mode with
synchronous=NORMAL take about 30 us, while handing the batch to a thread and back
through SQLAlchemy cost 0.6-1 ms of CPU a request (measured 2026-12-02). Whenever that
fast write cannot finish at once (another connection holds the lock, the disk is full
or slow) the batch goes to the thread path: SQLAlchemy with a busy timeout, retried with
back-off. Checkpoints of the WAL run in a thread, never in a commit on the loop.

A blocking request shows the client nothing before its end, so its in-flight row is not
urgent: it waits for the next commit or `INFLIGHT_GRACE_S`, and a request that ends
before then never writes one (its record is written instead). A streamed request's row
is committed at once, while the upstream prepares its first token.

A request still running when the process dies has its in-flight row on disk (if a
client saw any of it, certainly); the next start turns such rows into `interrupted`
records. A database that is locked or full never fails the chat path: the batch is
kept and retried with back-off, the chat path stops waiting for commits while the
database is unhealthy, and `health()` reports the reason (`/healthz` says degraded).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, event, insert, literal, select
from sqlalchemy.exc import SQLAlchemyError

from connector.services.loop_sqlite import Insert, loop_connection, on_sqlite_file
from connector.tables import UsageInflight, UsageRecord, utcnow

log = logging.getLogger(__name__)

_RECORDS = UsageRecord.__table__  # type: ignore[attr-defined]
_INFLIGHT = UsageInflight.__table__  # type: ignore[attr-defined]
# How long a finished request waits for its commit before answering anyway: a commit
# takes well under a millisecond here; waiting longer means the database is stuck
# (locked by another program, the disk gone), and then answering matters more.
DURABLE_WAIT_S = 2.0
# Back-off between retries of a batch the database refused.
_RETRY_FIRST_S = 0.2
_RETRY_MAX_S = 5.0
# A write running this long marks the recorder degraded even before it fails
# (SQLite's busy timeout alone is five seconds).
_SLOW_WRITE_S = 1.0
# How long a blocking request's in-flight row may wait for a commit to join (see above).
INFLIGHT_GRACE_S = 0.05
# Commits on the loop that take longer than this, several in a row, mean a slow disk
# (one alone may be the process being descheduled): from then on the writer commits
# in a thread, where a slow disk stalls no other request.
_LOOP_WRITE_MAX_S = 0.02
_SLOW_LOOP_WRITES = 3
# Commits on the loop between WAL checkpoints (which run in a thread).
_CHECKPOINT_EVERY = 500


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
    client: str = "unknown"
    kind: str = "chat"
    created_at: datetime = field(default_factory=utcnow)
    key_id: str | None = None
    key_name: str | None = None
    overhead_ms: float | None = None
    endpoint: str | None = None
    tried: str | None = None
    saved_usd: float = 0.0

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _ENTRY_FIELDS}


_ENTRY_FIELDS = tuple(f.name for f in fields(UsageEntry))


@dataclass(slots=True)
class InflightEntry:
    """A request that has started: what an `interrupted` record will say if the
    process dies before it ends."""

    request_id: str
    surface: str
    client: str
    kind: str
    provider: str
    model: str
    structured: bool
    started_at: datetime = field(default_factory=utcnow)
    key_id: str | None = None
    key_name: str | None = None

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _INFLIGHT_FIELDS}


_INFLIGHT_FIELDS = tuple(f.name for f in fields(InflightEntry))


@dataclass(slots=True)
class _Batch:
    begins: list[InflightEntry] = field(default_factory=list)
    ends: list[UsageEntry] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.begins or self.ends)


class _LoopWriter:
    """Commits a batch on the event loop through its own connection (loop_sqlite.py):
    it either finishes in microseconds or raises, and the caller then takes the
    thread path."""

    def __init__(self, engine: Engine) -> None:
        self._conn = loop_connection(engine)
        self._records = Insert(_RECORDS, _ENTRY_FIELDS, engine)
        self._inflight = Insert(_INFLIGHT, _INFLIGHT_FIELDS, engine)
        self.commits = 0

    def write(
        self, begins: list[InflightEntry], ends: list[UsageEntry], earlier: list[str]
    ) -> list[int]:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            if begins:
                conn.executemany(self._inflight.sql, [self._inflight.values(b) for b in begins])
            ids: list[int] = []
            for entry in ends:
                cursor = conn.execute(self._records.sql, self._records.values(entry))
                ids.append(int(cursor.lastrowid or 0))
            if earlier:
                conn.executemany(
                    "DELETE FROM usage_inflight WHERE request_id = ?", [(r,) for r in earlier]
                )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.commits += 1
        return ids

    def close(self) -> None:
        self._conn.close()


class UsageRecorder:
    """Group-committing writer of usage records and in-flight rows."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._batch = _Batch()
        self._retry = _Batch()  # what the database refused, written first next time
        self._committed: asyncio.Future[bool] | None = None  # the next commit
        self._wake: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._problem: str | None = None
        self._write_started: float | None = None
        self._loop_writer: _LoopWriter | None = None
        self._grace: asyncio.TimerHandle | None = None
        self._checkpointing = False
        self._reopen = False
        self._slow_writes = 0  # commits on the loop in a row over _LOOP_WRITE_MAX_S
        self._running: set[str] = set()  # requests begun and not yet finished
        # Called with (entry, record id) for every record committed.
        self.on_committed: list[Any] = []

    # -- lifecycle ------------------------------------------------------------------
    async def start(self) -> int:
        """Turn what a dead process left in flight into `interrupted` records, then
        start the writer. Returns how many were recovered."""
        recovered = await asyncio.to_thread(self._recover)
        if recovered:
            log.warning(
                "%d request(s) were still running when the connector last stopped; "
                "recorded as interrupted.",
                recovered,
            )
        loop = asyncio.get_running_loop()
        if on_sqlite_file(self._engine):
            self._open_loop_writer()
            # The writer's connection follows the engine's: disposed (a test's fault
            # injection, a reconfiguration), it is made again as the engine makes them.
            event.listen(self._engine, "engine_disposed", self._engine_disposed)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._committed = loop.create_future()
        self._task = asyncio.create_task(self._write_loop(), name="usage-writer")
        return recovered

    async def stop(self, wait_s: float = 5.0) -> None:
        await self.flush(wait_s)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._grace is not None:
            self._grace.cancel()
        if self._loop_writer is not None:
            self._loop_writer.close()
            self._loop_writer = None
        if event.contains(self._engine, "engine_disposed", self._engine_disposed):
            event.remove(self._engine, "engine_disposed", self._engine_disposed)
        pending = len(self._retry.ends) + len(self._batch.ends)
        if pending:
            log.error("%d usage record(s) could not be written before stopping.", pending)

    # -- the chat path ----------------------------------------------------------------
    def begin(self, entry: InflightEntry, *, urgent: bool = True) -> asyncio.Future[bool] | None:
        """Queue a started request's in-flight row; returns its commit (see finish).
        Not `urgent` (nothing reaches the client before the end): the row joins the
        next commit, or is written after INFLIGHT_GRACE_S if none comes."""
        self._running.add(entry.request_id)
        self._batch.begins.append(entry)
        if urgent:
            self._kick()
        elif self._grace is None and self._wake is not None:
            self._grace = asyncio.get_running_loop().call_later(INFLIGHT_GRACE_S, self._kick)
        return self._commit_to_wait_for()

    def finish(self, entry: UsageEntry) -> asyncio.Future[bool] | None:
        """Queue a finished request's record. Returns the future of the commit it joins
        (True once on disk), or None when nobody should wait (no writer running, or
        the database is unhealthy and the record waits for a retry).

        The one request running, with the writer idle, commits right here: there is
        no batch to wait for, and the writer's two task switches cost about 0.05 ms
        of the answer (measured 2026-12-02). Concurrent requests join the writer's
        next group commit."""
        self._running.discard(entry.request_id)
        self._batch.ends.append(entry)
        if not self._running and self._writer_idle():
            done = self._commit_here()
            if done is not None:
                return done
        self._kick()
        return self._commit_to_wait_for()

    def _writer_idle(self) -> bool:
        return (
            self._task is not None
            and self._wake is not None
            and not self._wake.is_set()
            and self._write_started is None
            and self._problem is None
            and self._loop_writer is not None
            and not self._retry
        )

    def _commit_here(self) -> asyncio.Future[bool] | None:
        """What the writer task would do with the batch, done now on the loop: its
        commit future (resolved), or None when the write must take the writer's path
        (the batch is back in the queue for it)."""
        batch, self._batch = self._batch, _Batch()
        ids = self._write_on_loop(batch)
        if ids is None:
            self._batch = batch
            return None
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        committed = self._committed
        assert committed is not None
        self._committed = committed.get_loop().create_future()
        committed.set_result(True)
        self._maybe_checkpoint()
        # As in the writer: the request answers first; totals and monitoring follow.
        committed.get_loop().call_soon(self._announce, batch.ends, ids)
        return committed

    def _commit_to_wait_for(self) -> asyncio.Future[bool] | None:
        if self._committed is None or self._problem is not None:
            return None
        return self._committed

    async def durable(self, future: asyncio.Future[bool] | None) -> bool:
        """Wait (bounded) until the commit `future` stands for; never raises but the
        waiter's own cancellation, which leaves `future` to its other waiters (as
        `asyncio.shield` would; `wait_for` with `shield` cost about 10 us here)."""
        if future is None:
            return False
        if future.done():
            return future.result()
        loop = future.get_loop()
        waiter: asyncio.Future[bool] = loop.create_future()

        def settle(done: asyncio.Future[bool]) -> None:
            if not waiter.done():
                waiter.set_result(not done.cancelled() and done.result())

        def expire() -> None:
            if not waiter.done():
                waiter.set_result(False)

        future.add_done_callback(settle)
        timer = loop.call_later(DURABLE_WAIT_S, expire)
        try:
            return await waiter
        finally:
            timer.cancel()
            future.remove_done_callback(settle)

    def _kick(self) -> None:
        if self._wake is not None:
            self._idle.clear()  # type: ignore[union-attr]
            self._wake.set()

    # -- state --------------------------------------------------------------------------
    def health(self) -> str | None:
        """None when records are being written; otherwise why not."""
        if self._problem is not None:
            return self._problem
        started = self._write_started
        if started is not None and time.monotonic() - started > _SLOW_WRITE_S:
            return "usage records are waiting for the database (a write has been blocked for "
            f"{time.monotonic() - started:.0f} s)"
        return None

    @property
    def backlog(self) -> int:
        """Finished requests whose records are not on disk yet."""
        return len(self._retry.ends) + len(self._batch.ends)

    async def flush(self, wait_s: float | None = None) -> bool:
        """Wait until everything queued so far is committed; False on timeout."""
        if self._idle is None:
            return not (self._batch or self._retry)
        try:
            await asyncio.wait_for(self._idle.wait(), wait_s)
        except TimeoutError:
            return False
        return True

    # -- the writer ---------------------------------------------------------------------
    async def _write_loop(self) -> None:
        assert self._wake is not None and self._idle is not None
        delay = _RETRY_FIRST_S
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._grace is not None:
                self._grace.cancel()
                self._grace = None
            batch, self._batch = self._batch, _Batch()
            retry, self._retry = self._retry, _Batch()
            batch.begins[:0] = retry.begins
            batch.ends[:0] = retry.ends
            committed, self._committed = self._committed, loop.create_future()
            self._write_started = time.monotonic()
            try:
                ids = self._write_on_loop(batch) if self._problem is None else None
                if ids is None:
                    ids = await asyncio.to_thread(self._write, batch)
            except (SQLAlchemyError, OSError) as exc:
                ids = None
                self._retry = batch
                reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
                if self._problem is None:
                    log.warning(
                        "Writing %d usage record(s) failed (%s); keeping them and retrying.",
                        len(batch.ends),
                        reason,
                    )
                self._problem = f"usage records cannot be written: {reason}"
            finally:
                self._write_started = None
            assert committed is not None
            if not committed.done():
                committed.set_result(ids is not None)
            if ids is None:
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX_S)
                self._wake.set()
                continue
            if self._problem is not None:
                log.warning("Usage records are being written again (%d).", len(ids))
                self._problem = None
            delay = _RETRY_FIRST_S
            self._maybe_checkpoint()
            # The waiting requests answer first; totals and monitoring follow.
            await asyncio.sleep(0)
            self._announce(batch.ends, ids)
            if not (self._batch or self._retry):
                self._idle.set()

    def _announce(self, ends: list[UsageEntry], ids: list[int]) -> None:
        for entry, rec_id in zip(ends, ids, strict=True):
            for callback in self.on_committed:
                try:
                    callback(entry, rec_id)
                except Exception:  # the writer must outlive a bad listener
                    log.exception("A usage listener failed")

    def _open_loop_writer(self) -> None:
        try:
            self._loop_writer = _LoopWriter(self._engine)
        except (SQLAlchemyError, sqlite3.Error) as exc:  # the thread path still works
            self._loop_writer = None
            log.warning("Usage records are written in a thread: %s", exc)

    def _engine_disposed(self, _engine: Engine) -> None:
        self._reopen = True

    def _write_on_loop(self, batch: _Batch) -> list[int] | None:
        """The batch committed right here, or None when it must take the thread path."""
        if self._reopen and self._loop_writer is not None:
            self._reopen = False
            self._loop_writer.close()
            self._open_loop_writer()
        writer = self._loop_writer
        if writer is None:
            return None
        begins, earlier = _split(batch)
        started = time.perf_counter()
        try:
            ids = writer.write(begins, batch.ends, earlier)
        except sqlite3.Error as exc:  # locked, full, read-only: the thread path decides
            log.debug("Commit on the loop failed (%s); writing in a thread.", exc)
            return None
        took = time.perf_counter() - started
        self._slow_writes = self._slow_writes + 1 if took > _LOOP_WRITE_MAX_S else 0
        if self._slow_writes >= _SLOW_LOOP_WRITES:
            log.info("Usage commits take %.0f ms; writing in a thread from now on.", took * 1000)
            writer.close()
            self._loop_writer = None
        return ids

    def _maybe_checkpoint(self) -> None:
        writer = self._loop_writer
        if writer is None or self._checkpointing or writer.commits < _CHECKPOINT_EVERY:
            return
        writer.commits = 0
        self._checkpointing = True

        def checkpoint() -> None:
            try:
                with self._engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except SQLAlchemyError as exc:
                log.debug("WAL checkpoint skipped: %s", exc)
            finally:
                self._checkpointing = False

        asyncio.get_running_loop().run_in_executor(None, checkpoint)

    def _write(self, batch: _Batch) -> list[int]:
        begin_entries, earlier = _split(batch)
        begins = [b.row() for b in begin_entries]
        with self._engine.begin() as conn:
            if begins:
                conn.execute(insert(_INFLIGHT), begins)
            ids: list[int] = []
            if batch.ends:
                # Core executemany with RETURNING: one statement for the batch, no ORM.
                result = conn.execute(
                    insert(_RECORDS).returning(_RECORDS.c.id, sort_by_parameter_order=True),
                    [e.row() for e in batch.ends],
                )
                ids = [row.id for row in result]
            if earlier:
                conn.execute(delete(_INFLIGHT).where(_INFLIGHT.c.request_id.in_(earlier)))
        return ids

    def _recover(self) -> int:
        c = _INFLIGHT.c
        columns = ["request_id", "created_at", "surface", "client", "kind", "provider"]
        columns += ["model", "structured", "status", "error_type", "prompt_tokens"]
        columns += ["completion_tokens", "reasoning_tokens", "total_tokens", "latency_ms"]
        columns += ["cost_usd", "key_id", "key_name"]
        columns += ["endpoint", "tried"]
        zero = literal(0)
        rows = select(
            c.request_id,
            c.started_at,
            c.surface,
            c.client,
            c.kind,
            c.provider,
            c.model,
            c.structured,
            literal("interrupted"),
            literal("process_ended"),
            zero,
            zero,
            zero,
            zero,
            literal(0.0),
            literal(0.0),
            c.key_id,
            c.key_name,
            c.provider,
            c.provider,
        )
        with self._engine.begin() as conn:
            count = conn.execute(insert(_RECORDS).from_select(columns, rows)).rowcount
            conn.execute(delete(_INFLIGHT))
        return int(count or 0)


def _split(batch: _Batch) -> tuple[list[InflightEntry], list[str]]:
    """The in-flight rows to insert and those written earlier to delete. A request
    that started and ended within one batch needs neither: its row would be deleted
    in the same transaction that inserts it."""
    ended = {e.request_id for e in batch.ends}
    begins = [b for b in batch.begins if b.request_id not in ended]
    begun_now = {b.request_id for b in batch.begins}
    earlier = [rid for rid in ended if rid not in begun_now]
    return begins, earlier
