"""Ollama's model routes (`/api/tags`, `/api/show`, `/api/ps`, `/api/pull`,
`/api/delete`, load/unload calls) over both providers.

Ollama's answers pass through exactly as Ollama wrote them. The OpenAI provider's chat
models join `/api/tags` as `openai/NAME` with plausible details, and `/api/show`
describes them with the capabilities Ollama clients look for (VS Code asks for
`tools`, and reads `<architecture>.context_length` from `model_info`). A provider
that is down leaves its models out of the list; the list still answers.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any

from connector.errors import BadRequestError, ConnectorError, ModelNotFoundError
from connector.providers.base import Provider
from connector.providers.ollama import OllamaProvider
from connector.providers.registry import ProviderRegistry
from connector.schemas.ollama import ListedModel, ModelDetails

# What /api/version reports. Clients gate features on it: VS Code Copilot Chat needs
# 0.6.4 or later; `think` levels and JSON-schema `format` need 0.9+. 0.12.6 is the
# Ollama release the recorded bodies come from (tests/data/ollama/version.json).
OLLAMA_VERSION = "0.12.6"
# A context length for OpenAI models in `model_info` (their current chat models take
# 128k or more); clients size their prompts by it.
_OPENAI_CONTEXT = 128_000
_VISION_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4")


def _openai_details() -> ModelDetails:
    return {
        "parent_model": "",
        "format": "api",
        "family": "openai",
        "families": ["openai"],
        "parameter_size": "",
        "quantization_level": "",
    }


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _listed(name: str) -> ListedModel:
    full = f"openai/{name}"
    return {
        "name": full,
        "model": full,
        "modified_at": _stamp(),
        "size": 0,
        "digest": hashlib.sha256(full.encode()).hexdigest(),
        "details": _openai_details(),
    }


class OllamaModels:
    def __init__(self, providers: ProviderRegistry) -> None:
        self._providers = providers

    @property
    def ollama(self) -> OllamaProvider:
        return self._providers.ollama

    def resolve(self, model: str) -> tuple[Provider, str]:
        # A bare name on Ollama's API is an Ollama model, whatever the default provider.
        return self._providers.resolve(model, None, "ollama")

    async def tags(self, wait_s: float) -> dict[str, Any]:
        async def ollama_models() -> list[Any]:
            try:
                data = await asyncio.wait_for(self.ollama.call_api("GET", "/api/tags"), wait_s)
            except (ConnectorError, TimeoutError):
                return []
            return list((data or {}).get("models") or [])

        async def openai_models() -> list[Any]:
            try:
                listing = await asyncio.wait_for(self._providers.openai.list_models(), wait_s)
            except TimeoutError:
                return []
            return [_listed(m.id) for m in listing.models] if listing.available else []

        own, cloud = await asyncio.gather(ollama_models(), openai_models())
        return {"models": [*own, *cloud]}

    async def show(self, body: dict[str, Any], model: str) -> dict[str, Any]:
        provider, name = self.resolve(model)
        if provider.name == "ollama":
            return dict(
                await self.ollama.call_api("POST", "/api/show", {**body, "model": name}, model=name)
                or {}
            )
        listing = await self._providers.openai.list_models()
        if listing.available and name not in {m.id for m in listing.models}:
            raise ModelNotFoundError(f"model '{model}' not found at {provider.base_url}.")
        capabilities = ["completion", "tools"]
        if name.startswith(_VISION_PREFIXES):
            capabilities.append("vision")
        return {
            "modelfile": "",
            "parameters": "",
            "template": "",
            "details": _openai_details(),
            "model_info": {
                "general.architecture": "openai",
                "general.basename": name,
                "openai.context_length": _OPENAI_CONTEXT,
            },
            "capabilities": capabilities,
            "modified_at": _stamp(),
        }

    async def ps(self) -> Any:
        return await self.ollama.call_api("GET", "/api/ps")

    def _ollama_only(self, model: str, what: str) -> str:
        provider, name = self.resolve(model)
        if provider.name != "ollama":
            raise BadRequestError(
                f"{what} works on Ollama models only; '{model}' is served by {provider.base_url}.",
                param="model",
            )
        return name

    async def delete(self, model: str) -> None:
        name = self._ollama_only(model, "Deleting")
        await self.ollama.call_api("DELETE", "/api/delete", {"model": name}, model=name)

    def pull(self, model: str, insecure: bool | None) -> AsyncGenerator[dict[str, Any], None]:
        return self.ollama.pull(self._ollama_only(model, "Pulling"), insecure)

    async def load(
        self, model: str, keep_alive: str | int | float | None, generate: bool
    ) -> dict[str, Any] | None:
        """Ollama's load/unload call, passed to Ollama; None for a provider that loads
        nothing (the dialect then answers as Ollama would)."""
        provider, name = self.resolve(model)
        if provider.name != "ollama":
            return None
        body: dict[str, Any] = {"model": name}
        if not generate:
            body["messages"] = []
        if keep_alive is not None:
            body["keep_alive"] = keep_alive
        path = "/api/generate" if generate else "/api/chat"
        return dict(await self.ollama.call_api("POST", path, body, model=name, slow=True) or {})
