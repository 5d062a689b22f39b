"""Logging to the platform's log folder, rotated, with secrets masked.

A windowed app has no console (on Windows `sys.stderr` may be None), so the file is
the log; headless runs also log to stderr for whoever started them.
"""

from __future__ import annotations

import logging
import re
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from platformdirs import user_log_dir

LOG_FILE = "ai-connector.log"
MAX_BYTES = 1_000_000
BACKUPS = 3

# WebSocket URLs carry the API token as `?token=`; uvicorn logs the path it accepted.
_TOKEN_IN_URL = re.compile(r"(token=)[^&\s\"']+")
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+")


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _BEARER.sub(r"\1***", _TOKEN_IN_URL.sub(r"\1***", message))
        if masked != message:
            record.msg, record.args = masked, None
        return True


def log_dir() -> Path:
    return Path(user_log_dir("ai-connector", appauthor=False))


def setup_logging(level: str = "info", *, console: bool) -> Path:
    """Route every logger (ours, uvicorn's, the connector's) to the rotating file."""
    directory = log_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOG_FILE
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    redact = RedactSecrets()

    handlers: list[logging.Handler] = []
    file_handler = RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    handlers.append(file_handler)
    if console and sys.stderr is not None:
        handlers.append(logging.StreamHandler(sys.stderr))

    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    for handler in handlers:
        handler.setFormatter(fmt)
        handler.addFilter(redact)
        root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's loggers must reach the root handlers above.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return path
