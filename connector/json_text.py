"""Compact JSON as the connector writes it, for clients and for the database alike."""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumpb(value: Any) -> bytes:
    """Compact JSON as UTF-8. orjson writes a streamed piece in about 0.5 us against 7
    for `json`; `json` still writes what orjson refuses (integers past 64 bits,
    non-string keys)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def dumps(value: Any) -> str:
    return dumpb(value).decode()
