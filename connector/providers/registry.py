"""The endpoints this connector routes to, built from their configuration.

A new endpoint kind is one module (its Provider class) and one line in `KINDS`.
`resolve` is the one model resolution of every surface:

    ENDPOINT/MODEL        that endpoint (its model filter applies)
    an alias (or glob)    its targets, in order: a fallback list
    a bare name           the endpoint whose catalogue has it; the default endpoint
                          when several or none have it
"""

from __future__ import annotations

import asyncio
import fnmatch
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from connector.config import Settings
from connector.errors import BadRequestError, ModelNotFoundError, ValidationFailedError
from connector.providers.base import ModelListing, Provider, ProviderOptions
from connector.providers.catalogue import Catalogue
from connector.providers.endpoints import AliasConfig, EndpointConfig
from connector.providers.ollama import OllamaProvider
from connector.providers.openai import OpenAIProvider


@dataclass(frozen=True, slots=True)
class Kind:
    build: Callable[[EndpointConfig, ProviderOptions, Callable[[], str | None]], Provider]
    local: bool  # the kind's default pricing: local (counted as saved) or cloud


# A new kind: its Provider class (one module here, with `from_endpoint`) and one line.
KINDS: dict[str, Kind] = {
    "ollama": Kind(OllamaProvider.from_endpoint, local=True),
    "openai-compatible": Kind(OpenAIProvider.from_endpoint, local=False),
}


@dataclass(frozen=True, slots=True)
class Route:
    provider: Provider
    model: str


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise BadRequestError(
            f"Unknown endpoint kind '{kind}'; use one of: {', '.join(KINDS)}.", param="kind"
        )


