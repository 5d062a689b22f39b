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
from connector.schemas.settings import Dialect, ProgramAccess
from connector.secrets import KeyStore
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
        self, settings: Settings, engine: Engine, keys: KeyStore, providers: ProviderRegistry
    ) -> None:
        self._settings = settings
        self._engine = engine
        self.keys = keys
        self._providers = providers
        self.values: dict[str, str] = {name: str(getattr(settings, name)) for name in _STORED}
        self.programs_need_key = settings.programs_need_key

    def load(self) -> None:
        """Apply values saved by an earlier run (blocking: call off-loop)."""
        with Session(self._engine) as session:
            for row in session.exec(select(AppSetting)):
                if row.key in self.values:
                    self.values[row.key] = json.loads(row.value)
                elif row.key == _PROGRAMS_NEED_KEY:
                    self.programs_need_key = bool(json.loads(row.value))
        if self.programs_need_key:
            self.keys.ensure_program_key()
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
            openai_base_url=self.values["openai_base_url"],
            ollama_base_url=self.values["ollama_base_url"],
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
        await asyncio.to_thread(self._update, change)
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
            exclude_unset=True, exclude={"openai_api_key", _PROGRAMS_NEED_KEY}
        )
        updates = {k: str(v) for k, v in fields.items() if v is not None}
        if updates:
            with Session(self._engine) as session:
                for key, value in updates.items():
                    session.merge(AppSetting(key=key, value=json.dumps(value)))
                session.commit()
            self.values.update(updates)
            self._apply()
