"""Structured output: find the JSON in a model's final text and validate it."""

from __future__ import annotations

import json
import re
from typing import Any

from connector.errors import BadRequestError, StructuredOutputError
from connector.schemas import ResponseFormat

_FENCE = re.compile(r"^\s*```(?:json|JSON)?\s*\n(.*?)\n?\s*```\s*$", re.DOTALL)
_MAX_RAW = 2000


def requested_schema(fmt: ResponseFormat | None) -> tuple[bool, dict[str, Any] | None]:
    """(json wanted, schema). Raises 400 for a schema that is itself invalid."""
    if fmt is None or fmt.type == "text":
        return False, None
    if fmt.type == "json_object":
        return True, None
    schema = fmt.json_schema.schema_ if fmt.json_schema else None
    if schema is None:
        return True, None
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for

    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        raise BadRequestError(
            f"response_format.json_schema.schema is not a valid JSON Schema: {exc.message}",
            param="response_format",
        ) from exc
    return True, schema


def _json_path(path: Any) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _cut_message(token_limit: int | None) -> str:
    limit = f" ({token_limit} tokens)" if token_limit is not None else ""
    return (
        f"The model's output was cut at the token limit{limit} before the JSON was "
        "complete. Raise max_completion_tokens (or max_tokens), or ask for a shorter "
        "answer."
    )


def parse_and_validate(
    text: str,
    schema: dict[str, Any] | None,
    *,
    truncated: bool = False,
    token_limit: int | None = None,
) -> Any:
    """Parse the model's text (a ```json fence is tolerated) and validate it.
    `truncated`: the generation stopped at its token limit (finish_reason `length`),
    which is then what a failure is blamed on."""
    raw = text.strip()
    fenced = _FENCE.match(raw)
    candidate = fenced.group(1) if fenced else raw
    shown = raw if len(raw) <= _MAX_RAW else raw[:_MAX_RAW] + "…"
    try:
        value = json.loads(candidate)
    except json.JSONDecodeError as exc:
        reason = (
            _cut_message(token_limit)
            if truncated
            else f"The model's output is not valid JSON ({exc.msg}: line {exc.lineno} "
            f"column {exc.colno})."
        )
        raise StructuredOutputError(
            f"{reason} Raw output: {shown}",
            raw=raw,
            path="$",
            param="max_completion_tokens" if truncated else None,
        ) from exc
    if schema is None:
        if not isinstance(value, dict):
            raise StructuredOutputError(
                f"The model's output at $ is not a JSON object. Raw output: {shown}",
                raw=raw,
                path="$",
            )
        return value
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for

    error = best_match(validator_for(schema)(schema).iter_errors(value))
    if error is not None:
        path = _json_path(error.absolute_path)
        cut = f" {_cut_message(token_limit)}" if truncated else ""
        raise StructuredOutputError(
            f"The model's output failed the schema at {path}: {error.message}.{cut} "
            f"Raw output: {shown}",
            raw=raw,
            path=path,
            param="response_format",
        )
    return value
