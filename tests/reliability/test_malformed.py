"""Malformed input is the client's error (400/422 in its own shape), never a 500, and
a structured answer cut by the token limit says so."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import COLOR_FORMAT, assert_error

PROVIDERS = ["ollama", "openai"]


def _with_history(history: list[dict[str, Any]], provider: str = "ollama") -> dict[str, Any]:
    return {"provider": provider, "messages": [*history, {"role": "user", "content": "Go on"}]}


def _tool_turn(arguments: str) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]


def _image(url: str) -> list[dict[str, Any]]:
    return [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": url}},
            ],
        }
    ]


@pytest.mark.parametrize(
    ("history", "fragment"),
    [
        (_tool_turn('{"city": "Par'), "arguments must be a JSON object"),
        (_tool_turn("[1, 2]"), "arguments must be a JSON object"),
        (_image("data:image/png;base64,@@not base64@@"), "not valid base64"),
        (_image("https://example.com/cat.png"), "base64 data URLs"),
    ],
    ids=["tool-arguments-not-json", "tool-arguments-not-object", "image-not-base64", "image-link"],
)
def test_malformed_history_for_ollama_is_400(
    shared_live_server: str, upstream: FakeUpstream, history: list[Any], fragment: str
) -> None:
    for path in ("/chat/completions", "/chat/completions/stream"):
        response = httpx.post(f"{shared_live_server}{path}", json=_with_history(history))
        error = assert_error(response, 400)
        assert fragment in error["message"] and error["param"] == "messages", error
    assert not upstream.requests_to("/api/chat")  # refused before any upstream call


@pytest.mark.parametrize(
    "body",
    [
        {"messages": [{"role": "wizard", "content": "hi"}]},
        {"messages": [{"role": "user", "content": 42}]},
        {"messages": []},
        {"messages": [{"role": "user", "content": "hi"}], "keep_alive": [1]},
        {"messages": [{"role": "user", "content": "hi"}], "stream": "yes please"},
        {"messages": [{"role": "user", "content": "hi"}], "model": "x" * 10_000},
    ],
    ids=["unknown-role", "content-type", "no-messages", "keep-alive-type", "stream-type", "huge"],
)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_wrong_types_are_422(shared_live_server: str, body: dict[str, Any], provider: str) -> None:
    response = httpx.post(
        f"{shared_live_server}/chat/completions", json={"provider": provider, **body}
    )
    assert_error(response, 422)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_nul_bytes_and_huge_strings_are_never_a_500(shared_live_server: str, provider: str) -> None:
    history = [
        {"role": "system", "content": "be\x00 brief"},
        {"role": "user", "content": "\x00" * 1000 + "x" * 1_000_000},
        {"role": "assistant", "content": "ok\x00", "name": "a\x00b"},
    ]
    response = httpx.post(
        f"{shared_live_server}/chat/completions", json=_with_history(history, provider)
    )
    assert response.status_code < 500, response.text[:500]


def test_usage_until_of_the_wrong_type_is_422(shared_live_server: str) -> None:
    response = httpx.get(f"{shared_live_server}/usage", params={"until": "tomorrow-ish"})
    assert_error(response, 422)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_structured_output_cut_by_the_token_limit_says_so(
    shared_live_server: str, upstream: FakeUpstream, provider: str
) -> None:
    upstream.scenario = "structured_cut"
    body = {
        "provider": provider,
        "messages": [{"role": "user", "content": "List three colors."}],
        "response_format": COLOR_FORMAT,
        "max_tokens": 12,
    }
    error = assert_error(httpx.post(f"{shared_live_server}/chat/completions", json=body), 502)
    message = error["message"]
    assert "cut at the token limit (12 tokens)" in message, message
    assert "Raise max_completion_tokens" in message
    assert "at at" not in message
