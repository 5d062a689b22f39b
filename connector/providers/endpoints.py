"""Endpoints: the named upstreams the connector routes to, and aliases over them.

An endpoint is a name, a kind (which provider class speaks to it: `ollama`,
`openai-compatible`; see `registry.KINDS`), a base URL, an optional key (kept by
`connector.endpoint_keys`, never here), whether it is enabled, an optional model filter
and how its usage is priced: `cloud` (the model's price) or `local` (free, counted as
saved against the reference model). "Saved" is a property of the endpoint, not of a name.

Where they come from, later ones replacing earlier ones of the same name:
  1. the seed's variables: OLLAMA_BASE_URL -> `ollama`, OPENAI_BASE_URL/OPENAI_API_KEY
     -> `openai` (the configuration defaults; nothing else names them);
  2. CONNECTOR_ENDPOINTS (JSON) or the file CONNECTOR_ENDPOINTS_FILE: a list of
     endpoints, or `{"endpoints": [...], "aliases": {NAME: TARGET | [TARGETS]}}`;
  3. what was saved through the Settings API (the whole list, once edited there).

An alias stands for a model: `fast` -> `ollama/gpt-oss:20b`; a glob such as
`claude-haiku-*` matches fixed names clients send. A list is a fallback order.
"""

from __future__ import annotations

import fnmatch
import json
import logging
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, field_validator

from connector.config import Settings

log = logging.getLogger(__name__)

Pricing = Literal["cloud", "local"]
EndpointName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")]
_URL_PREFIXES = ("http://", "https://")

# The seed's endpoints (configuration defaults): their names, kinds and pricing, and the
# runtime settings that still set their base URLs (`POST /settings`).
SEED_OLLAMA = "ollama"
SEED_OPENAI = "openai"
LEGACY_URL_SETTINGS = {"ollama_base_url": SEED_OLLAMA, "openai_base_url": SEED_OPENAI}


def clean_url(value: str) -> str:
    value = value.strip().rstrip("/")
    if not value.startswith(_URL_PREFIXES) or len(value) <= len("https://") or " " in value:
        raise ValueError("must be an http:// or https:// URL")
    return value


class EndpointConfig(BaseModel):
    """One upstream. The key is write-only: given here by CONNECTOR_ENDPOINTS (or the
    Settings API), it goes to the key store and is never dumped or answered."""

    model_config = ConfigDict(extra="forbid")

    name: EndpointName
    kind: str = Field(min_length=1, max_length=32)
    base_url: str
    enabled: bool = True
    # Glob patterns of the model names offered; empty: every model the upstream lists.
    models: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=100
    )
    pricing: Pricing | None = None  # None: the kind's default (ollama: local)
    # The kind `openai-compatible` sends a key; a local server that wants none
    # (llama.cpp, vLLM, LM Studio) is reached without one when this is false.
    key_required: bool | None = None
    api_key: SecretStr | None = Field(default=None, exclude=True)
    api_key_file: Path | None = Field(default=None, exclude=True)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return clean_url(value)

    def offers(self, model: str) -> bool:
        return not self.models or any(fnmatch.fnmatchcase(model, p) for p in self.models)

    def configured_key(self) -> str | None:
        """The key given with the configuration (env JSON or its file), if any."""
        if self.api_key_file is not None:
            try:
                return self.api_key_file.read_text().strip() or None
            except OSError as exc:
                log.error("Cannot read the key file of endpoint %s: %s", self.name, exc.strerror)
        return self.api_key.get_secret_value() if self.api_key else None


Target = Annotated[str, Field(min_length=1, max_length=240)]


class AliasConfig(BaseModel):
    """A name (or glob) standing for one model or a fallback list of them."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    targets: list[Target] = Field(min_length=1, max_length=8)

    @property
    def is_glob(self) -> bool:
        return any(c in self.name for c in "*?[")

    def matches(self, model: str) -> bool:
        if self.is_glob:
            return fnmatch.fnmatchcase(model, self.name)
        return model == self.name


class EndpointFile(BaseModel):
    """What CONNECTOR_ENDPOINTS / CONNECTOR_ENDPOINTS_FILE hold."""

    model_config = ConfigDict(extra="forbid")

    endpoints: list[EndpointConfig] = Field(default_factory=list)
    aliases: dict[str, Target | list[Target]] = Field(default_factory=dict)


_FILE = TypeAdapter(EndpointFile | list[EndpointConfig])


def parse_endpoint_file(text: str) -> EndpointFile:
    parsed = _FILE.validate_json(text)
    return parsed if isinstance(parsed, EndpointFile) else EndpointFile(endpoints=parsed)


def aliases_of(mapping: dict[str, str | list[str]]) -> list[AliasConfig]:
    return [
        AliasConfig(name=name, targets=[target] if isinstance(target, str) else target)
        for name, target in mapping.items()
    ]


def seed_endpoints(settings: Settings) -> list[EndpointConfig]:
    """The two endpoints the seed's variables define."""
    return [
        EndpointConfig(
            name=SEED_OLLAMA, kind="ollama", base_url=settings.ollama_base_url, pricing="local"
        ),
        EndpointConfig(
            name=SEED_OPENAI,
            kind="openai-compatible",
            base_url=settings.openai_base_url,
            pricing="cloud",
            key_required=True,
        ),
    ]


def configured(settings: Settings) -> tuple[list[EndpointConfig], list[AliasConfig]]:
    """The start-up endpoints and aliases: the seed's, then CONNECTOR_ENDPOINTS (or its
    file) over them. A malformed value fails the start, naming the variable."""
    by_name = {e.name: e for e in seed_endpoints(settings)}
    aliases: list[AliasConfig] = []
    text: str | None = None
    source = "CONNECTOR_ENDPOINTS"
    if settings.endpoints_file is not None:
        source = "CONNECTOR_ENDPOINTS_FILE"
        text = settings.endpoints_file.read_text()
    elif settings.endpoints_json is not None:
        text = settings.endpoints_json.get_secret_value()
    if text and text.strip():
        try:
            extra = parse_endpoint_file(text)
        except ValueError as exc:
            raise ValueError(f"{source} is not a valid endpoint list: {exc}") from exc
        for endpoint in extra.endpoints:
            by_name[endpoint.name] = endpoint
        aliases = aliases_of(extra.aliases)
    return list(by_name.values()), aliases


def dump_endpoints(endpoints: list[EndpointConfig]) -> str:
    """The list as stored in the database: never a key."""
    return json.dumps([e.model_dump(mode="json") for e in endpoints])


def load_endpoints(text: str) -> list[EndpointConfig]:
    data: Any = json.loads(text)
    return [EndpointConfig.model_validate(item) for item in data]


def dump_aliases(aliases: list[AliasConfig]) -> str:
    return json.dumps([a.model_dump(mode="json") for a in aliases])


def load_aliases(text: str) -> list[AliasConfig]:
    data: Any = json.loads(text)
    return [AliasConfig.model_validate(item) for item in data]
