"""Dependencies for routes, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from connector.api.security import is_loopback_ip
from connector.errors import ForbiddenError
from connector.services.chat import ChatService
from connector.services.container import Services
from connector.services.embeddings import EmbeddingService
from connector.services.responses_store import ResponsesStore


def _services(conn: HTTPConnection) -> Services:
    services: Services = conn.app.state.services
    return services


# Dependencies are `async def` on purpose: FastAPI runs plain `def` ones in a thread
# pool, a thread hop per request for what is an attribute lookup.
async def get_services(conn: HTTPConnection) -> Services:
    return _services(conn)


async def get_chat(conn: HTTPConnection) -> ChatService:
    return _services(conn).chat


async def get_embeddings(conn: HTTPConnection) -> EmbeddingService:
    return _services(conn).embeddings


async def get_responses_store(conn: HTTPConnection) -> ResponsesStore:
    return _services(conn).responses


async def require_settings_writer(conn: HTTPConnection) -> None:
    """Settings change only from this machine, unless an API token guards the server
    (the security middleware has then already checked it)."""
    services = _services(conn)
    if services.settings.api_token is not None:
        return
    client = conn.client.host if conn.client else None
    if not is_loopback_ip(client):
        raise ForbiddenError(
            "Settings can only be changed from this machine. Set CONNECTOR_API_TOKEN to "
            "allow remote changes.",
            code="remote_settings_refused",
        )


ServicesDep = Annotated[Services, Depends(get_services)]
ChatDep = Annotated[ChatService, Depends(get_chat)]
EmbeddingsDep = Annotated[EmbeddingService, Depends(get_embeddings)]
ResponsesStoreDep = Annotated[ResponsesStore, Depends(get_responses_store)]
SettingsWriter = Depends(require_settings_writer)