class ProviderRegistry:
    def __init__(
        self,
        settings: Settings,
        key_for: Callable[[str], Callable[[], str | None]],
        endpoints: list[EndpointConfig],
        aliases: list[AliasConfig] | None = None,
    ) -> None:
        # Connecting fails fast; reading allows a model's first load and long generations.
        self._options = ProviderOptions(
            timeouts={
                "connect": settings.connect_timeout,
                "read": settings.read_timeout,
                "write": settings.connect_timeout,
                "pool": settings.connect_timeout,
            },
            models_timeout=settings.models_timeout,
            idle_timeout=settings.idle_timeout,
        )
        self._key_for = key_for
        self._endpoints: dict[str, EndpointConfig] = {}
        self._all: dict[str, Provider] = {}
        self._built_from: dict[str, EndpointConfig] = {}
        self.aliases: list[AliasConfig] = []
        self.catalogue = Catalogue(wait_s=settings.models_timeout + 0.5)
        self._retired: list[Provider] = []
        # Pricing by endpoint name, kept after an endpoint is removed: its requests
        # still running are priced as they started.
        self._local: dict[str, bool] = {}
        self.configure(endpoints, aliases or [])

    # -- configuration ---------------------------------------------------------------
    def configure(self, endpoints: list[EndpointConfig], aliases: list[AliasConfig]) -> None:
        """Apply a new endpoint list: changed endpoints get a new provider (the old one
        is closed at the next `aclose`/`reap`, after its running requests)."""
        for ep in endpoints:
            check_kind(ep.kind)
        by_name = {ep.name: ep for ep in endpoints}
        for name, provider in list(self._all.items()):
            same = by_name.get(name)
            built = self._built_from.get(name)
            if same is None or built is None or _rebuild(built, same):
                self._retired.append(provider)
                del self._all[name]
                self._built_from.pop(name, None)
            elif provider.base_url != same.base_url:
                provider.configure(same.base_url)
        for ep in endpoints:
            kind = KINDS[ep.kind]
            if ep.name not in self._all:
                self._all[ep.name] = kind.build(ep, self._options, self._key_for(ep.name))
            local = kind.local if ep.pricing is None else ep.pricing == "local"
            self._all[ep.name].local = self._local[ep.name] = local
            self._built_from[ep.name] = ep
        self._endpoints = by_name
        self.aliases = list(aliases)
        # Indexed once here, not per request: resolving a bare name walked every alias
        # and ran fnmatch on each glob, about 20 us a request with twenty aliases.
        self._enabled = [name for name, ep in by_name.items() if ep.enabled]
        self._exact = {a.name: a for a in reversed(self.aliases) if not a.is_glob}
        self._globs = [
            (re.compile(fnmatch.translate(a.name)).match, a) for a in self.aliases if a.is_glob
        ]
        self.catalogue.forget(by_name)

    def endpoints(self) -> list[EndpointConfig]:
        return list(self._endpoints.values())

    def endpoint(self, name: str) -> EndpointConfig:
        found = self._endpoints.get(name)
        if found is None:
            # As a value outside the schema's choices: what `provider` names must exist.
            raise ValidationFailedError(
                f"Unknown endpoint '{name}'; use one of: {', '.join(self._endpoints)}.",
                param="provider",
            )
        return found

    def get(self, name: str) -> Provider:
        self.endpoint(name)
        return self._all[name]

    def all(self) -> list[Provider]:
        """The enabled endpoints' providers, in configuration order."""
        return [self._all[n] for n, ep in self._endpoints.items() if ep.enabled]

    def is_local(self, name: str) -> bool:
        return self._local.get(name, False)

    def first(self, capability: type) -> Provider | None:
        """The first enabled endpoint whose provider has `capability` (a Protocol)."""
        return next((p for p in self.all() if isinstance(p, capability)), None)

    # -- the catalogue ---------------------------------------------------------------
    async def listings(self) -> list[tuple[Provider, ModelListing]]:
        """Every enabled endpoint's models, asked concurrently (this refreshes the
        catalogue too)."""
        providers = self.all()
        self.catalogue.refreshed_at = time.monotonic()
        results = await asyncio.gather(
            *(self.catalogue.list_one(p, self._endpoints[p.name].offers) for p in providers)
        )
        return list(zip(providers, results, strict=True))

    # -- resolution ------------------------------------------------------------------
    def resolve(
        self, model: str, provider: str | None, default_provider: str
    ) -> tuple[Provider, str]:
        """The first route for `model` (see `routes`)."""
        first = self.routes(model, provider, default_provider)[0]
        return first.provider, first.model

    def routes(self, model: str, provider: str | None, default_provider: str) -> list[Route]:
        """Where `model` goes, in the order to try: one route, or an alias's list."""
        model = model.strip()
        if not model:
            raise BadRequestError("model must not be empty.", param="model")
        prefix, _, rest = model.partition("/")
        named = rest and prefix in self._endpoints
        if provider:
            if named and prefix != provider:
                raise BadRequestError(
                    f"model '{model}' names endpoint '{prefix}' but provider is '{provider}'.",
                    param="provider",
                )
            return [self._route(provider, rest if named else model)]
        if named:
            return [self._route(prefix, rest)]
        alias = self._alias(model)
        if alias is None:
            return [self._bare(model, default_provider)]
        found: list[Route] = []
        for target in alias.targets:
            head, _, tail = target.partition("/")
            if tail and head in self._endpoints:
                if self._endpoints[head].enabled:
                    found.append(self._route(head, tail))
            else:
                found.append(self._bare(target, default_provider))
        if not found:
            raise BadRequestError(
                f"Every endpoint of alias '{alias.name}' is disabled.", param="model"
            )
        return found

    def _alias(self, model: str) -> AliasConfig | None:
        exact = self._exact.get(model)
        if exact is not None or not self._globs:
            return exact
        return next((a for match, a in self._globs if match(model)), None)

    def _route(self, name: str, model: str) -> Route:
        endpoint = self.endpoint(name)
        if not endpoint.enabled:
            raise BadRequestError(f"Endpoint '{name}' is disabled in Settings.", param="model")
        if not model:
            raise BadRequestError("model must not be empty.", param="model")
        if not endpoint.offers(model):
            raise ModelNotFoundError(
                f"Endpoint '{name}' does not offer model '{model}' (its model filter: "
                f"{', '.join(endpoint.models)})."
            )
        return Route(self._all[name], model)

    def _bare(self, model: str, default: str) -> Route:
        self.catalogue.maybe_refresh()
        owners = self.catalogue.owners(model, self._enabled)
        if len(owners) == 1:
            return Route(self._all[owners[0]], model)
        return self._route(default, model)

    async def aclose(self) -> None:
        for provider in [*self._all.values(), *self._retired]:
            await provider.aclose()
        self._retired.clear()


def _rebuild(old: EndpointConfig, new: EndpointConfig) -> bool:
    """A provider is rebuilt when what it was built from changed (its kind or whether
    it needs a key); a new base URL is applied in place."""
    return old.kind != new.kind or old.key_required != new.key_required
