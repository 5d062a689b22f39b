"""The model API's hot routes, answered without FastAPI's per-request machinery.

FastAPI finds a route by trying each route's pattern in turn, then solves its
dependencies and passes the answer through two exception layers: about 0.25 ms of a
blocking chat's 0.9 ms of the connector's own work here (profiled 2026-12-02), on the
routes programs call in a loop. For those routes (`HOT`), this middleware reads the
body, validates it with the route's own pydantic model and calls the route's own
function, so the behaviour is the route's; exceptions are answered by the app's one
handler (`errors.to_response`).

Whatever it would not handle exactly as FastAPI does (another content type, a query
it does not know, a body that is not valid) goes on to FastAPI untouched, the body
replayed, so every error keeps FastAPI's shape. The routes stay registered with
FastAPI, which serves them in that case and documents them (the OpenAPI contract).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from connector.api import errors
from connector.api.routes import anthropic, chat, ollama, responses
from connector.api.security import replay_body
from connector.schemas import ChatRequest
from connector.schemas.anthropic import MessagesRequest
from connector.schemas.ollama import OllamaChatRequest, OllamaGenerateRequest
from connector.schemas.responses import ResponsesRequest
from connector.services.container import Services
from connector.services.ollama_models import OllamaModels

Handler = Callable[[Any, Request, Services, dict[str, str]], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Hot:
    body: type[BaseModel]
    handle: Handler
    queries: frozenset[str] = frozenset()  # query parameters the route takes


def _models(services: Services) -> OllamaModels:
    return OllamaModels(services.providers, services.runtime.default_provider)


def _beta(query: dict[str, str]) -> bool:
    return query.get("beta", "false").lower() in ("1", "true", "yes", "on")


HOT: dict[str, Hot] = {
    "/v1/chat/completions": Hot(
        ChatRequest, lambda b, r, s, q: chat.v1_chat_completions(b, r, s.chat)
    ),
    "/chat/completions": Hot(ChatRequest, lambda b, r, s, q: chat.chat_completions(b, r, s.chat)),
    "/v1/messages": Hot(
        MessagesRequest,
        lambda b, r, s, q: anthropic.create_message(b, r, s.chat, _beta(q)),
        frozenset({"beta"}),
    ),
    "/api/chat": Hot(OllamaChatRequest, lambda b, r, s, q: ollama.chat(b, r, s.chat, _models(s))),
    "/api/generate": Hot(
        OllamaGenerateRequest, lambda b, r, s, q: ollama.generate(b, r, s.chat, _models(s))
    ),
    "/v1/responses": Hot(
        ResponsesRequest, lambda b, r, s, q: responses.create_response(b, r, s.chat, s.responses)
    ),
}
_BOOLEANS = {"1", "0", "true", "false", "yes", "no", "on", "off"}


class FastPathMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot = HOT.get(scope["path"]) if scope["type"] == "http" else None
        if hot is None or scope["method"] != "POST" or not _json(scope):
            await self.app(scope, receive, send)
            return
        query = _query(scope, hot)
        body = await _read(receive)
        if body is None:  # the client left before its request was whole
            return
        if query is None:
            await self.app(scope, replay_body(body, receive), send)
            return
        try:
            parsed = hot.body.model_validate_json(body)
        except ValidationError:
            # FastAPI answers it (the error's exact shape is its own).
            await self.app(scope, replay_body(body, receive), send)
            return
        scope.setdefault("path_params", {})
        request = Request(scope, receive)
        services: Services = scope["app"].state.services
        try:
            response = await hot.handle(parsed, request, services, query)
        except Exception as exc:
            response = await errors.to_response(request, exc)
        await response(scope, receive, send)


def _json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.split(b";", 1)[0].strip().lower() == b"application/json"
    return False


def _query(scope: Scope, hot: Hot) -> dict[str, str] | None:
    """The query as the route takes it, or None when FastAPI should judge it."""
    raw: bytes = scope.get("query_string", b"")
    if not raw:
        return {}
    found: dict[str, str] = {}
    for pair in raw.decode("latin-1").split("&"):
        name, _, value = pair.partition("=")
        if name not in hot.queries or value.lower() not in _BOOLEANS or name in found:
            return None
        found[name] = value
    return found


async def _read(receive: Receive) -> bytes | None:
    """The whole body; None if the client left before sending it all."""
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)
