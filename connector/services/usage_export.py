"""Usage records exported as CSV or JSON (`GET /usage/export`), straight from the
database, oldest first, in the columns of the records `/usage` shows."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Engine, select

from connector.schemas.usage import UsageRecordPublic
from connector.tables import UsageRecord

_TABLE: Any = UsageRecord.__table__  # type: ignore[attr-defined]
COLUMNS = tuple(UsageRecordPublic.model_fields)


@dataclass(slots=True)
class Query:
    since: datetime | None = None
    until: datetime | None = None
    client: str | None = None
    surface: str | None = None
    key_id: str | None = None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _rows(engine: Engine, query: Query) -> list[dict[str, Any]]:
    c = _TABLE.c
    where: list[ColumnElement[bool]] = []
    if query.since is not None:
        where.append(c.created_at >= _utc(query.since))
    if query.until is not None:
        where.append(c.created_at < _utc(query.until))
    for column, value in (("client", query.client), ("surface", query.surface)):
        if value is not None:
            where.append(c[column] == value)
    if query.key_id is not None:
        where.append(c.key_id == query.key_id)
    columns = [c[name] for name in COLUMNS if name in c]
    with engine.connect() as conn:
        result = conn.execute(select(*columns).where(*where).order_by(c.id))
        return [
            UsageRecordPublic.model_validate(row._asdict()).model_dump(mode="json")
            for row in result
        ]


def export(engine: Engine, query: Query, fmt: Literal["csv", "json"]) -> str:
    """Blocking (a database read): call off-loop."""
    rows = _rows(engine, query)
    if fmt == "json":
        return json.dumps(rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
