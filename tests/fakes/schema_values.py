"""Build a JSON value that matches a JSON schema, or one that fails it at a known path.

The fake upstreams answer structured-output requests with these, the way a model
constrained by the schema would.
"""

from __future__ import annotations

from typing import Any

# Words a model would plausibly use for well-known property names.
_WORDS: dict[str, Any] = {
    "colors": ["red", "green", "blue"],
    "colours": ["red", "green", "blue"],
    "name": "Canada",
    "capital": "Ottawa",
    "languages": ["English", "French"],
    "city": "Paris",
    "email": "ada@example.com",
}


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        return _resolve(target, root)
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            non_null = [o for o in options if o.get("type") != "null"]
            return _resolve((non_null or options)[0], root)
    return schema


def _type_of(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
        return "string"
    return str(kind)


def valid_value(schema: dict[str, Any], root: dict[str, Any] | None = None, key: str = "") -> Any:
    """A value that validates against `schema`."""
    root = root if root is not None else schema
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    kind = _type_of(schema)
    if kind == "object":
        props: dict[str, Any] = schema.get("properties") or {}
        return {name: valid_value(sub, root, name) for name, sub in props.items()}
    if kind == "array":
        items = schema.get("items") or {}
        word = _WORDS.get(key)
        count = max(int(schema.get("minItems", 0)), 2 if word is None else len(word))
        count = min(count, int(schema.get("maxItems", count)))
        if isinstance(word, list) and _type_of(_resolve(items, root)) == "string":
            return [word[i % len(word)] for i in range(count)]
        return [valid_value(items, root, key) for _ in range(count)]
    if kind == "integer":
        number = int(schema.get("minimum", 1))
        return min(number, int(schema["maximum"])) if "maximum" in schema else number
    if kind == "number":
        return float(schema.get("minimum", 1.5))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    word = _WORDS.get(key)
    text = word if isinstance(word, str) else "example"
    min_len = int(schema.get("minLength", 0))
    return text if len(text) >= min_len else text + "x" * (min_len - len(text))


def _wrong_type(schema: dict[str, Any], root: dict[str, Any]) -> Any:
    kind = _type_of(_resolve(schema, root))
    if kind in ("string",):
        return 12345
    if kind in ("integer", "number", "boolean"):
        return "not-a-number"
    if kind == "array":
        return "not-a-list"
    return ["not-an-object"]


def invalid_value(schema: dict[str, Any]) -> tuple[Any, str]:
    """A value that fails `schema`, and the path (dotted, "" for the root) that fails."""
    resolved = _resolve(schema, schema)
    if _type_of(resolved) == "object":
        props: dict[str, Any] = resolved.get("properties") or {}
        required = [r for r in resolved.get("required") or [] if r in props]
        target = (required or list(props))[:1]
        if target:
            value = valid_value(resolved, schema)
            value[target[0]] = _wrong_type(props[target[0]], schema)
            return value, target[0]
    return _wrong_type(resolved, schema), ""
