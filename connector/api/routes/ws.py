"""WebSockets: `/ws/chat` (many requests per socket, cancellable) and
`/ws/monitoring` (usage snapshot, then live records)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, TypeAdapter, ValidationError

from connector.api.deps import ServicesDep
from connector.api.errors import validation_error
from connector.api.routes.usage import own_key
from connector.dialects.openai_chat import chunk_json, error_body
from connector.errors import BadRequestError, ConnectorError
from connector.schemas import ChatRequest
from connector.schemas.ws import (
    ChatSocketCancelled,
    ChatSocketDone,
    ChatSocketError,
    MonitorSnapshot,
)
from connector.services.callers import Caller
from connector.services.chat import ChatService

router = APIRouter(tags=["websocket"])

_JSON_STR = TypeAdapter(str)


def chunk_message_prefix(rid: str) -> bytes:
    """The start of every `chunk` message of request `rid`, as `ChatSocketChunk` writes
    it: a text chunk's message is this, the chunk's own JSON (`chunk_json`) and `}`,
    so no model is built and serialized per token."""
    return b'{"type":"chunk","id":' + _JSON_STR.dump_json(rid) + b',"chunk":'


class _ChatSocket:
    def __init__(self, ws: WebSocket, chat: ChatService) -> None:
        self.ws = ws
        self.chat = chat
        self.caller = Caller.of(ws, "ws")
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self._send_lock = asyncio.Lock()

    async def send(self, message: BaseModel, *, exclude_none: bool = False) -> None:
        await self.send_text(message.model_dump_json(exclude_none=exclude_none))

    async def send_text(self, text: str) -> None:
        async with self._send_lock:
            await self.ws.send_text(text)

    async def send_error(self, rid: str | None, exc: ConnectorError) -> None:
        body: dict[str, Any] = {"id": rid, "status": exc.status_code, **error_body(exc)}
        await self.send(ChatSocketError.model_validate(body))

    async def handle(self, text: str) -> None:
        try:
            # orjson, as HTTP bodies are parsed: it refuses what is not JSON text (a lone
            # surrogate escape, NaN) instead of passing it on to break the answers.
            message = orjson.loads(text)
        except ValueError:
            await self.send_error(None, BadRequestError("Message is not valid JSON."))
            return
        if not isinstance(message, dict):
            await self.send_error(None, BadRequestError("Message must be a JSON object."))
            return
        rid = message.get("id")
        rid = str(rid) if rid is not None else None
        kind = message.get("type")
        if kind == "cancel":
            task = self.tasks.get(rid or "")
            # A repeated cancel must not interrupt the first one's clean-up.
            if task is not None and not task.cancelling():
                task.cancel()
            return
        if kind != "chat" or rid is None:
            await self.send_error(
                rid,
                BadRequestError(
                    'Send {"type": "chat", "id": ..., "request": {...}} '
                    'or {"type": "cancel", "id": ...}.'
                ),
            )
            return
        if rid in self.tasks:
            await self.send_error(rid, BadRequestError(f"Request id '{rid}' is already running."))
            return
        try:
            request = ChatRequest.model_validate(message.get("request") or {})
        except ValidationError as exc:
            await self.send_error(rid, validation_error(list(exc.errors())))
            return
        self.tasks[rid] = asyncio.create_task(self.run(rid, request))

    async def run(self, rid: str, request: ChatRequest) -> None:
        try:
            stream = self.chat.open(request, self.caller)
            prefix = chunk_message_prefix(rid)
            async with contextlib.aclosing(stream.chunks) as chunks:
                async for chunk in chunks:
                    if chunk.choices:
                        await self.send_text((prefix + chunk_json(chunk) + b"}").decode())
            assert stream.completion is not None
            done = ChatSocketDone.model_construct(id=rid, response=stream.completion)
            await self.send(done, exclude_none=True)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await self.send(ChatSocketCancelled(id=rid))
        except ConnectorError as exc:
            with contextlib.suppress(Exception):
                await self.send_error(rid, exc)
        finally:
            self.tasks.pop(rid, None)

    async def close(self) -> None:
        for task in list(self.tasks.values()):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)


@router.websocket("/ws/chat")
async def ws_chat(ws: WebSocket, services: ServicesDep) -> None:
    await ws.accept()
    socket = _ChatSocket(ws, services.chat)
    try:
        while True:
            await socket.handle(await ws.receive_text())
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        await socket.close()


def _concerns(message: dict[str, Any], key_id: str) -> bool:
    """Whether a monitoring message belongs in one key's view."""
    if message.get("type") == "record":
        return bool(message.get("record", {}).get("key_id") == key_id)
    if message.get("type") == "budget":
        return message.get("key_id") == key_id
    return True


@router.websocket("/ws/monitoring")
async def ws_monitoring(ws: WebSocket, services: ServicesDep, key: str | None = None) -> None:
    """`?key=ID` narrows the snapshot and the records to one app key's; a socket opened
    with an app key sees only its own."""
    key_id = own_key(ws, key)
    await ws.accept()
    async with services.hub.subscribe() as queue:
        summary = await services.usage.summary(key_id=key_id)
        snapshot = MonitorSnapshot(usage=summary, in_flight=services.hub.in_flight)
        await ws.send_text(snapshot.model_dump_json())

        async def forward() -> None:
            while True:
                message = await queue.get()
                if key_id is None or _concerns(message, key_id):
                    await ws.send_text(json.dumps(message))

        sender = asyncio.create_task(forward())
        try:
            while True:  # the client sends nothing; this notices it leaving
                await ws.receive_text()
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
