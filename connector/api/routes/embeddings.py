"""OpenAI's embeddings API on both providers (`POST /v1/embeddings`): Open WebUI's
document search and Continue's indexing call it. Metered like chats (kind `embed`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from connector.api.deps import EmbeddingsDep
from connector.api.routes.chat import ERRORS
from connector.api.routing import DocumentedRoute
from connector.api.sse import cancel_on_disconnect
from connector.dialects.openai_embeddings import embeddings_body
from connector.providers.base import EmbedCall
from connector.schemas.embeddings import EmbeddingsRequest, EmbeddingsResponse
from connector.services.callers import Caller
from connector.services.embeddings import EmbedRequest

router = APIRouter(tags=["embeddings"], route_class=DocumentedRoute)


@router.post("/v1/embeddings", response_model=EmbeddingsResponse, responses=ERRORS)
async def create_embeddings(
    body: EmbeddingsRequest, request: Request, embeddings: EmbeddingsDep
) -> JSONResponse:
    """OpenAI's request and answer; `ollama/NAME` (or `provider`) embeds on Ollama.
    An OpenAI-compatible upstream's answer passes through as it is."""
    call = EmbedCall(
        model=body.model,
        input=body.input,
        dimensions=body.dimensions,
        encoding_format=body.encoding_format,
    )
    wanted = EmbedRequest(model=body.model, provider=body.provider, call=call)
    _, result = await cancel_on_disconnect(
        request, embeddings.embed(wanted, Caller.of(request, "v1"))
    )
    if result.openai_shaped:
        return JSONResponse(result.body)
    return JSONResponse(
        embeddings_body(body.model, result.vectors, result.prompt_tokens, body.encoding_format)
    )
