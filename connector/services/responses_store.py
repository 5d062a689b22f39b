"""Stored Responses API responses (`store: true`, OpenAI's default): each kept with the
request's own input items and the id of the response it continued, so
`previous_response_id` rebuilds a whole conversation from the chain. A response is
stored before its answer's last byte goes out: on SQLite straight from the event loop
(`loop_sqlite.py`, about 0.1 ms), else, or when that write cannot finish at once, in a
worker thread, as every read is."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from typing import Any, Literal

from sqlalchemy import Engine, insert
from sqlmodel import Session

from connector.errors import NotFoundError
from connector.json_text import dumps
from connector.schemas.responses import DeletedResponse, InputItemList
from connector.services.loop_sqlite import Insert, loop_connection, on_sqlite_file
from connector.tables import StoredResponse, utcnow

log = logging.getLogger(__name__)


Order = Literal["asc", "desc"]
_TABLE = StoredResponse.__table__  # type: ignore[attr-defined]
_COLUMNS = tuple(column.name for column in _TABLE.columns)
# Writes on the loop that take longer than this, several in a row, mean a slow disk:
# from then on they run in the thread, where they stall no other request.
_LOOP_WRITE_MAX_S = 0.02
_SLOW_LOOP_WRITES = 3


def not_found(response_id: str, param: str = "response_id") -> NotFoundError:
    return NotFoundError(
        f"Response with id '{response_id}' not found. It was never stored (store: false), "
        "or it was deleted.",
        param=param,
        code="response_not_found",
    )


class ResponsesStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._insert = Insert(_TABLE, _COLUMNS, engine)
        self._loop_conn: sqlite3.Connection | None = None
        self._on_loop = on_sqlite_file(engine)  # False once it cannot or should not
        self._slow_writes = 0

    def close(self) -> None:
        if self._loop_conn is not None:
            self._loop_conn.close()
            self._loop_conn = None

    async def save(self, response: dict[str, Any], input_items: list[dict[str, Any]]) -> None:
        """Keep `response`. A failed write is logged, not raised: the client already has
        its answer, it only cannot continue from it."""
        row = _row(response, input_items)
        if self._save_on_loop(row):
            return
        try:
            await asyncio.to_thread(self._save, row)
        except Exception as exc:  # the database is full, locked for too long, ...
            log.error("Could not store response %s: %s", response.get("id"), exc)

    def _save_on_loop(self, row: dict[str, Any]) -> bool:
        """Store `row` right here; False when the thread must (see loop_sqlite.py)."""
        if not self._on_loop:
            return False
        started = time.perf_counter()
        try:
            if self._loop_conn is None:
                self._loop_conn = loop_connection(self._engine)
            # One statement in autocommit mode: its own transaction.
            self._loop_conn.execute(self._insert.sql, self._insert.row(row))
        except sqlite3.Error as exc:
            log.debug("Storing a response on the loop failed (%s); using a thread.", exc)
            return False
        slow = time.perf_counter() - started > _LOOP_WRITE_MAX_S
        self._slow_writes = self._slow_writes + 1 if slow else 0
        if self._slow_writes >= _SLOW_LOOP_WRITES:
            self._on_loop = False
            self.close()
        return True

    async def get(self, response_id: str) -> str:
        """The stored response as JSON text."""
        row = await asyncio.to_thread(self._get, response_id)
        if row is None:
            raise not_found(response_id)
        return row.response_json

    async def history(self, response_id: str) -> list[dict[str, Any]]:
        """Every item of the conversation up to and including `response_id`'s output,
        oldest first: what `previous_response_id` continues from."""
        items = await asyncio.to_thread(self._history, response_id)
        if items is None:
            raise not_found(response_id, param="previous_response_id")
        return items

    async def input_items(
        self, response_id: str, *, limit: int, order: Order, after: str | None
    ) -> InputItemList:
        row = await asyncio.to_thread(self._get, response_id)
        if row is None:
            raise not_found(response_id)
        items: list[dict[str, Any]] = json.loads(row.input_json)
        if order == "desc":
            items.reverse()
        if after is not None:
            ids = [item.get("id") for item in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        page = items[:limit]
        return InputItemList(
            data=page,
            first_id=page[0].get("id") if page else None,
            last_id=page[-1].get("id") if page else None,
            has_more=len(items) > limit,
        )

    async def delete(self, response_id: str) -> DeletedResponse:
        if not await asyncio.to_thread(self._delete, response_id):
            raise not_found(response_id)
        return DeletedResponse(id=response_id)

    # -- in the worker thread ------------------------------------------------------------
    def _save(self, row: dict[str, Any]) -> None:
        # A Core insert: the ORM session's unit of work doubled the cost of this write.
        with self._engine.begin() as connection:
            connection.execute(insert(_TABLE).values(row))

    def _get(self, response_id: str) -> StoredResponse | None:
        with Session(self._engine) as session:
            return session.get(StoredResponse, response_id)

    def _history(self, response_id: str) -> list[dict[str, Any]] | None:
        turns: list[list[dict[str, Any]]] = []
        with Session(self._engine) as session:
            row = session.get(StoredResponse, response_id)
            if row is None:
                return None
            seen: set[str] = set()
            while row is not None and row.id not in seen:
                seen.add(row.id)
                output = json.loads(row.response_json).get("output") or []
                turns.append([*json.loads(row.input_json), *output])
                # A deleted ancestor ends the chain: what is left is still a conversation.
                previous = row.previous_response_id
                row = session.get(StoredResponse, previous) if previous else None
        return [item for turn in reversed(turns) for item in turn]

    def _delete(self, response_id: str) -> bool:
        with Session(self._engine) as session:
            row = session.get(StoredResponse, response_id)
            if row is None:
                return False
            session.delete(row)
            session.commit()
            return True


def _row(response: dict[str, Any], input_items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": response["id"],
        "created_at": utcnow(),
        "previous_response_id": response.get("previous_response_id"),
        "model": str(response.get("model") or ""),
        "status": str(response.get("status") or ""),
        # orjson: the response's JSON took about 20 us with `json` on every stored
        # response (bench_profile.py, 2026-12-04).
        "input_json": dumps(input_items),
        "response_json": dumps(response),
    }
