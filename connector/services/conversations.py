"""Chat conversations kept for the UI: list, open, rename, replace messages, delete,
export as Markdown or JSON."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, col, delete, select

from connector.errors import NotFoundError
from connector.schemas import (
    ConversationCreate,
    ConversationDetail,
    ConversationPublic,
    ConversationUpdate,
    MessageIn,
    MessagePublic,
)
from connector.tables import Conversation, Message, utcnow


def _public(row: Conversation, count: int) -> ConversationPublic:
    return ConversationPublic(
        id=row.id,
        title=row.title,
        provider=row.provider,
        model=row.model,
        created_at=row.created_at,
        updated_at=row.updated_at,
        message_count=count,
    )


def _message(row: Message) -> MessagePublic:
    assert row.id is not None
    return MessagePublic(
        id=row.id,
        role=row.role,
        content=row.content,
        reasoning_content=row.reasoning_content,
        parsed=json.loads(row.parsed_json) if row.parsed_json else None,
        metrics=json.loads(row.metrics_json) if row.metrics_json else None,
        created_at=row.created_at,
    )


class ConversationService:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def list_all(self) -> list[ConversationPublic]:
        return await asyncio.to_thread(self._list)

    async def create(self, data: ConversationCreate) -> ConversationPublic:
        return await asyncio.to_thread(self._create, data)

    async def get(self, conversation_id: str) -> ConversationDetail:
        return await asyncio.to_thread(self._get, conversation_id)

    async def update(self, conversation_id: str, data: ConversationUpdate) -> ConversationPublic:
        return await asyncio.to_thread(self._update, conversation_id, data)

    async def replace_messages(
        self, conversation_id: str, messages: list[MessageIn]
    ) -> ConversationDetail:
        return await asyncio.to_thread(self._replace, conversation_id, messages)

    async def delete(self, conversation_id: str) -> None:
        await asyncio.to_thread(self._delete, conversation_id)

    def _list(self) -> list[ConversationPublic]:
        counts = (
            select(Message.conversation_id, func.count().label("n"))
            .group_by(col(Message.conversation_id))
            .subquery()
        )
        query = (
            select(Conversation, counts.c.n)
            .join(counts, counts.c.conversation_id == Conversation.id, isouter=True)
            .order_by(col(Conversation.updated_at).desc())
        )
        with Session(self._engine) as session:
            return [_public(row, n or 0) for row, n in session.exec(query)]

    def _create(self, data: ConversationCreate) -> ConversationPublic:
        row = Conversation(
            id=uuid.uuid4().hex,
            title=data.title or "New chat",
            provider=data.provider,
            model=data.model,
        )
        with Session(self._engine, expire_on_commit=False) as session:
            session.add(row)
            session.commit()
        return _public(row, 0)

    def _row(self, session: Session, conversation_id: str) -> Conversation:
        row = session.get(Conversation, conversation_id)
        if row is None:
            raise NotFoundError(f"No conversation '{conversation_id}'.", param="id")
        return row

    def _get(self, conversation_id: str) -> ConversationDetail:
        with Session(self._engine) as session:
            row = self._row(session, conversation_id)
            messages = session.exec(
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(col(Message.position))
            ).all()
            return ConversationDetail(
                **_public(row, len(messages)).model_dump(),
                messages=[_message(m) for m in messages],
            )

    def _update(self, conversation_id: str, data: ConversationUpdate) -> ConversationPublic:
        with Session(self._engine, expire_on_commit=False) as session:
            row = self._row(session, conversation_id)
            for key, value in data.model_dump(exclude_unset=True).items():
                if key == "title" and value is None:
                    continue  # a conversation always has a title: null leaves it as it is
                setattr(row, key, value)
            row.updated_at = utcnow()
            session.add(row)
            session.commit()
            count = session.exec(
                select(func.count()).where(Message.conversation_id == conversation_id)
            ).one()
        return _public(row, int(count))

    def _replace(self, conversation_id: str, messages: list[MessageIn]) -> ConversationDetail:
        with Session(self._engine) as session:
            row = self._row(session, conversation_id)
            session.exec(delete(Message).where(col(Message.conversation_id) == conversation_id))
            for position, msg in enumerate(messages):
                session.add(
                    Message(
                        conversation_id=conversation_id,
                        position=position,
                        role=msg.role,
                        content=msg.content,
                        reasoning_content=msg.reasoning_content,
                        parsed_json=json.dumps(msg.parsed) if msg.parsed is not None else None,
                        metrics_json=json.dumps(msg.metrics) if msg.metrics is not None else None,
                    )
                )
            row.updated_at = utcnow()
            session.add(row)
            session.commit()
        return self._get(conversation_id)

    def _delete(self, conversation_id: str) -> None:
        with Session(self._engine) as session:
            row = self._row(session, conversation_id)
            session.exec(delete(Message).where(col(Message.conversation_id) == conversation_id))
            session.delete(row)
            session.commit()


def to_markdown(conv: ConversationDetail) -> str:
    lines = [f"# {conv.title}", ""]
    if conv.model:
        lines += [f"*{conv.provider or ''} · {conv.model}*", ""]
    for msg in conv.messages:
        lines.append(f"## {msg.role.capitalize()}")
        lines.append("")
        if msg.reasoning_content:
            quoted = "\n".join(f"> {line}" for line in msg.reasoning_content.splitlines())
            lines += ["> **Thinking**", ">", quoted, ""]
        lines += [msg.content, ""]
    return "\n".join(lines)


def to_json(conv: ConversationDetail) -> dict[str, Any]:
    return conv.model_dump(mode="json")
