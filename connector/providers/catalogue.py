"""Which endpoint has which model, and how each endpoint is doing.

The catalogue is what routes a bare model name: the endpoint whose list has it. It is
read on the hot path (a dict lookup) and refreshed off it, in the background: at start,
when a bare name is resolved and the last refresh is older than `REFRESH_S` (so an idle
server asks its upstreams nothing), and whenever a listing is asked for (`/models`,
`/v1/models`, `/api/tags`). Each refresh also gives every endpoint its health line
(up or down, the last error, the listing's latency), as do the chat path's failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from connector.providers.base import ModelListing, Provider

log = logging.getLogger(__name__)

# How old the catalogue may get before a bare name's lookup refreshes it (in the
# background: that request routes by what is known). A model pulled or loaded meanwhile
# is found at the next refresh or listing; until then its bare name goes to the default
# endpoint.
REFRESH_S = 60.0


@dataclass(slots=True)
class Health:
    up: bool | None = None  # None: not asked yet
    last_error: str | None = None
    latency_ms: float | None = None
    checked_at: datetime | None = None
    models: int = 0


@dataclass(slots=True)
class Catalogue:
    wait_s: float
    models: dict[str, frozenset[str]] = field(default_factory=dict)
    health: dict[str, Health] = field(default_factory=dict)
    refreshed_at: float = 0.0  # time.monotonic() of the last whole refresh
    _refresh: Callable[[], Awaitable[object]] | None = None
    _stopped: bool = False
    _task: asyncio.Task[None] | None = None

    def owners(self, model: str, among: Iterable[str]) -> list[str]:
        return [name for name in among if model in self.models.get(name, ())]

    def forget(self, keep: Iterable[str]) -> None:
        names = set(keep)
        for table in (self.models, self.health):
            for name in [n for n in table if n not in names]:
                del table[name]

    def note_failure(self, name: str, message: str) -> None:
        """An upstream failure on the chat path (unreachable, timeout, 5xx, 429)."""
        health = self.health.setdefault(name, Health())
        health.up, health.last_error = False, message
        health.checked_at = datetime.now(UTC)

    def note_success(self, name: str) -> None:
        health = self.health.setdefault(name, Health())
        if health.up is not True:
            health.up = True
            health.checked_at = datetime.now(UTC)

    async def list_one(self, provider: Provider, offers: Callable[[str], bool]) -> ModelListing:
        started = time.perf_counter()
        try:
            listing = await asyncio.wait_for(provider.list_models(), self.wait_s)
        except TimeoutError:
            listing = ModelListing(
                available=False,
                reason=f"{provider.name} did not answer within {self.wait_s:.0f} s.",
            )
        except Exception as exc:  # an answer that is no model list: this endpoint only
            log.warning("Listing the models of %s failed: %r", provider.name, exc)
            listing = ModelListing(
                available=False,
                reason=f"{provider.name} at {provider.base_url} answered something that "
                "is not a model list.",
            )
        listing.models = [m for m in listing.models if offers(m.id)]
        health = self.health.setdefault(provider.name, Health())
        health.checked_at = datetime.now(UTC)
        health.latency_ms = round((time.perf_counter() - started) * 1000, 2)
        health.up = listing.available
        if listing.available:
            self.models[provider.name] = frozenset(m.id for m in listing.models)
            health.models = len(listing.models)
        else:
            health.last_error = listing.reason
        return listing

    def start(self, refresh: Callable[[], Awaitable[object]]) -> None:
        """Refresh now in the background, and later whenever `maybe_refresh` finds the
        catalogue stale."""
        if self._stopped:
            return
        self._refresh = refresh
        self._spawn()

    def maybe_refresh(self) -> None:
        """Hot path: one clock read and a comparison unless a refresh is due."""
        if time.monotonic() - self.refreshed_at > REFRESH_S:
            self._spawn()

    def _spawn(self) -> None:
        if self._refresh is None or (self._task is not None and not self._task.done()):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self.refreshed_at = time.monotonic()  # one refresh at a time, even if it fails
        self._task = loop.create_task(self._run(self._refresh))

    async def _run(self, refresh: Callable[[], Awaitable[object]]) -> None:
        try:
            await refresh()
        except Exception:  # a refresh never fails a request
            log.exception("Refreshing the model catalogue failed")

    async def stop(self) -> None:
        self._refresh = None  # and no refresh after this (a late start is a no-op)
        self._stopped = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
