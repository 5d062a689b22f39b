"""Stored Responses API responses (`store: true`, OpenAI's default): each kept with the
request's own input items and the id of the response it continued, so
`previous_response_id` rebuilds a whole conversation from the chain. SQLite work runs
in a worker thread, never on the event loop."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Literal

from sqlalchemy import Engine, insert
from sqlmodel import Session

from connector.errors import NotFoundError
from connector.schemas.responses import DeletedResponse, InputItemList
from connector.tables import StoredResponse, utcnow

log = logging.getLogger(__name__)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


Order = Literal["asc", "desc"]
_TABLE = StoredResponse.__table__  # type: ignore[attr-defined]


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

    async def save(self, response: dict[str, Any], input_items: list[dict[str, Any]]) -> None:
        """Keep `response`. A failed write is logged, not raised: the client already has
        its answer, it only cannot continue from it."""
        try:
            await asyncio.to_thread(self._save, response, input_items)
        except Exception as exc:  # the database is full, locked for too long, ...
            log.error("Could not store response %s: %s", response.get("id"), exc)

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
    def _save(self, response: dict[str, Any], input_items: list[dict[str, Any]]) -> None:
        # A Core insert: the ORM session's unit of work doubled the cost of this write.
        row = {
            "id": response["id"],
            "created_at": utcnow(),
            "previous_response_id": response.get("previous_response_id"),
            "model": str(response.get("model") or ""),
            "status": str(response.get("status") or ""),
            "input_json": _dumps(input_items),
            "response_json": _dumps(response),
        }
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
