"""`python -m connector.openapi`: print the OpenAPI schema (for the UI's typed client)."""

from __future__ import annotations

import json
import sys
from typing import Any

from connector.config import Settings
from connector.main import create_app
from connector.schemas.ws import json_schemas

_OPAQUE = {"additionalProperties": True, "type": "object"}


def with_ws_messages(schema: dict[str, Any]) -> dict[str, Any]:
    """Adds the WebSocket messages to `components.schemas` (no path can describe them).
    A schema the HTTP routes already define keeps the routes' version (the same model),
    unless that says only "an object": a model with a custom serializer (a stream chunk)
    then gets its fields from the validation schema."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in json_schemas().items():
        if components.get(name, _OPAQUE) == _OPAQUE:
            components[name] = definition
    return schema


def main() -> None:
    schema = with_ws_messages(create_app(Settings(openai_api_key=None, api_token=None)).openapi())
    json.dump(schema, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
