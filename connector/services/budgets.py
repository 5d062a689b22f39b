"""Budgets and limits, per key and for every request together: USD (cloud cost) and
tokens per UTC day and month, requests per minute.

    ChatService._run / EmbeddingService.embed
      admit(key)   -> over a limit? BudgetExceededError (429 in the dialect's shape),
                      else a Ticket: the request counts as in flight, with an estimate
      ... upstream call ...
      settle(ticket, key, tokens, usd)  -> spent += actual, estimate released;
                      crossing 80 % / 100 % publishes a `budget` event

Exact under concurrency: `admit` runs without an await, so two requests never both
see the last bit of a budget. A request is refused once what finished requests spent
plus the estimates of those in flight (the scope's running mean of a request) reaches
the limit, so a burst at the edge overshoots by at most what the requests already in
flight spend beyond their estimates. Spent totals are read from the usage records at
start (persisted with them), then kept in memory: the hot path never queries. That read
runs while the server answers (`start`); a request that a limit applies to, and the
budget views, wait for it, so only the first requests of a start can wait.
The clock is injected (`clock`), so tests move time across a period's end.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, case, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from connector.errors import BudgetExceededError
from connector.schemas.keys import BudgetName, BudgetUse, Limits
from connector.schemas.ws import MonitorBudget
from connector.services.background import StartJob
from connector.services.callers import KeyIdentity
from connector.services.monitor import MonitorHub
from connector.tables import AppSetting, UsageRecord

log = logging.getLogger(__name__)
_C: Any = UsageRecord.__table__.c  # type: ignore[attr-defined]

GLOBAL = "*"
_SETTING_PREFIX = "limits:"
_THRESHOLDS = (0.8, 1.0)
_SPEND_BUDGETS: tuple[BudgetName, ...] = (
    "usd_per_day",
    "usd_per_month",
    "tokens_per_day",
    "tokens_per_month",
)
_ALL_BUDGETS: tuple[BudgetName, ...] = (*_SPEND_BUDGETS, "requests_per_minute")
_LABELS: dict[BudgetName, tuple[str, str]] = {
    "usd_per_day": ("USD per day", "today (UTC)"),
    "usd_per_month": ("USD per month", "this month (UTC)"),
    "tokens_per_day": ("tokens per day", "today (UTC)"),
    "tokens_per_month": ("tokens per month", "this month (UTC)"),
    "requests_per_minute": ("requests per minute", "in the last minute"),
}
_USD = frozenset({"usd_per_day", "usd_per_month"})
_TOKENS = frozenset({"tokens_per_day", "tokens_per_month"})
# Weight of the newest request in a scope's running mean (the in-flight estimate).
_ALPHA = 0.3
_MINUTE = timedelta(minutes=1)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is UTC:
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _month_start(now: datetime) -> datetime:
    return _day_start(now).replace(day=1)


def _next_month(now: datetime) -> datetime:
    start = _month_start(now)
    return (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )


@dataclass(slots=True)
class _Spend:
    """One scope's spending in the current periods and what it has in flight."""

    day: date | None = None
    month: tuple[int, int] | None = None
    usd_day: float = 0.0
    tokens_day: int = 0
    usd_month: float = 0.0
    tokens_month: int = 0
    minute: deque[datetime] = field(default_factory=deque)
    in_flight: int = 0
    reserved_usd: float = 0.0
    reserved_tokens: float = 0.0
    mean_usd: float = 0.0
    mean_tokens: float = 0.0
    seen: bool = False

    def roll(self, now: datetime) -> None:
        if self.day != now.date():
            self.day, self.usd_day, self.tokens_day = now.date(), 0.0, 0
        if self.month != (now.year, now.month):
            self.month, self.usd_month, self.tokens_month = (now.year, now.month), 0.0, 0
        cutoff = now - _MINUTE
        while self.minute and self.minute[0] <= cutoff:
            self.minute.popleft()

    def spent(self, budget: BudgetName) -> float:
        if budget == "usd_per_day":
            return self.usd_day
        if budget == "usd_per_month":
            return self.usd_month
        if budget == "tokens_per_day":
            return float(self.tokens_day)
        if budget == "tokens_per_month":
            return float(self.tokens_month)
        return float(len(self.minute))

    def reserved(self, budget: BudgetName) -> float:
        if budget in _USD:
            return self.reserved_usd
        if budget in _TOKENS:
            return self.reserved_tokens
        return 0.0


@dataclass(slots=True)
class Ticket:
    """An admitted request's reservation in each scope it counts against."""

    scopes: list[tuple[_Spend, float, float]]  # (spend, reserved usd, reserved tokens)
    settled: bool = False


def _resets_at(budget: BudgetName, now: datetime, spend: _Spend) -> datetime:
    if budget.endswith("day"):
        return _day_start(now) + timedelta(days=1)
    if budget.endswith("month"):
        return _next_month(now)
    return (spend.minute[0] if spend.minute else now) + _MINUTE


