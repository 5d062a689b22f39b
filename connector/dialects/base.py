"""What every dialect shares: the client-visible error message, and compact JSON."""

from __future__ import annotations

import json
from typing import Any

from connector.errors import ConnectorError
from connector.redact import redact


def public_message(exc: ConnectorError) -> str:
    """The message a client may see, whatever the dialect: secrets scrubbed."""
    return redact(exc.message)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
