"""Settings: the only place that reads environment variables.

Secrets are `SecretStr` so they never show up in a repr, a log line or a dump.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# An endpoint's name (connector.providers.endpoints): which names exist is the
# registry's to say (a request naming an unknown one gets a 422 listing them).
ProviderName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")]
KeyStore = Literal["auto", "keyring", "memory"]
# What CONNECTOR_API_TOKEN guards: every route ("all"), or only the admin surface
# ("admin": the model API stays open to programs on loopback, as the desktop app's is).
TokenScope = Literal["all", "admin"]

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Start-up configuration. Runtime changes made through `/settings` live in the
    database (non-secret values) and the key store (the OpenAI key)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    host: str = Field("127.0.0.1", validation_alias="HOST")
    port: int = Field(8000, validation_alias="PORT", ge=0, le=65535)

    openai_api_key: SecretStr | None = Field(None, validation_alias="OPENAI_API_KEY")
    openai_api_key_file: Path | None = Field(None, validation_alias="OPENAI_API_KEY_FILE")
    openai_base_url: str = Field("https://api.openai.com/v1", validation_alias="OPENAI_BASE_URL")
    ollama_base_url: str = Field("http://127.0.0.1:11434", validation_alias="OLLAMA_BASE_URL")

    # More endpoints (and aliases) as JSON, or a file holding it: see
    # connector/providers/endpoints.py. Secret: it may carry endpoints' keys.
    endpoints_json: SecretStr | None = Field(None, validation_alias="CONNECTOR_ENDPOINTS")
    endpoints_file: Path | None = Field(None, validation_alias="CONNECTOR_ENDPOINTS_FILE")

    data_dir: Path = Field(
        default_factory=lambda: Path(user_data_dir("ai-connector", appauthor=False)),
        validation_alias="CONNECTOR_DATA_DIR",
    )
    database_url: str | None = Field(None, validation_alias="DATABASE_URL")

    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="CONNECTOR_ALLOWED_HOSTS"
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="CONNECTOR_ALLOWED_ORIGINS"
    )
    api_token: SecretStr | None = Field(None, validation_alias="CONNECTOR_API_TOKEN")
    api_token_scope: TokenScope = Field("all", validation_alias="CONNECTOR_API_TOKEN_SCOPE")
    # The start-up value of the runtime setting "Programs need a key" (connector.api.access).
    programs_need_key: bool = Field(False, validation_alias="CONNECTOR_PROGRAMS_NEED_KEY")

    connect_timeout: float = Field(5.0, validation_alias="CONNECTOR_CONNECT_TIMEOUT", gt=0)
    # Long on purpose: a model's first load plus a long generation can take minutes.
    read_timeout: float = Field(600.0, validation_alias="CONNECTOR_READ_TIMEOUT", gt=0)
    models_timeout: float = Field(3.0, validation_alias="CONNECTOR_MODELS_TIMEOUT", gt=0)
    # Between two chunks of a stream that has started: a model that has begun to answer
    # and then says nothing this long is stuck (the read timeout covers the first load).
    idle_timeout: float = Field(60.0, validation_alias="CONNECTOR_IDLE_TIMEOUT", gt=0)
    # On SIGTERM/SIGINT/window close: how long running requests may still finish before
    # each is ended with a `server_shutting_down` error in its own protocol.
    shutdown_grace: float = Field(5.0, validation_alias="CONNECTOR_SHUTDOWN_GRACE", ge=0)

    default_provider: ProviderName = Field("ollama", validation_alias="CONNECTOR_DEFAULT_PROVIDER")
    default_model: str = Field("gpt-oss:20b", validation_alias="CONNECTOR_DEFAULT_MODEL")
    reference_model: str = Field("gpt-4o-mini", validation_alias="CONNECTOR_REFERENCE_MODEL")

    max_body_bytes: int = Field(4 * 1024 * 1024, validation_alias="CONNECTOR_MAX_BODY_BYTES", gt=0)
    key_store: KeyStore = Field("auto", validation_alias="CONNECTOR_KEY_STORE")
    log_level: str = Field("info", validation_alias="CONNECTOR_LOG_LEVEL")

    @field_validator("allowed_hosts", "allowed_origins", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("openai_api_key", "api_token", "endpoints_json", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'connector.db'}"

    @property
    def is_loopback_bind(self) -> bool:
        return self.host in LOOPBACK_HOSTS
