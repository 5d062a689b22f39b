"""EndpointService: the endpoint list and the aliases, as configured at start and as
changed through the Settings API (stored in `app_setting`, keys in the key store).

    start-up: seed variables + CONNECTOR_ENDPOINTS  ─┐
    saved list (app_setting "endpoints"/"aliases") ──┴─► ProviderRegistry.configure
    POST/PATCH/DELETE /endpoints, PUT /aliases  ───────► save, then configure again
"""

from __future__ import annotations

import asyncio
import json
import time

from sqlalchemy import Engine
from sqlmodel import Session

from connector.endpoint_keys import EndpointKeys
from connector.errors import BadRequestError, ConnectorError, NotFoundError
from connector.providers.catalogue import Health
from connector.providers.endpoints import (
    AliasConfig,
    EndpointConfig,
    dump_aliases,
    dump_endpoints,
    load_aliases,
    load_endpoints,
)
from connector.providers.registry import KINDS, ProviderRegistry, check_kind
from connector.schemas import ProviderCheck
from connector.schemas.endpoints import (
    AliasesUpdate,
    AliasPublic,
    EndpointCreate,
    EndpointHealth,
    EndpointPublic,
    EndpointsPublic,
    EndpointUpdate,
)
from connector.tables import AppSetting

_ENDPOINTS = "endpoints"
_ALIASES = "aliases"


