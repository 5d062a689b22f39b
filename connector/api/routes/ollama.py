"""Ollama's own API on the connector (`OLLAMA_HOST=http://127.0.0.1:8000`): chat,
generate and embeddings on both providers, Ollama's model routes passed through.
Every other `/api/*` route answers 501 naming the Ollama URL that serves it."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from connector.api.deps import ChatDep, EmbeddingsDep, ServicesDep
from connector.api.routing import DocumentedRoute
from connector.api.sse import NDJSON_MEDIA_TYPE, cancel_on_disconnect, open_stream
from connector.dialects import ollama
from connector.errors import ConnectorError, MethodNotAllowedError
from connector.schemas.ollama import (
    KeepAlive,
    OllamaChatRequest,
    OllamaDeleteRequest,
    OllamaEmbeddingsRequest,
    OllamaEmbedRequest,
    OllamaGenerateRequest,
    OllamaPullRequest,
    OllamaShowRequest,
)
from connector.services.callers import Caller
from connector.services.chat import ChatService, ChatStream
from connector.services.embeddings import EmbeddingService, EmbedRequest
from connector.services.ollama_models import OLLAMA_VERSION, OllamaModels

router = APIRouter(tags=["ollama"], route_class=DocumentedRoute)

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": {"error": {"type": "string"}}}
            }
        }
    }
    for status in (400, 401, 404, 413, 429, 501, 502, 503, 504)
}
_NDJSON_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {NDJSON_MEDIA_TYPE: {"schema": {"type": "string"}}}}
}


class NotServedError(ConnectorError):
    status_code: ClassVar[int] = 501
    error_type: ClassVar[str] = "not_implemented"


async def _models(services: ServicesDep) -> OllamaModels:
    return OllamaModels(services.providers, services.runtime.default_provider)


ModelsDep = Annotated[OllamaModels, Depends(_models)]


async def _answer(
    chat: ChatService,
    stream: ChatStream,
    request: Request,
    model: str,
    streaming: bool,
    generate: bool,
) -> Response:
    if streaming:
        encode = partial(ollama.ndjson_lines, stream=stream, model=model, generate=generate)
        return await open_stream(stream.chunks, encode, NDJSON_MEDIA_TYPE)
    completion = await cancel_on_disconnect(request, chat.drain(stream))
    return JSONResponse(
        ollama.blocking_body(completion, stream=stream, model=model, generate=generate)
    )


async def _load(
    models: OllamaModels, model: str, keep_alive: KeepAlive | None, generate: bool
) -> Response:
    answer = await models.load(model, keep_alive, generate)
    if answer is None:
        reason = "unload" if ollama.is_unload(keep_alive) else "load"
        answer = ollama.load_answer(model, reason, generate)
    return JSONResponse(answer)


@router.get("/api/version", responses=_ERRORS)
@router.head("/api/version", include_in_schema=False)
async def version() -> dict[str, str]:
    """The Ollama version this API matches (clients check it; see docs/API.md)."""
    return {"version": OLLAMA_VERSION}


@router.get("/api/tags", responses=_ERRORS)
async def tags(models: ModelsDep, services: ServicesDep) -> JSONResponse:
    """Ollama's models as Ollama lists them, then the OpenAI provider's as `openai/NAME`."""
    return JSONResponse(await models.tags(services.settings.models_timeout + 0.5))


@router.post("/api/show", responses=_ERRORS)
async def show(body: OllamaShowRequest, models: ModelsDep) -> JSONResponse:
    sent = body.model_dump(exclude_none=True, exclude={"name"})
    return JSONResponse(await models.show(sent, body.model_name))


@router.get("/api/ps", responses=_ERRORS)
async def ps(models: ModelsDep) -> JSONResponse:
    return JSONResponse(await models.ps())


@router.post("/api/chat", responses={**_ERRORS, **_NDJSON_DOC})
async def chat(
    body: OllamaChatRequest, request: Request, chat: ChatDep, models: ModelsDep
) -> Response:
    """NDJSON by default (`"stream": false` for one object); empty `messages` loads
    the model (`keep_alive: 0` unloads it)."""
    if not body.messages:
        return await _load(models, body.model, body.keep_alive, generate=False)
    chat_request, native = ollama.chat_request(body)
    stream = chat.open(
        chat_request, Caller.of(request, "ollama"), ollama=native, streamed=body.stream
    )
    return await _answer(chat, stream, request, body.model, body.stream, generate=False)


@router.post("/api/generate", responses={**_ERRORS, **_NDJSON_DOC})
async def generate(
    body: OllamaGenerateRequest, request: Request, chat: ChatDep, models: ModelsDep
) -> Response:
    """Through the same chat path; an Ollama model gets Ollama's /api/generate with the
    prompt fields as sent (`raw`, `suffix`, `template`). An empty prompt loads."""
    if not body.prompt and not body.images:
        return await _load(models, body.model, body.keep_alive, generate=True)
    chat_request, native = ollama.generate_request(body)
    stream = chat.open(
        chat_request, Caller.of(request, "ollama"), ollama=native, streamed=body.stream
    )
    return await _answer(chat, stream, request, body.model, body.stream, generate=True)


async def _embedded(
    wanted: EmbedRequest, request: Request, embeddings: EmbeddingService
) -> JSONResponse:
    """Ollama's answer as Ollama wrote it; another provider's in Ollama's shape."""
    _, result = await cancel_on_disconnect(
        request, embeddings.embed(wanted, Caller.of(request, "ollama"))
    )
    if not result.openai_shaped:
        return JSONResponse(result.body)
    return JSONResponse(ollama.embed_answer(wanted, result))


