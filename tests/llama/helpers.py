"""Requests the llama tier sends, chosen so SmolLM2-135M answers them deterministically
(temperature 0, fixed seed) and briefly on two CPU cores."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.service.helpers import COLOR_SCHEMA, parse_sse
from tests.service.helpers import DONE as DONE  # re-exported for the tier's tests

MODEL = "openai/smollm2"
SEED = 7

# Answers "The capital of France is Paris." and stops by itself (8 tokens).
SHORT_PROMPT = "What is the capital of France? Answer briefly."
# Keeps going past any max_tokens the tier uses.
LONG_PROMPT = "Write a long story about a dragon."
# Phrased so the tiny model closes the array instead of listing colours forever.
COLORS_PROMPT = "Return a JSON object with a list of three colors: red, green, blue."
COLOR_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "color_list", "schema": COLOR_SCHEMA},
}
PERSON_PROMPT = "Describe Bob, a viewer from Berlin, as JSON."
PERSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 20},
        "role": {"type": "string", "enum": ["admin", "editor", "viewer"]},
        "address": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "maxLength": 20},
                "country": {"type": "string", "enum": ["FR", "DE", "US"]},
            },
            "required": ["city", "country"],
            "additionalProperties": False,
        },
        "active": {"type": "boolean"},
    },
    "required": ["name", "role", "address", "active"],
    "additionalProperties": False,
}
PERSON_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "person", "strict": True, "schema": PERSON_SCHEMA},
}


def body(prompt: str = SHORT_PROMPT, max_tokens: int = 24, **extra: Any) -> dict[str, Any]:
    """A chat request as the connector takes it (`openai/` selects the provider)."""
    return {
        "model": MODEL,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "seed": SEED,
        **extra,
    }


def upstream_body(request: dict[str, Any]) -> dict[str, Any]:
    """The same request as sent straight to llama-server."""
    return {**request, "model": request["model"].split("/", 1)[1]}


def usage_numbers(usage: dict[str, Any]) -> tuple[int, int, int]:
    return usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]


@dataclass
class TimedStream:
    """An SSE stream read frame by frame, each with its arrival time (perf_counter)."""

    started: float
    events: list[Any] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)

    def content_times(self) -> list[float]:
        return [
            at
            for event, at in zip(self.events, self.arrivals, strict=True)
            if isinstance(event, dict)
            and event.get("choices")
            and event["choices"][0]["delta"].get("content")
        ]

    @property
    def text(self) -> str:
        return "".join(
            e["choices"][0]["delta"].get("content") or ""
            for e in self.events
            if isinstance(e, dict) and e.get("choices")
        )


def iter_events(response: httpx.Response) -> Iterator[Any]:
    for line in response.iter_lines():
        yield from parse_sse([line])


def read_stream(client: httpx.Client, url: str, request: dict[str, Any]) -> TimedStream:
    started = time.perf_counter()
    timed = TimedStream(started=started)
    with client.stream("POST", url, json=request) as response:
        assert response.status_code == 200, response.read()[:500]
        assert response.headers["content-type"].startswith("text/event-stream")
        for event in iter_events(response):
            timed.events.append(event)
            timed.arrivals.append(time.perf_counter())
    return timed


def latest_records(connector: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{connector}/usage", timeout=10)
    response.raise_for_status()
    return list(response.json()["recent"])