class EndpointService:
    def __init__(
        self,
        engine: Engine,
        registry: ProviderRegistry,
        keys: EndpointKeys,
        configured_keys: dict[str, str],
    ) -> None:
        self._engine = engine
        self._registry = registry
        self._keys = keys
        self._configured_keys = configured_keys
        self._lock = asyncio.Lock()
        self.default: str = ""  # the runtime default endpoint, kept by RuntimeSettings

    def load(self) -> None:
        """Apply a list saved by an earlier run and read the keys (blocking: off-loop)."""
        with Session(self._engine) as session:
            saved = session.get(AppSetting, _ENDPOINTS)
            saved_aliases = session.get(AppSetting, _ALIASES)
        endpoints = self._registry.endpoints()
        aliases = self._registry.aliases
        if saved is not None:
            endpoints = load_endpoints(json.loads(saved.value))
        if saved_aliases is not None:
            aliases = load_aliases(json.loads(saved_aliases.value))
        self._registry.configure(endpoints, aliases)
        self._keys.load([e.name for e in endpoints], self._configured_keys)

    # -- reading ---------------------------------------------------------------------
    def public(self) -> EndpointsPublic:
        return EndpointsPublic(
            endpoints=[self._public(ep) for ep in self._registry.endpoints()],
            aliases=[AliasPublic(name=a.name, targets=a.targets) for a in self._registry.aliases],
            kinds=list(KINDS),
        )

    def _public(self, ep: EndpointConfig) -> EndpointPublic:
        provider = self._registry.get(ep.name)
        return EndpointPublic(
            name=ep.name,
            kind=ep.kind,
            base_url=ep.base_url,
            enabled=ep.enabled,
            models=ep.models,
            pricing="local" if provider.local else "cloud",
            key_required=bool(ep.key_required),
            api_key=self._keys.status(ep.name),
            default=ep.name == self.default,
            health=self._health(ep.name),
        )

    def _health(self, name: str) -> EndpointHealth:
        h = self._registry.catalogue.health.get(name) or Health()
        return EndpointHealth(
            name=name,
            up=h.up,
            last_error=h.last_error,
            latency_ms=h.latency_ms,
            checked_at=h.checked_at,
            models=h.models,
        )

    def health(self) -> list[EndpointHealth]:
        return [self._health(ep.name) for ep in self._registry.endpoints()]

    async def refresh(self) -> list[EndpointHealth]:
        await self._registry.listings()
        return self.health()

    # -- changing --------------------------------------------------------------------
    async def create(self, body: EndpointCreate) -> EndpointPublic:
        check_kind(body.kind)
        async with self._lock:
            endpoints = self._registry.endpoints()
            if any(e.name == body.name for e in endpoints):
                raise BadRequestError(f"Endpoint '{body.name}' exists already.", param="name")
            new = EndpointConfig.model_validate(body.model_dump(exclude={"api_key"}))
            await asyncio.to_thread(self._save, [*endpoints, new], body.api_key)
        return self._public(new)

    def _known(self, name: str) -> EndpointConfig:
        found = next((e for e in self._registry.endpoints() if e.name == name), None)
        if found is None:
            raise NotFoundError(f"No endpoint is named '{name}'.", code="endpoint_not_found")
        return found

    async def update(self, name: str, change: EndpointUpdate) -> EndpointPublic:
        async with self._lock:
            endpoints = self._registry.endpoints()
            old = self._known(name)
            fields = change.model_dump(exclude_unset=True, exclude={"api_key"})
            if change.enabled is False and name == self.default:
                raise BadRequestError(
                    f"'{name}' is the default endpoint; choose another default first.",
                    param="enabled",
                )
            new = old.model_copy(update={k: v for k, v in fields.items() if v is not None})
            new = EndpointConfig.model_validate(new.model_dump())
            listing = [new if e.name == name else e for e in endpoints]
            await asyncio.to_thread(self._save, listing, change.api_key, name)
        return self._public(new)

    async def delete(self, name: str) -> None:
        async with self._lock:
            self._known(name)
            if name == self.default:
                raise BadRequestError(
                    f"'{name}' is the default endpoint; choose another default first.",
                    param="name",
                )
            rest = [e for e in self._registry.endpoints() if e.name != name]
            await asyncio.to_thread(self._save, rest, "", name)

    async def set_url(self, name: str, base_url: str) -> None:
        """The seed's settings (`ollama_base_url`, `openai_base_url`) set their
        endpoint's URL."""
        if name in {e.name for e in self._registry.endpoints()}:
            await self.update(name, EndpointUpdate(base_url=base_url))

    async def set_aliases(self, body: AliasesUpdate) -> list[AliasPublic]:
        aliases = [AliasConfig(name=a.name, targets=a.targets) for a in body.aliases]
        async with self._lock:
            await asyncio.to_thread(self._save_aliases, aliases)
        return [AliasPublic(name=a.name, targets=a.targets) for a in aliases]

    def _save(
        self, endpoints: list[EndpointConfig], key: str | None, key_of: str | None = None
    ) -> None:
        """Store the list, then the key, then route by the new list (blocking)."""
        with Session(self._engine) as session:
            session.merge(AppSetting(key=_ENDPOINTS, value=json.dumps(dump_endpoints(endpoints))))
            session.commit()
        name = key_of or endpoints[-1].name
        if key is not None:
            if key.strip():
                self._keys.set(name, key.strip())
            else:
                self._keys.clear(name)
        self._registry.configure(endpoints, self._registry.aliases)

    def _save_aliases(self, aliases: list[AliasConfig]) -> None:
        with Session(self._engine) as session:
            session.merge(AppSetting(key=_ALIASES, value=json.dumps(dump_aliases(aliases))))
            session.commit()
        self._registry.configure(self._registry.endpoints(), aliases)

    async def test(self, name: str) -> ProviderCheck:
        """The Settings page's "Test connection": ask the endpoint now."""
        self._known(name)
        provider = self._registry.get(name)
        started = time.perf_counter()
        try:
            detail, ok = await provider.check(), True
        except ConnectorError as exc:
            detail, ok = exc.message, False
        latency = round((time.perf_counter() - started) * 1000, 2)
        if ok:
            self._registry.catalogue.note_success(name)
        else:
            self._registry.catalogue.note_failure(name, detail)
        self._registry.catalogue.health[name].latency_ms = latency
        return ProviderCheck(provider=provider.name, ok=ok, detail=detail, latency_ms=latency)
