"""Conversations the UI keeps: list, create, open, rename, replace messages,
delete, export."""

from __future__ import annotations

import re
from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from connector.api.deps import ServicesDep
from connector.api.routing import DocumentedRoute
from connector.schemas import (
    ConversationCreate,
    ConversationDetail,
    ConversationPublic,
    ConversationUpdate,
    MessagesReplace,
)
from connector.services.conversations import to_json, to_markdown

router = APIRouter(prefix="/conversations", tags=["conversations"], route_class=DocumentedRoute)


@router.get("", response_model=list[ConversationPublic])
async def list_conversations(services: ServicesDep) -> list[ConversationPublic]:
    return await services.conversations.list_all()


@router.post("", response_model=ConversationPublic, status_code=201)
async def create_conversation(
    data: ConversationCreate, services: ServicesDep
) -> ConversationPublic:
    return await services.conversations.create(data)


@router.get("/{conversation_id}", response_model=ConversationDetail)
async def get_conversation(conversation_id: str, services: ServicesDep) -> ConversationDetail:
    return await services.conversations.get(conversation_id)


@router.patch("/{conversation_id}", response_model=ConversationPublic)
async def update_conversation(
    conversation_id: str, data: ConversationUpdate, services: ServicesDep
) -> ConversationPublic:
    return await services.conversations.update(conversation_id, data)


@router.put("/{conversation_id}/messages", response_model=ConversationDetail)
async def replace_messages(
    conversation_id: str, data: MessagesReplace, services: ServicesDep
) -> ConversationDetail:
    return await services.conversations.replace_messages(conversation_id, data.messages)


@router.delete("/{conversation_id}", status_code=204)
async def delete_conversation(conversation_id: str, services: ServicesDep) -> Response:
    await services.conversations.delete(conversation_id)
    return Response(status_code=204)


@router.get(
    "/{conversation_id}/export",
    responses={
        200: {
            "description": "The conversation as a file: Markdown (`md`) or JSON (`json`).",
            "content": {
                "text/markdown": {"schema": {"type": "string"}},
                "application/json": {"schema": {"$ref": "#/components/schemas/ConversationDetail"}},
            },
        }
    },
)
async def export_conversation(
    conversation_id: str,
    services: ServicesDep,
    format: Literal["md", "json"] = Query("md"),
) -> Response:
    conv = await services.conversations.get(conversation_id)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", conv.title).strip("-") or "conversation"
    disposition = {"Content-Disposition": f'attachment; filename="{stem}.{format}"'}
    if format == "json":
        return JSONResponse(to_json(conv), headers=disposition)
    return Response(
        to_markdown(conv), media_type="text/markdown; charset=utf-8", headers=disposition
    )
