"""Reading OpenAI Responses streams and comparing responses in tests."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import httpx

# Fields that differ between two answers to the same request.
_VOLATILE = {"id", "item_id", "created_at", "completed_at", "call_id"}


def parse_events(lines: Iterable[str]) -> list[dict[str, Any]]:
    """`event:` + `data:` frames as their JSON payloads; each frame's `event:` name must
    equal its payload's `type` (Codex dispatches on one, the SDK on the other)."""
    events: list[dict[str, Any]] = []
    name: str | None = None
    for line in lines:
        if line.startswith("event:"):
            name = line[len("event:") :].strip()
        elif line.startswith("data:"):
            payload = json.loads(line[len("data:") :].strip())
            assert name == payload["type"], (name, payload)
            events.append(payload)
            name = None
    return events


def read_events(client: httpx.Client, url: str, body: dict[str, Any], **kw: Any) -> list[Any]:
    with client.stream("POST", url, json=body, **kw) as response:
        assert response.status_code == 200, response.read()[:500]
        assert response.headers["content-type"].startswith("text/event-stream")
        return parse_events(response.iter_lines())


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def collapse(names: Sequence[str]) -> list[str]:
    """Event types with runs of the same delta event folded into one."""
    out: list[str] = []
    for name in names:
        if not (out and out[-1] == name and name.endswith(".delta")):
            out.append(name)
    return out


def shape(value: Any) -> Any:
    """`value` without what differs between two answers (ids, times)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return value
