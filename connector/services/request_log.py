"""The request log: when on (off by default), the last N requests keep their bodies,
the request as the chat path saw it and the answer, for Monitoring's request detail.

Kept in memory only, and scrubbed when read (`connector.redact.scrub`: known secrets
and anything shaped like a key or a bearer token): a log of prompts is sensitive, so
nothing of it reaches the disk and it ends with the process. Building the bodies'
JSON is left to the read, so a logged request costs the chat path one deque append.
The switch and the size are runtime settings, stored like the others.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from connector.errors import NotFoundError
from connector.redact import scrub
from connector.schemas import ChatCompletion, ChatRequest
from connector.schemas.keys import (
    RequestLogEntry,
    RequestLogPage,
    RequestLogSettings,
    RequestLogSettingsUpdate,
    RequestLogSummary,
)
from connector.services.recorder import UsageEntry
from connector.tables import AppSetting

_SETTING = "request_log"


@dataclass(slots=True)
class _Logged:
    entry: UsageEntry
    request: ChatRequest | dict[str, Any]
    response: ChatCompletion | dict[str, Any] | None


def _scrubbed(value: ChatRequest | ChatCompletion | dict[str, Any] | None) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        text = json.dumps(value)
    else:
        text = value.model_dump_json(exclude_none=True, by_alias=True)
    return json.loads(scrub(text))


class RequestLog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.settings = RequestLogSettings()
        self._items: deque[_Logged] = deque(maxlen=self.settings.capacity)

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    def load(self) -> None:
        """The stored switch and size (blocking: call off-loop)."""
        with Session(self._engine) as session:
            row = session.exec(select(AppSetting).where(AppSetting.key == _SETTING)).first()
        if row is not None:
            self._apply(RequestLogSettings.model_validate_json(row.value))

    def _apply(self, settings: RequestLogSettings) -> None:
        self.settings = settings
        if self._items.maxlen != settings.capacity:
            self._items = deque(self._items, maxlen=settings.capacity)
        if not settings.enabled:
            self._items.clear()  # off means nothing is kept, not only nothing new

    def update(self, change: RequestLogSettingsUpdate) -> RequestLogSettings:
        """Blocking (a settings write): call off-loop."""
        values = self.settings.model_dump()
        values.update(change.model_dump(exclude_none=True))
        settings = RequestLogSettings.model_validate(values)
        with Session(self._engine) as session:
            session.merge(AppSetting(key=_SETTING, value=settings.model_dump_json()))
            session.commit()
        self._apply(settings)
        return settings

    def add(
        self,
        entry: UsageEntry,
        request: ChatRequest | dict[str, Any],
        response: ChatCompletion | dict[str, Any] | None,
    ) -> None:
        if self.settings.enabled:
            self._items.append(_Logged(entry, request, response))

    def page(self) -> RequestLogPage:
        return RequestLogPage(
            settings=self.settings,
            requests=[_summary(item.entry) for item in reversed(self._items)],
        )

    def get(self, request_id: str) -> RequestLogEntry:
        for item in self._items:
            if item.entry.request_id == request_id:
                return RequestLogEntry(
                    **_summary(item.entry).model_dump(),
                    request=_scrubbed(item.request),
                    response=_scrubbed(item.response),
                )
        raise NotFoundError(
            f"Request '{request_id}' is not in the request log (it keeps the last "
            f"{self.settings.capacity} while it is on).",
            code="not_found",
        )


def _summary(entry: UsageEntry) -> RequestLogSummary:
    return RequestLogSummary.model_validate(
        {**entry.row(), "endpoint": getattr(entry, "endpoint", None) or entry.provider}
    )
