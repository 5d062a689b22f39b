"""OpenAI Responses: `POST /v1/responses` (blocking JSON, or SSE events with
`"stream": true`) and the stored responses, each also without the `/v1` prefix as the
chat routes are. The aliases are left out of the OpenAPI document: one path per
operation there, so a generated client (and a contract test) sees one resource."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from connector.api.deps import ChatDep, ResponsesStoreDep
from connector.api.routes.chat import ERRORS
from connector.api.routing import DocumentedRoute
from connector.api.sse import cancel_on_disconnect, open_stream
from connector.dialects import openai_responses
from connector.dialects.base import dumps
from connector.schemas.responses import (
    DeletedResponse,
    InputItemList,
    ResponseObject,
    ResponsesRequest,
)
from connector.services.callers import Caller
from connector.services.responses_store import Order

_CREATE_DOC: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {"model": ResponseObject, "content": {"text/event-stream": {}}},
}
_STREAM_NOTE = (
    'With `"stream": true` the answer is SSE: `event:` + `data:` frames from '
    "`response.created` to `response.completed` (or `.incomplete` / `.failed`)."
)

router = APIRouter(tags=["responses"], route_class=DocumentedRoute)


@router.post("/v1/responses", responses=_CREATE_DOC, description=_STREAM_NOTE)
@router.post("/responses", include_in_schema=False)
async def create_response(
    body: ResponsesRequest, request: Request, chat: ChatDep, store: ResponsesStoreDep
) -> Response:
    history: list[Any] = []
    if body.previous_response_id:
        history = openai_responses.parse_items(await store.history(body.previous_response_id))
    turn = openai_responses.to_chat(body, history)
    stream = chat.open(turn.chat, Caller.of(request, "responses"), streamed=bool(body.stream))
    builder = openai_responses.ResponseBuilder(body, stream.model, turn.tools)
    on_final = partial(store.save, input_items=turn.input_items) if body.store else None
    if body.stream:
        return await open_stream(
            stream.chunks,
            partial(openai_responses.sse_events, builder=builder, on_final=on_final),
        )
    response = await cancel_on_disconnect(
        request, openai_responses.complete(stream.chunks, builder, on_final)
    )
    return Response(dumps(response), media_type="application/json")


@router.get("/v1/responses/{response_id}", responses={**ERRORS, 200: {"model": ResponseObject}})
@router.get("/responses/{response_id}", include_in_schema=False)
async def get_response(response_id: str, store: ResponsesStoreDep) -> Response:
    return Response(await store.get(response_id), media_type="application/json")


@router.delete("/v1/responses/{response_id}", responses=ERRORS)
@router.delete("/responses/{response_id}", include_in_schema=False)
async def delete_response(response_id: str, store: ResponsesStoreDep) -> DeletedResponse:
    return await store.delete(response_id)


@router.get("/v1/responses/{response_id}/input_items", responses=ERRORS)
@router.get("/responses/{response_id}/input_items", include_in_schema=False)
async def list_input_items(
    response_id: str,
    store: ResponsesStoreDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    order: Order = "desc",
    after: str | None = None,
) -> InputItemList:
    return await store.input_items(response_id, limit=limit, order=order, after=after)
