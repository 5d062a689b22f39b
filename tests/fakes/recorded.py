"""Recorded upstream bodies from tests/data, loaded once."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@cache
def _raw(relative: str) -> str:
    return (DATA_DIR / relative).read_text(encoding="utf-8")


def load_json(relative: str) -> Any:
    """A fresh copy each call, so handlers may edit it."""
    return copy.deepcopy(_load_json_cached(relative))


@cache
def _load_json_cached(relative: str) -> Any:
    return json.loads(_raw(relative))


def load_ndjson(relative: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in _raw(relative).splitlines() if line.strip()]


def load_sse(relative: str) -> list[dict[str, Any]]:
    """The JSON payloads of an SSE body, without the final `[DONE]`."""
    frames = []
    for line in _raw(relative).splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            frames.append(json.loads(line[len("data: ") :]))
    return frames
