"""What every dialect shares: the client-visible error message, and compact JSON."""

from __future__ import annotations

import json
from typing import Any

import orjson

from connector.errors import ConnectorError
from connector.redact import redact


def public_message(exc: ConnectorError) -> str:
    """The message a client may see, whatever the dialect: secrets scrubbed."""
    return redact(exc.message)


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
