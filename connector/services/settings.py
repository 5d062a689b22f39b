"""Runtime settings: start-up `Settings` overlaid with what was changed through
`POST /settings` (stored in the database; the key goes to the key store)."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import Engine
from sqlmodel import Session, select

from connector.config import Settings
from connector.errors import BadRequestError, ValidationFailedError
from connector.providers.endpoints import LEGACY_URL_SETTINGS
from connector.providers.registry import ProviderRegistry
from connector.schemas import ListenAddress, SettingsPublic, SettingsUpdate
from connector.schemas.settings import Dialect, ProgramAccess
from connector.secrets import KeyStore
from connector.services.endpoints import EndpointService
from connector.tables import AppSetting

_STORED = (
    "openai_base_url",
    "ollama_base_url",
    "default_provider",
    "default_model",
    "reference_model",
)
# A boolean, stored apart from the string values above.
_PROGRAMS_NEED_KEY = "programs_need_key"


class RuntimeSettings:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        keys: KeyStore,
        providers: ProviderRegistry,
        endpoints: EndpointService,
    ) -> None:
        self._settings = settings
        self._engine = engine
        self.keys = keys
        self._providers = providers
        self._endpoints = endpoints
        self.values: dict[str, str] = {name: str(getattr(settings, name)) for name in _STORED}
        self.programs_need_key = settings.programs_need_key

    def load(self) -> None:
        """Apply values saved by an earlier run (blocking: call off-loop)."""
        saved: set[str] = set()
        with Session(self._engine) as session:
            for row in session.exec(select(AppSetting)):
                if row.key in self.values:
                    self.values[row.key] = json.loads(row.value)
                    saved.add(row.key)
                elif row.key == _PROGRAMS_NEED_KEY:
                    self.programs_need_key = bool(json.loads(row.value))
        if self.programs_need_key:
            self.keys.ensure_program_key()
        self._apply_saved_urls(saved)
        self._apply()

    def _apply(self) -> None:
        self._endpoints.default = self.default_provider

    def _apply_saved_urls(self, saved: set[str]) -> None:
        """URLs saved through the seed's settings by an earlier version (before
        endpoints were kept as a list); a saved endpoint list, applied after this, wins."""
        urls = {LEGACY_URL_SETTINGS[s]: self.values[s] for s in saved if s in LEGACY_URL_SETTINGS}
        if urls:
            endpoints = [
                e.model_copy(update={"base_url": urls[e.name]}) if e.name in urls else e
                for e in self._providers.endpoints()
            ]
            self._providers.configure(endpoints, self._providers.aliases)

    def _url(self, setting: str) -> str:
        name = LEGACY_URL_SETTINGS[setting]
        known = {e.name: e.base_url for e in self._providers.endpoints()}
        return known.get(name, self.values[setting])

    @property
    def default_provider(self) -> str:
        return self.values["default_provider"]

    @property
    def default_model(self) -> str:
        return self.values["default_model"]

    @property
    def reference_model(self) -> str:
        return self.values["reference_model"]

    def required_program_key(self) -> str | None:
        """The key programs must send, or None when the setting is off (hot path:
        two attribute reads, no I/O)."""
        return self.keys.program_key() if self.programs_need_key else None

    @property
    def program_access(self) -> ProgramAccess:
        if self.programs_need_key:
            return "program_key"
        settings = self._settings
        if settings.api_token is None or settings.api_token_scope == "admin":
            return "open"
        return "api_token"

    def public(
        self, listen: ListenAddress | None = None, dialects: list[Dialect] | None = None
    ) -> SettingsPublic:
        return SettingsPublic(
            openai_api_key=self.keys.status(),
            openai_base_url=self._url("openai_base_url"),
            ollama_base_url=self._url("ollama_base_url"),
            default_provider=self.values["default_provider"],
            default_model=self.values["default_model"],
            reference_model=self.values["reference_model"],
            keyring_available=self.keys.keyring_available,
            listen=listen or ListenAddress(host=self._settings.host, port=self._settings.port),
            programs_need_key=self.programs_need_key,
            program_key=self.keys.program_key_status(),
            program_access=self.program_access,
            dialects=dialects or [],
        )

    async def update(
        self,
        change: SettingsUpdate,
        listen: ListenAddress | None = None,
        dialects: list[Dialect] | None = None,
    ) -> SettingsPublic:
        if change.default_provider is not None:
            known = {e.name: e for e in self._providers.endpoints()}
            endpoint = known.get(change.default_provider)
            if endpoint is None:
                raise ValidationFailedError(
                    f"default_provider must name an endpoint: one of {', '.join(known)}.",
                    param="default_provider",
                )
            if not endpoint.enabled:
                raise BadRequestError(
                    f"Endpoint '{endpoint.name}' is disabled; enable it first.",
                    param="default_provider",
                )
        await asyncio.to_thread(self._update, change)
        for setting, name in LEGACY_URL_SETTINGS.items():
            url = getattr(change, setting, None)
            if url is not None:
                await self._endpoints.set_url(name, url)
        return self.public(listen, dialects)

    async def rotate_program_key(self) -> str:
        return await asyncio.to_thread(self.keys.rotate_program_key)

    async def reveal_program_key(self) -> str:
        return await asyncio.to_thread(self.keys.ensure_program_key)

    def _update(self, change: SettingsUpdate) -> None:
        if change.openai_api_key is not None:
            key = change.openai_api_key.strip()
            if key:
                self.keys.set(key)
            else:
                self.keys.clear()
        if change.programs_need_key is not None:
            if change.programs_need_key:
                self.keys.ensure_program_key()  # before the switch: never on without a key
            with Session(self._engine) as session:
                value = json.dumps(change.programs_need_key)
                session.merge(AppSetting(key=_PROGRAMS_NEED_KEY, value=value))
                session.commit()
            self.programs_need_key = change.programs_need_key
        fields = change.model_dump(
            exclude_unset=True,
            exclude={"openai_api_key", _PROGRAMS_NEED_KEY, *LEGACY_URL_SETTINGS},
        )
        updates = {k: str(v) for k, v in fields.items() if v is not None}
        if updates:
            with Session(self._engine) as session:
                for key, value in updates.items():
                    session.merge(AppSetting(key=key, value=json.dumps(value)))
                session.commit()
            self.values.update(updates)
            self._apply()
