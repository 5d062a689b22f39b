"""The providers this connector knows. A new provider is one module and one line here."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from connector.config import ProviderName, Settings
from connector.errors import BadRequestError
from connector.providers.base import Provider
from connector.providers.ollama import OllamaProvider
from connector.providers.openai import OpenAIProvider


class ProviderRegistry:
    def __init__(self, settings: Settings, key_getter: Callable[[], str | None]) -> None:
        # Connecting fails fast; reading allows a model's first load and long generations.
        limits = {
            "connect": settings.connect_timeout,
            "read": settings.read_timeout,
            "write": settings.connect_timeout,
            "pool": settings.connect_timeout,
        }
        self.ollama = OllamaProvider(
            settings.ollama_base_url,
            httpx.Timeout(**limits),
            settings.models_timeout,
            idle_timeout=settings.idle_timeout,
        )
        self.openai = OpenAIProvider(
            settings.openai_base_url,
            key_getter,
            limits,
            settings.models_timeout,
            idle_timeout=settings.idle_timeout,
        )
        self._all: dict[ProviderName, Provider] = {"ollama": self.ollama, "openai": self.openai}

    def get(self, name: str) -> Provider:
        try:
            return self._all[name]  # type: ignore[index]
        except KeyError:
            raise BadRequestError(
                f"Unknown provider '{name}'; use one of: {', '.join(self._all)}.",
                param="provider",
            ) from None

    def all(self) -> list[Provider]:
        return list(self._all.values())

    def resolve(
        self, model: str, provider: str | None, default_provider: str
    ) -> tuple[Provider, str]:
        """The provider and bare model name for `model`: `openai/NAME` and
        `ollama/NAME` name their provider, a bare name is `provider`'s (else the
        default provider's). Every surface resolves models this one way."""
        model = model.strip()
        prefix, _, rest = model.partition("/")
        if rest and prefix in self._all:
            if provider and provider != prefix:
                raise BadRequestError(
                    f"model '{model}' names provider '{prefix}' but provider is '{provider}'.",
                    param="provider",
                )
            provider, model = prefix, rest
        if not model:
            raise BadRequestError("model must not be empty.", param="model")
        return self.get(provider or default_provider), model

    async def aclose(self) -> None:
        for provider in self._all.values():
            await provider.aclose()
