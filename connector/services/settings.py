"""Runtime settings: start-up `Settings` overlaid with what was changed through
`POST /settings` (stored in the database; the key goes to the key store)."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import Engine
from sqlmodel import Session, select

from connector.config import Settings
from connector.providers.registry import ProviderRegistry
from connector.schemas import ListenAddress, SettingsPublic, SettingsUpdate
from connector.secrets import KeyStore
from connector.tables import AppSetting

_STORED = (
    "openai_base_url",
    "ollama_base_url",
    "default_provider",
    "default_model",
    "reference_model",
)


class RuntimeSettings:
    def __init__(
        self, settings: Settings, engine: Engine, keys: KeyStore, providers: ProviderRegistry
    ) -> None:
        self._settings = settings
        self._engine = engine
        self.keys = keys
        self._providers = providers
        self.values: dict[str, str] = {name: str(getattr(settings, name)) for name in _STORED}

    def load(self) -> None:
        """Apply values saved by an earlier run (blocking: call off-loop)."""
        with Session(self._engine) as session:
            for row in session.exec(select(AppSetting)):
                if row.key in self.values:
                    self.values[row.key] = json.loads(row.value)
        self._apply()

    def _apply(self) -> None:
        self._providers.ollama.configure(self.values["ollama_base_url"])
        self._providers.openai.configure(self.values["openai_base_url"])

    @property
    def default_provider(self) -> str:
        return self.values["default_provider"]

    @property
    def default_model(self) -> str:
        return self.values["default_model"]

    @property
    def reference_model(self) -> str:
        return self.values["reference_model"]

    def public(self, listen: ListenAddress | None = None) -> SettingsPublic:
        return SettingsPublic(
            openai_api_key=self.keys.status(),
            openai_base_url=self.values["openai_base_url"],
            ollama_base_url=self.values["ollama_base_url"],
            default_provider=self.values["default_provider"],
            default_model=self.values["default_model"],
            reference_model=self.values["reference_model"],
            keyring_available=self.keys.keyring_available,
            listen=listen or ListenAddress(host=self._settings.host, port=self._settings.port),
        )

    async def update(
        self, change: SettingsUpdate, listen: ListenAddress | None = None
    ) -> SettingsPublic:
        await asyncio.to_thread(self._update, change)
        return self.public(listen)

    def _update(self, change: SettingsUpdate) -> None:
        if change.openai_api_key is not None:
            key = change.openai_api_key.strip()
            if key:
                self.keys.set(key)
            else:
                self.keys.clear()
        fields = change.model_dump(exclude_unset=True, exclude={"openai_api_key"})
        updates = {k: str(v) for k, v in fields.items() if v is not None}
        if updates:
            with Session(self._engine) as session:
                for key, value in updates.items():
                    session.merge(AppSetting(key=key, value=json.dumps(value)))
                session.commit()
            self.values.update(updates)
            self._apply()
