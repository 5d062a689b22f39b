"""Runtime settings and the user profile."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    computed_field,
    field_validator,
)

from connector.config import ProviderName

KeyStorage = Literal["keyring", "memory", "env", "file", "none"]
# What a program on this machine must send to use the model API: nothing, the
# programs' key (Settings), or the server's CONNECTOR_API_TOKEN.
ProgramAccess = Literal["open", "program_key", "api_token"]
# A client protocol the server may speak (connector.api.access.available_dialects).
Dialect = Literal["openai_chat", "embeddings", "anthropic", "responses", "ollama"]


class ApiKeyStatus(BaseModel):
    set: bool
    hint: str | None = Field(None, description="The key's last 4 characters, e.g. `…abcd`.")
    storage: KeyStorage


class ListenAddress(BaseModel):
    host: str
    port: int

    @computed_field(description="The base address programs on this machine use.")  # type: ignore[prop-decorator]
    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "[::]", "") else self.host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}"


class SettingsPublic(BaseModel):
    openai_api_key: ApiKeyStatus
    openai_base_url: str
    ollama_base_url: str
    default_provider: ProviderName
    default_model: str
    reference_model: str
    keyring_available: bool
    listen: ListenAddress
    programs_need_key: bool = Field(
        description="The runtime setting: the model API wants the programs' key."
    )
    program_key: ApiKeyStatus = Field(
        description="The programs' key, masked; `POST /settings/program-key/reveal` shows it."
    )
    program_access: ProgramAccess
    dialects: list[Dialect] = Field(
        description="The client dialects this server has routes for (from its routes)."
    )


class ProgramKeyReveal(BaseModel):
    """The programs' key itself: only from the admin-only POST routes, never a GET."""

    key: str


_URL_RE = re.compile(r"^https?://[^\s/]+(/[^\s]*)?$")


class SettingsUpdate(BaseModel):
    """Any subset of the runtime settings. `openai_api_key: ""` clears the key."""

    model_config = ConfigDict(extra="forbid")

    # Printable ASCII without spaces: the key travels in an HTTP header, where any other
    # character fails every later request (and no provider issues such keys).
    openai_api_key: str | None = Field(
        None, json_schema_extra={"writeOnly": True}, max_length=500, pattern=r"^[!-~]*$"
    )
    openai_base_url: str | None = None
    ollama_base_url: str | None = None
    default_provider: ProviderName | None = None
    default_model: str | None = Field(None, min_length=1, max_length=200)
    reference_model: str | None = Field(None, min_length=1, max_length=200)
    # Strict: "yes" or 1 is not the boolean the contract says.
    programs_need_key: StrictBool | None = None

    @field_validator("openai_base_url", "ollama_base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not _URL_RE.match(value):
            raise ValueError("must be an http:// or https:// URL")
        return value


_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ProfilePublic(BaseModel):
    display_name: str = ""
    email: str = ""


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str = Field("", max_length=100)
    email: str = Field("", max_length=254)

    @field_validator("display_name")
    @classmethod
    def _name(cls, value: str) -> str:
        return value.strip()

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip()
        if value and not _EMAIL_RE.match(value):
            raise ValueError("is not a valid email address")
        return value
