"""Keeps secrets (the OpenAI key, the API token) out of log lines and error bodies."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable

_sources: list[Callable[[], Iterable[str]]] = []
_installed = False


def redact(text: str) -> str:
    for source in _sources:
        for secret in source():
            if secret and secret in text:
                text = text.replace(secret, "***")
    return text


# Credentials that may sit in a body a client sent (a pasted key, a tool's config):
# OpenAI/Anthropic-style keys, the connector's own keys, bearer headers copied in.
_CREDENTIAL = re.compile(
    r"(?:\bsk-[A-Za-z0-9_\-]{16,}|\baic[-_][A-Za-z0-9_\-]{20,}|(?i:bearer)\s+[A-Za-z0-9._~+/\-]{16,}=*)"
)


def scrub(text: str) -> str:
    """`redact`, and anything shaped like an API key or a bearer token: for text kept
    on behalf of a client (the request log)."""
    return _CREDENTIAL.sub("***", redact(text))


def add_secret_source(source: Callable[[], Iterable[str]]) -> Callable[[], None]:
    """Register a callable returning current secrets; returns its remover."""
    _sources.append(source)
    _install()

    def remove() -> None:
        if source in _sources:
            _sources.remove(source)

    return remove


def _install() -> None:
    """Redact at record creation, so every handler (uvicorn's access log with a WS
    `?token=` query included) sees the scrubbed text."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _sources:
            try:
                message = record.getMessage()
            except Exception:
                return record
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return record

    logging.setLogRecordFactory(factory)
