"""App keys: keys handed to a script, an agent or a colleague, each with a name and
budgets (`connector.services.budgets`). The programs' key of the desktop app
(`connector.secrets`, "Programs need a key") is one of them, with the fixed id
`programs`: it has budgets and a name like the others, and stays revealable because
the desktop's Connect-your-tools page copies it into snippets.

Only a key's SHA-256 is stored. Why not a slow hash (scrypt, argon2): a key is 256
random bits, so there is nothing to guess, and a slow hash protects only guessable
secrets; scrypt would cost tens of milliseconds on every request (or a cache of raw
keys in memory, which is what hashing avoids). A SHA-256 takes about a microsecond.
Lookups go through a dict of the hashes (loaded at start, changed with the keys), so
checking a key never touches the database; comparing hashes of a 256-bit secret leaks
nothing usable through timing.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets as _random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from connector.errors import NotFoundError
from connector.schemas.keys import AppKeyCreate, AppKeyCreated, AppKeyPublic, AppKeyUpdate, Limits
from connector.secrets import KeyStore, hint
from connector.services.budgets import BudgetService
from connector.services.callers import KeyIdentity
from connector.services.settings import RuntimeSettings
from connector.tables import AppKey, UsageRecord, utcnow

KEY_PREFIX = "aic_"
PROGRAMS_ID = "programs"
PROGRAMS_NAME = "programs' key"
_RECORDS: Any = UsageRecord.__table__  # type: ignore[attr-defined]


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(slots=True)
class _Known:
    identity: KeyIdentity
    revoked: bool


class AppKeyService:
    def __init__(
        self, engine: Engine, store: KeyStore, budgets: BudgetService, runtime: RuntimeSettings
    ) -> None:
        self._engine = engine
        self._store = store
        self._budgets = budgets
        self._runtime = runtime
        self._by_hash: dict[str, _Known] = {}
        self._active = 0
        self._program_raw: str | None = None
        self._program_hash: str | None = None

    def load(self) -> None:
        """Read the keys' hashes and limits (blocking: call off-loop, at start)."""
        with Session(self._engine) as session:
            rows = list(session.exec(select(AppKey)))
        self._by_hash = {
            row.key_hash: _Known(KeyIdentity(row.id, row.name), row.revoked_at is not None)
            for row in rows
        }
        self._count()
        for row in rows:
            self._budgets.set_limits(row.id, Limits.model_validate_json(row.limits_json))

    def _count(self) -> None:
        self._active = sum(1 for known in self._by_hash.values() if not known.revoked)

    # -- the hot path (the security middleware) ---------------------------------------
    @property
    def required(self) -> bool:
        """True when the model API wants a key: any app key exists that is not revoked,
        or "Programs need a key" is on."""
        return self._active > 0 or self._runtime.programs_need_key

    def identify(self, credentials: Iterable[str]) -> tuple[KeyIdentity | None, bool]:
        """The key among `credentials` (a request may offer several), and whether one of
        them was a revoked key. No I/O: a SHA-256 and a dict lookup per credential."""
        revoked = False
        program = self._program_key_hash()
        for value in credentials:
            if not value:
                continue
            digest = key_hash(value)
            if program is not None and digest == program:
                return KeyIdentity(PROGRAMS_ID, PROGRAMS_NAME), False
            known = self._by_hash.get(digest)
            if known is not None:
                if not known.revoked:
                    return known.identity, False
                revoked = True
        return None, revoked

    def _program_key_hash(self) -> str | None:
        raw = self._store.program_key()
        if raw != self._program_raw:  # rotated (or made): hash the new one once
            self._program_raw, self._program_hash = raw, key_hash(raw) if raw else None
        return self._program_hash

    # -- the admin API ----------------------------------------------------------------
    async def create(self, change: AppKeyCreate) -> AppKeyCreated:
        key = KEY_PREFIX + _random.token_urlsafe(32)
        row = AppKey(
            id=f"key_{uuid.uuid4().hex[:12]}",
            name=change.name.strip() or "key",
            key_hash=key_hash(key),
            hint=hint(key),
            limits_json=change.limits.model_dump_json(),
        )
        await asyncio.to_thread(self._save, row)
        self._by_hash[row.key_hash] = _Known(KeyIdentity(row.id, row.name), False)
        self._count()
        self._budgets.set_limits(row.id, change.limits)
        return AppKeyCreated(**self._public(row).model_dump(), key=key)

    async def all(self) -> list[AppKeyPublic]:
        rows, activity = await asyncio.to_thread(lambda: (self._rows(), self._activity()))
        keys = [_used(self._public(row), activity) for row in rows]
        program = self._store.program_key()
        if program is not None:
            keys.insert(0, _used(self._program_public(program), activity))
        return keys

    async def get(self, key_id: str) -> AppKeyPublic:
        if key_id == PROGRAMS_ID:
            program = self._store.program_key()
            if program is None:
                raise NotFoundError("The programs' key has not been made yet.", code="not_found")
            return _used(self._program_public(program), await asyncio.to_thread(self._activity))
        row = await asyncio.to_thread(self._row, key_id)
        return _used(self._public(row), await asyncio.to_thread(self._activity))

    async def update(self, key_id: str, change: AppKeyUpdate) -> AppKeyPublic:
        if key_id == PROGRAMS_ID:
            current = await self.get(key_id)
            limits = _merged(current.limits, change.limits)
            await asyncio.to_thread(self._budgets.save_limits, PROGRAMS_ID, limits)
            return await self.get(key_id)
        row = await asyncio.to_thread(self._row, key_id)
        if change.name is not None:
            row.name = change.name.strip() or row.name
        limits = _merged(Limits.model_validate_json(row.limits_json), change.limits)
        row.limits_json = limits.model_dump_json()
        await asyncio.to_thread(self._save, row)
        self._by_hash[row.key_hash] = _Known(
            KeyIdentity(row.id, row.name), row.revoked_at is not None
        )
        self._budgets.set_limits(row.id, limits)
        return self._public(row)

    async def revoke(self, key_id: str) -> AppKeyPublic:
        """The key stops working at once; it stays listed (revoked) so the records it
        made keep their name. The programs' key is rotated in Settings instead."""
        if key_id == PROGRAMS_ID:
            raise NotFoundError(
                "The programs' key is not revoked here: rotate it in Settings "
                "(POST /settings/program-key/rotate).",
                code="not_found",
            )
        row = await asyncio.to_thread(self._row, key_id)
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            await asyncio.to_thread(self._save, row)
        self._by_hash[row.key_hash] = _Known(KeyIdentity(row.id, row.name), True)
        self._count()
        return self._public(row)

    # -- helpers --------------------------------------------------------------------
    def _public(self, row: AppKey) -> AppKeyPublic:
        return AppKeyPublic(
            id=row.id,
            name=row.name,
            hint=row.hint,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
            limits=Limits.model_validate_json(row.limits_json),
            usage=self._budgets.usage(row.id),
        )

    def _program_public(self, raw: str) -> AppKeyPublic:
        return AppKeyPublic(
            id=PROGRAMS_ID,
            name=PROGRAMS_NAME,
            hint=hint(raw),
            builtin=True,
            limits=self._budgets.limits(PROGRAMS_ID),
            usage=self._budgets.usage(PROGRAMS_ID),
        )

    def _rows(self) -> list[AppKey]:
        with Session(self._engine) as session:
            return list(session.exec(select(AppKey).order_by(AppKey.created_at)))  # type: ignore[arg-type]

    def _activity(self) -> dict[str, tuple[int, datetime]]:
        """Requests and the last one per key, from the usage records (admin views only)."""
        c = _RECORDS.c
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa_select(c.key_id, func.count(), func.max(c.created_at))
                .where(c.key_id.is_not(None))
                .group_by(c.key_id)
            ).all()
        return {key_id: (count, _aware(last)) for key_id, count, last in rows}

    def _row(self, key_id: str) -> AppKey:
        with Session(self._engine) as session:
            row = session.get(AppKey, key_id)
        if row is None:
            raise NotFoundError(f"No app key '{key_id}'.", code="not_found")
        return row

    def _save(self, row: AppKey) -> None:
        with Session(self._engine, expire_on_commit=False) as session:
            session.add(row)
            session.commit()
            session.refresh(row)


def _aware(value: datetime | str) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _used(key: AppKeyPublic, activity: dict[str, tuple[int, datetime]]) -> AppKeyPublic:
    count, last = activity.get(key.id, (0, None))
    key.requests, key.last_used_at = count, last
    return key


def _merged(current: Limits, change: Limits | None) -> Limits:
    if change is None:
        return current
    values = current.model_dump()
    values.update({name: getattr(change, name) for name in change.model_fields_set})
    return Limits.model_validate(values)