class BudgetService:
    def __init__(
        self, engine: Engine, hub: MonitorHub, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._engine = engine
        self._hub = hub
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._limits: dict[str, Limits] = {}
        # Each scope's limits that are set, as (budget, limit): what the hot path loops over.
        self._active: dict[str, list[tuple[BudgetName, float]]] = {}
        self._spend: dict[str, _Spend] = {}
        self._names: dict[str, str] = {}
        self._summing = StartJob()

    # -- limits -----------------------------------------------------------------------
    def limits(self, scope: str) -> Limits:
        return self._limits.get(scope) or Limits()

    def set_limits(self, scope: str, limits: Limits) -> None:
        if limits == Limits():
            self._limits.pop(scope, None)
            self._active.pop(scope, None)
        else:
            self._limits[scope] = limits
            self._active[scope] = [
                (budget, float(getattr(limits, budget)))
                for budget in _ALL_BUDGETS
                if getattr(limits, budget) is not None
            ]

    def save_limits(self, scope: str, limits: Limits) -> None:
        """Limits of a scope that has no row of its own (everything together, the
        programs' key), kept as a setting (blocking: call off-loop)."""
        with Session(self._engine) as session:
            session.merge(AppSetting(key=_SETTING_PREFIX + scope, value=limits.model_dump_json()))
            session.commit()
        self.set_limits(scope, limits)

    def load(self) -> None:
        """Stored limits (blocking: call off-loop)."""
        with Session(self._engine) as session:
            for row in session.execute(select(AppSetting)).scalars():
                if row.key.startswith(_SETTING_PREFIX):
                    scope = row.key[len(_SETTING_PREFIX) :]
                    self.set_limits(scope, Limits.model_validate(json.loads(row.value)))
        self._spend.clear()

    def start(self, history_end: int) -> None:
        """Sum this day's and month's spending in a thread while the server answers: the
        sum reads every record of the month (1.9 s for a million here, 2026-12-03), so
        waiting for it would make every start slower as the books grow. What requests
        spend meanwhile is added by `settle` as always; the sum counts only the records
        written before this start, those up to id `history_end`."""
        self._summing.start(self._sum_history(history_end))

    async def summed(self) -> None:
        """Wait until the start's sum of the spending is in."""
        await self._summing.wait()

    async def stop(self) -> None:
        await self._summing.cancel()

    async def _sum_history(self, history_end: int) -> None:
        then = _utc(self.clock())
        try:
            rows = await asyncio.to_thread(self._spent, then, history_end)
        except SQLAlchemyError:
            log.exception("Could not sum this month's spending: budgets count from this start")
            return
        now = _utc(self.clock())
        # A period that ended while the sum ran started again from nothing.
        same_day = now.date() == then.date()
        same_month = (now.year, now.month) == (then.year, then.month)
        for key_id, usd_month, tokens_month, usd_day, tokens_day in rows:
            for scope in (GLOBAL, key_id) if key_id else (GLOBAL,):
                spend = self._scope(scope, now)
                if same_month:
                    spend.usd_month += float(usd_month or 0)
                    spend.tokens_month += int(tokens_month or 0)
                if same_day:
                    spend.usd_day += float(usd_day or 0)
                    spend.tokens_day += int(tokens_day or 0)

    def _spent(self, now: datetime, upto: int) -> list[Any]:
        # One pass over the month's records, the day's summed beside it: each pass
        # reads every record of the month (1.4 s for a million here, 2026-12-03).
        today = _C.created_at >= _day_start(now)
        with self._engine.connect() as conn:
            return list(
                conn.execute(
                    select(
                        _C.key_id,
                        func.sum(_C.cost_usd),
                        func.sum(_C.total_tokens),
                        func.sum(case((today, _C.cost_usd))),
                        func.sum(case((today, _C.total_tokens))),
                    )
                    .where(_C.created_at >= _month_start(now), _C.id <= upto)
                    .group_by(_C.key_id)
                ).all()
            )

    def _scope(self, scope: str, now: datetime) -> _Spend:
        spend = self._spend.get(scope)
        if spend is None:
            spend = self._spend[scope] = _Spend()
        spend.roll(now)
        return spend

    # -- the chat path ----------------------------------------------------------------
    async def admit_when_summed(self, key: KeyIdentity | None) -> Ticket | None:
        """`admit`, after the start's sum of the spending when a limit applies."""
        if self._summing.running and self._limits:
            if GLOBAL in self._limits or (key is not None and key.id in self._limits):
                await self._summing.wait()
        return self.admit(key)

    def admit(self, key: KeyIdentity | None) -> Ticket | None:
        """Refuse (BudgetExceededError) or admit a request; None when no limit applies.
        No await inside: admission is atomic on the event loop."""
        limits = self._limits
        if not limits:
            return None
        scopes: list[tuple[str, KeyIdentity | None]] = [(GLOBAL, None)] if GLOBAL in limits else []
        if key is not None and key.id in limits:
            scopes.append((key.id, key))
        if not scopes:
            return None
        now = _utc(self.clock())
        checked = []
        for scope, who in scopes:
            spend = self._scope(scope, now)
            self._check(scope, who, limits[scope], spend, now)
            checked.append((scope, spend))
        ticket = Ticket(scopes=[])
        # A scope without history yet (a new key) reserves what a request costs on
        # this connector in general.
        everyone = self._spend.get(GLOBAL)
        for scope, spend in checked:
            if limits[scope].requests_per_minute is not None:
                spend.minute.append(now)
            typical = spend if spend.seen or everyone is None else everyone
            usd, tokens = typical.mean_usd, typical.mean_tokens
            spend.in_flight += 1
            spend.reserved_usd += usd
            spend.reserved_tokens += tokens
            ticket.scopes.append((spend, usd, tokens))
        return ticket

    def _check(
        self, scope: str, who: KeyIdentity | None, limits: Limits, spend: _Spend, now: datetime
    ) -> None:
        for budget, limit in self._active[scope]:
            spent = spend.spent(budget)
            if spent + spend.reserved(budget) < limit:
                continue
            raise self._refusal(who, budget, limit, spent, spend, now)

    def _refusal(
        self,
        who: KeyIdentity | None,
        budget: BudgetName,
        limit: float,
        spent: float,
        spend: _Spend,
        now: datetime,
    ) -> BudgetExceededError:
        label, period = _LABELS[budget]
        resets = _resets_at(budget, now, spend)
        owner = f"Key '{who.name}' ({who.id}) is" if who else "This connector is"
        amount = (lambda v: f"${v:.4f}") if budget.startswith("usd") else (lambda v: f"{v:g}")
        spent_text = f"{amount(spent)} spent {period}"
        if spend.in_flight and budget != "requests_per_minute":
            spent_text += f", {spend.in_flight} request(s) still running"
        seconds = max(1, math.ceil((resets - now).total_seconds()))
        return BudgetExceededError(
            f"{owner} over its budget of {amount(limit)} {label}: {spent_text}. "
            f"It resets at {resets.strftime('%Y-%m-%dT%H:%M:%SZ')} (in {seconds} s).",
            retry_after=str(seconds),
            budget=budget,
        )

    def settle(
        self, ticket: Ticket | None, key: KeyIdentity | None, tokens: int, usd: float
    ) -> None:
        """A request ended: add what it spent, release its reservation, and announce
        budgets it pushed past 80 % or 100 %."""
        if ticket is not None and not ticket.settled:
            ticket.settled = True
            for spend, r_usd, r_tokens in ticket.scopes:
                spend.in_flight -= 1
                spend.reserved_usd = max(0.0, spend.reserved_usd - r_usd)
                spend.reserved_tokens = max(0.0, spend.reserved_tokens - r_tokens)
        now = _utc(self.clock())
        scopes: list[tuple[str, KeyIdentity | None]] = [(GLOBAL, None)]
        if key is not None:
            scopes.append((key.id, key))
        for scope, who in scopes:
            spend = self._scope(scope, now)
            spend.usd_day += usd
            spend.usd_month += usd
            spend.tokens_day += tokens
            spend.tokens_month += tokens
            if spend.seen:
                spend.mean_usd += _ALPHA * (usd - spend.mean_usd)
                spend.mean_tokens += _ALPHA * (tokens - spend.mean_tokens)
            else:
                spend.seen, spend.mean_usd, spend.mean_tokens = True, usd, float(tokens)
            active = self._active.get(scope)
            if active and (usd or tokens):
                self._announce(who, active, spend, usd, tokens, now)

    def _announce(
        self,
        who: KeyIdentity | None,
        active: list[tuple[BudgetName, float]],
        spend: _Spend,
        usd: float,
        tokens: int,
        now: datetime,
    ) -> None:
        for budget, limit in active:
            if budget == "requests_per_minute" or not limit:
                continue
            new = spend.spent(budget)
            old = new - (usd if budget in _USD else tokens)
            for threshold in _THRESHOLDS:
                if old < threshold * limit <= new:
                    self._hub.publish(
                        MonitorBudget(
                            key_id=who.id if who else None,
                            key_name=who.name if who else None,
                            budget=budget,
                            threshold=round(threshold * 100),
                            limit=limit,
                            spent=round(new, 6),
                            resets_at=_resets_at(budget, now, spend),
                        ).model_dump(mode="json")
                    )

    # -- views ----------------------------------------------------------------------
    def usage(self, scope: str) -> list[BudgetUse]:
        """Each limit of `scope` with what is spent of it now."""
        limits = self._limits.get(scope)
        if limits is None:
            return []
        now = _utc(self.clock())
        spend = self._scope(scope, now)
        result = []
        for budget in _ALL_BUDGETS:
            limit = getattr(limits, budget)
            if limit is None:
                continue
            spent = spend.spent(budget)
            result.append(
                BudgetUse(
                    budget=budget,
                    limit=limit,
                    spent=round(spent, 6),
                    in_flight=spend.in_flight,
                    fraction=round(spent / limit, 4) if limit else 1.0,
                    resets_at=_resets_at(budget, now, spend),
                )
            )
        return result
