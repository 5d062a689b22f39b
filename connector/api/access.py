"""Which routes are which: the one place that sorts every path into three kinds.

- **public**: the SPA's page and static files, `/healthz` (no credential ever);
- **model API**: what programs call to use models, in every dialect the server
  speaks: the chat routes (`/chat/completions*`, `/v1/*` with `/v1/messages` and
  `/v1/responses`, `/responses*`, Ollama's `/api/*`), the model lists (`/models`,
  `/v1/models`), embeddings, and what a client may read about its own use
  (`GET /usage*`, `/ws/monitoring`) and `/ws/chat`;
- **admin**: everything else: settings and keys, the profile, conversations,
  model pulls and deletes (`/models/pull`, Ollama's `/api/pull` and friends),
  connection tests, the desktop app's own routes, the API docs. Unknown paths are
  admin, so a new route is guarded until it is put in the model API on purpose.

`SecurityMiddleware` decides with `classify`; the desktop app then opens the model
API to programs on loopback while its per-launch token keeps guarding the admin
surface. `served_dialects` says which client dialects this server has, from its
routes, so the UI only offers snippets for those.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from starlette.routing import BaseRoute, Match

from connector.schemas.settings import Dialect

Access = Literal["public", "model", "admin"]

_PUBLIC_PATHS = frozenset({"/", "/healthz", "/app", "/favicon.ico", "/favicon.svg"})
_PUBLIC_PREFIXES = ("/app/", "/assets/")

# Model API by prefix, any method (a WebSocket handshake counts as GET).
_MODEL_PREFIXES = ("/v1/", "/chat/completions", "/responses", "/embeddings")
_MODEL_PATHS = frozenset({"/ws/chat", "/ws/monitoring"})
# Model API for reading only.
_MODEL_READ_PATHS = frozenset({"/models", "/usage"})
_MODEL_READ_PREFIXES = ("/usage/",)
# Ollama's API is the model API, except what changes the models on this machine:
# pulling, pushing, creating, copying and deleting stay with the admin.
_OLLAMA_PREFIX = "/api/"
_OLLAMA_ADMIN = frozenset(
    {"/api/pull", "/api/push", "/api/create", "/api/copy", "/api/delete", "/api/blobs"}
)
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What programs use on the model API's paths; anything else there (PUT, TRACE, …) is
# no model call and is treated as admin, so it never slips through as "open".
_MODEL_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "DELETE"})

# The route that proves a dialect is served (checked against the app's routes).
_DIALECT_ROUTES: dict[Dialect, str] = {
    "openai_chat": "/v1/chat/completions",
    "embeddings": "/v1/embeddings",
    "anthropic": "/v1/messages",
    "responses": "/v1/responses",
    "ollama": "/api/chat",
}


def is_public(path: str) -> bool:
    return path in _PUBLIC_PATHS or path.startswith(_PUBLIC_PREFIXES)


def is_model_api(method: str, path: str) -> bool:
    """True for the routes a program calls to use models (see the module docstring)."""
    method = method.upper()
    if method not in _MODEL_METHODS:
        return False
    if path.startswith(_OLLAMA_PREFIX):
        return not (path in _OLLAMA_ADMIN or path.startswith("/api/blobs/"))
    if path in _MODEL_PATHS or path.startswith(_MODEL_PREFIXES):
        return True
    if method in _READ_METHODS:
        return path in _MODEL_READ_PATHS or path.startswith(_MODEL_READ_PREFIXES)
    return False


def classify(method: str, path: str) -> Access:
    if is_public(path):
        return "public"
    return "model" if is_model_api(method, path) else "admin"


def available_dialects(paths: Iterable[str]) -> list[Dialect]:
    """The client dialects whose routes `paths` (an app's route paths) include."""
    have = set(paths)
    return [dialect for dialect, path in _DIALECT_ROUTES.items() if path in have]


def served_dialects(routes: Iterable[BaseRoute]) -> list[Dialect]:
    """The client dialects an app's `routes` serve: each dialect's route is looked for
    as the router would look for it. (Reading the paths from the app's OpenAPI document
    built the whole document, half a second, on the first GET /settings: the UI's
    first page asks for it.)"""
    routes = list(routes)

    def served(path: str) -> bool:
        scope = {"type": "http", "method": "POST", "path": path, "root_path": ""}
        return any(route.matches(scope)[0] is not Match.NONE for route in routes)

    return available_dialects(path for path in _DIALECT_ROUTES.values() if served(path))
