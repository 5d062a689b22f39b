"""Ollama's model routes (`/api/tags`, `/api/show`, `/api/ps`, `/api/pull`,
`/api/delete`, load/unload calls) over every endpoint.

An endpoint that speaks Ollama's API (`OllamaNative`) answers them itself, passed
through exactly as Ollama wrote them; the first of them (the default endpoint when it
is one) lists its models by their own names, the others as `ENDPOINT/NAME`. Every
other endpoint's chat models join `/api/tags` as `ENDPOINT/NAME` with plausible
details, and `/api/show` describes them with the capabilities Ollama clients look for
(VS Code asks for `tools`, and reads `<architecture>.context_length` from
`model_info`). An endpoint that is down leaves its models out; the list still answers.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any

from connector.errors import (
    BadRequestError,
    ConnectorError,
    ModelNotFoundError,
    UpstreamUnavailableError,
)
from connector.providers.base import OllamaNative, Provider
from connector.providers.registry import ProviderRegistry
from connector.schemas.ollama import ListedModel, ModelDetails

# What /api/version reports. Clients gate features on it: VS Code Copilot Chat needs
# 0.6.4 or later; `think` levels and JSON-schema `format` need 0.9+. 0.12.6 is the
# Ollama release the recorded bodies come from (tests/data/ollama/version.json).
OLLAMA_VERSION = "0.12.6"
# A context length for OpenAI-compatible models in `model_info` (OpenAI's current chat
# models take 128k or more); clients size their prompts by it.
_API_CONTEXT = 128_000
_VISION_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4")


def _api_details(family: str) -> ModelDetails:
    return {
        "parent_model": "",
        "format": "api",
        "family": family,
        "families": [family],
        "parameter_size": "",
        "quantization_level": "",
    }


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _listed(endpoint: str, name: str) -> ListedModel:
    full = f"{endpoint}/{name}"
    return {
        "name": full,
        "model": full,
        "modified_at": _stamp(),
        "size": 0,
        "digest": hashlib.sha256(full.encode()).hexdigest(),
        "details": _api_details(endpoint),
    }


def _prefixed(endpoint: str, entry: Any) -> Any:
    if not isinstance(entry, dict):
        return entry
    out = dict(entry)
    for key in ("name", "model"):
        if isinstance(out.get(key), str):
            out[key] = f"{endpoint}/{out[key]}"
    return out


class OllamaModels:
    def __init__(self, providers: ProviderRegistry, default: str = "") -> None:
        self._providers = providers
        self._default = default

    @property
    def ollama(self) -> OllamaNative:
        """The endpoint that answers Ollama's own routes for bare names."""
        native = self._native()
        if native is None:
            raise UpstreamUnavailableError(
                "No enabled endpoint speaks Ollama's API; add one of kind `ollama` in Settings.",
                code="no_ollama_endpoint",
            )
        return native

    def _native(self) -> OllamaNative | None:
        try:
            default = self._providers.get(self._default) if self._default else None
        except ConnectorError:
            default = None
        if isinstance(default, OllamaNative) and default in self._providers.all():
            return default
        found = self._providers.first(OllamaNative)
        return found if isinstance(found, OllamaNative) else None

    def native_url(self) -> str:
        native = self._native()
        return native.base_url if native is not None else "your Ollama"

    def resolve(self, model: str) -> tuple[Provider, str]:
        # A bare name no catalogue knows is the Ollama endpoint's, whatever the default.
        native = self._native()
        return self._providers.resolve(model, None, native.name if native else self._default)

    async def tags(self, wait_s: float) -> dict[str, Any]:
        primary = self._native()

        async def listed(provider: Provider) -> list[Any]:
            endpoint = self._providers.endpoint(provider.name)
            if isinstance(provider, OllamaNative):
                try:
                    data = await asyncio.wait_for(provider.call_api("GET", "/api/tags"), wait_s)
                except (ConnectorError, TimeoutError) as exc:
                    message = getattr(exc, "message", "no answer in time")
                    self._providers.catalogue.note_failure(provider.name, message)
                    return []
                entries = [
                    e
                    for e in (data or {}).get("models") or []
                    if endpoint.offers(str(e.get("name") or e.get("model")))
                ]
                names = frozenset(str(e.get("name") or e.get("model")) for e in entries)
                self._providers.catalogue.models[provider.name] = names
                self._providers.catalogue.note_success(provider.name)
                if provider is primary:
                    return entries
                return [_prefixed(provider.name, e) for e in entries]
            try:
                listing = await asyncio.wait_for(
                    self._providers.catalogue.list_one(provider, endpoint.offers), wait_s
                )
            except TimeoutError:
                return []
            if not listing.available:
                return []
            return [_listed(provider.name, m.id) for m in listing.models]

        found = await asyncio.gather(*(listed(p) for p in self._providers.all()))
        return {"models": [entry for entries in found for entry in entries]}

    async def show(self, body: dict[str, Any], model: str) -> dict[str, Any]:
        provider, name = self.resolve(model)
        if isinstance(provider, OllamaNative):
            return dict(
                await provider.call_api("POST", "/api/show", {**body, "model": name}, model=name)
                or {}
            )
        listing = await provider.list_models()
        if listing.available and name not in {m.id for m in listing.models}:
            raise ModelNotFoundError(f"model '{model}' not found at {provider.base_url}.")
        capabilities = ["completion", "tools"]
        if name.startswith(_VISION_PREFIXES):
            capabilities.append("vision")
        return {
            "modelfile": "",
            "parameters": "",
            "template": "",
            "details": _api_details(provider.name),
            "model_info": {
                "general.architecture": provider.name,
                "general.basename": name,
                f"{provider.name}.context_length": _API_CONTEXT,
            },
            "capabilities": capabilities,
            "modified_at": _stamp(),
        }

    async def ps(self) -> Any:
        return await self.ollama.call_api("GET", "/api/ps")

    def _ollama_only(self, model: str, what: str) -> tuple[OllamaNative, str]:
        provider, name = self.resolve(model)
        if not isinstance(provider, OllamaNative):
            raise BadRequestError(
                f"{what} works on Ollama models only; '{model}' is served by {provider.base_url}.",
                param="model",
            )
        return provider, name

    async def delete(self, model: str) -> None:
        native, name = self._ollama_only(model, "Deleting")
        await native.call_api("DELETE", "/api/delete", {"model": name}, model=name)

    def pull(self, model: str, insecure: bool | None) -> AsyncGenerator[dict[str, Any], None]:
        native, name = self._ollama_only(model, "Pulling")
        return native.pull(name, insecure)

    async def load(
        self, model: str, keep_alive: str | int | float | None, generate: bool
    ) -> dict[str, Any] | None:
        """Ollama's load/unload call, passed to Ollama; None for an endpoint that loads
        nothing (the dialect then answers as Ollama would)."""
        provider, name = self.resolve(model)
        if not isinstance(provider, OllamaNative):
            return None
        body: dict[str, Any] = {"model": name}
        if not generate:
            body["messages"] = []
        if keep_alive is not None:
            body["keep_alive"] = keep_alive
        path = "/api/generate" if generate else "/api/chat"
        return dict(await provider.call_api("POST", path, body, model=name, slow=True) or {})
