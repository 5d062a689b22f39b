"""Small helpers for talking to a live connector in tests."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

DONE = "[DONE]"
COLOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"colors": {"type": "array", "items": {"type": "string"}}},
    "required": ["colors"],
}
COLOR_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "color_list", "schema": COLOR_SCHEMA},
}
# What the fake answers for the recorded exchanges (tests/data).
# Seconds between the fake upstream's streamed pieces for tests that count deltas: each
# piece then arrives in a network read of its own (pieces that arrive together travel
# on as one delta: providers/base.py, ProviderChunk.absorb).
PACED = 0.01
OLLAMA_TEXT = "The sky appears blue because of a phenomenon called Rayleigh scattering."
OLLAMA_THINKING = 'The user asks: "What is 1+1?" Simple arithmetic. Answer: 2.'
OLLAMA_THINKING_ANSWER = "1 + 1 = **2**."
OPENAI_TEXT = "Hello! How can I assist you today?"
ERROR_KEYS = {"message", "type", "param", "code"}


def chat_body(content: str = "Hi", **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": content}], **extra}


def parse_sse(lines: Iterable[str]) -> list[Any]:
    """The `data:` payloads of an SSE stream, JSON-decoded; `[DONE]` stays a string."""
    events: list[Any] = []
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[len("data:") :].strip()
        events.append(DONE if data == DONE else json.loads(data))
    return events


def sse_events(response: httpx.Response) -> list[Any]:
    return parse_sse(response.text.splitlines())


def deltas(events: list[Any], field: str) -> str:
    """Join one delta field over all chunk events."""
    return "".join(
        (e["choices"][0]["delta"].get(field) or "")
        for e in events
        if isinstance(e, dict) and e.get("choices")
    )


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response has `status` and an OpenAI error object; returns the inner error."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == ERROR_KEYS, error
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["type"], str) and error["type"], error
    return dict(error)


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, step: float = 0.05) -> Any:
    """Poll until `predicate()` is truthy; returns its last value."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(step)
        value = predicate()
    return value


def ws_url(base: str, path: str) -> str:
    return "ws" + base[len("http") :] + path