@router.post("/api/embed", responses=_ERRORS)
async def embed(
    body: OllamaEmbedRequest, request: Request, embeddings: EmbeddingsDep
) -> JSONResponse:
    return await _embedded(ollama.embed_request(body), request, embeddings)


@router.post("/api/embeddings", responses=_ERRORS)
async def embeddings_legacy(
    body: OllamaEmbeddingsRequest, request: Request, embeddings: EmbeddingsDep
) -> JSONResponse:
    """The older single-prompt endpoint (Ollama's answer carries no token count)."""
    return await _embedded(ollama.embed_request(body), request, embeddings)


@router.post("/api/pull", responses={**_ERRORS, **_NDJSON_DOC})
async def pull(body: OllamaPullRequest, models: ModelsDep) -> Response:
    """Ollama's progress stream; closing the request cancels the pull."""
    progress = models.pull(body.model_name, body.insecure)
    if body.stream:
        return await open_stream(progress, ollama.ndjson_objects, NDJSON_MEDIA_TYPE)
    last: dict[str, Any] = {}
    async for item in progress:
        last = item
    return JSONResponse(last)


# Ollama answers a delete with an empty 200.
@router.delete(
    "/api/delete",
    response_class=Response,
    responses={**_ERRORS, 200: {"description": "Deleted (no body)", "content": {}}},
)
async def delete(body: OllamaDeleteRequest, models: ModelsDep) -> Response:
    await models.delete(body.model_name)
    return Response(status_code=200)


# Paths above, for telling a wrong method (405) from a route the connector lacks (501).
_SERVED = {
    route.path: sorted(route.methods or ())
    for route in router.routes
    if hasattr(route, "methods") and hasattr(route, "path")
}


@router.api_route(
    "/api/{rest:path}",
    methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"],
    include_in_schema=False,
)
async def not_served(rest: str, request: Request, services: ServicesDep) -> Response:
    path = f"/api/{rest}"
    if path in _SERVED:
        allowed = ", ".join(_SERVED[path])
        raise MethodNotAllowedError(
            f"Method {request.method} is not allowed on {path}; use {allowed}.",
            headers={"Allow": allowed},
        )
    url = OllamaModels(services.providers, services.runtime.default_provider).native_url()
    raise NotServedError(
        f"The connector does not serve {request.method} {path} (it serves Ollama's chat, "
        f"generate, embeddings and model routes); call Ollama directly at {url}{path}.",
        code="not_served",
    )
