"""OpenAI's embeddings answer (`POST /v1/embeddings`) for vectors that did not come
from an OpenAI-compatible upstream (whose answers pass through as they are)."""

from __future__ import annotations

import base64
import struct
from typing import Any

from connector.schemas.embeddings import Embedding, EmbeddingsResponse, EmbeddingsUsage


def _base64(vector: list[float]) -> str:
    # OpenAI's base64 format: little-endian float32, as its SDKs decode it.
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def embeddings_body(
    model: str, vectors: list[Any], tokens: int, encoding_format: str
) -> dict[str, Any]:
    data = [
        Embedding(index=i, embedding=_base64(v) if encoding_format == "base64" else v)
        for i, v in enumerate(vectors)
    ]
    usage = EmbeddingsUsage(prompt_tokens=tokens, total_tokens=tokens)
    return EmbeddingsResponse(data=data, model=model, usage=usage).model_dump(mode="json")
