"""What every dialect shares: the client-visible error message, and compact JSON
(`connector.json_text`, which the database's writers use too)."""

from __future__ import annotations

from connector.errors import ConnectorError
from connector.json_text import dumpb, dumps
from connector.redact import redact

__all__ = ["dumpb", "dumps", "public_message"]


def public_message(exc: ConnectorError) -> str:
    """The message a client may see, whatever the dialect: secrets scrubbed."""
    return redact(exc.message)
