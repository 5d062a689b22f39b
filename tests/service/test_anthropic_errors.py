"""Errors on `/v1/messages*` in Anthropic's shape, with its statuses, as the official
SDK's typed exceptions see them; token auth with `x-api-key` and with Bearer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import pytest
from anthropic.types import MessageParam

from connector.config import Settings
from tests.fakes.upstream import FakeUpstream

HI: list[MessageParam] = [{"role": "user", "content": "Hi"}]
BODY: dict[str, Any] = {"model": "ollama/gpt-oss:20b", "max_tokens": 16, "messages": HI}
CHOOSE_A_MODEL = (
    "--model",
    "ANTHROPIC_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_SMALL_FAST_MODEL",
)


@pytest.fixture
def client(shared_live_server: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=shared_live_server, api_key="sk-ant-local", max_retries=0)


def assert_anthropic_error(response: httpx.Response, status: int, kind: str) -> str:
    """The response is Anthropic's error object with `status` and type `kind`."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = response.json()
    assert set(body) == {"type", "error"} and body["type"] == "error", body
    assert set(body["error"]) == {"type", "message"}, body
    assert body["error"]["type"] == kind, body
    message = body["error"]["message"]
    assert isinstance(message, str) and message
    return message


@pytest.mark.parametrize("stream", [False, True], ids=["blocking", "stream"])
def test_claude_model_no_provider_has_says_how_to_choose_one(
    client: anthropic.Anthropic, upstream: FakeUpstream, stream: bool
) -> None:
    upstream.scenario = "not_found"
    with pytest.raises(anthropic.NotFoundError) as raised:
        client.messages.create(
            model="claude-haiku-4-5-20251001", max_tokens=16, messages=HI, stream=stream
        )
    assert raised.value.status_code == 404
    body = raised.value.body
    assert isinstance(body, dict) and body["error"]["type"] == "not_found_error"
    message = body["error"]["message"]
    for name in CHOOSE_A_MODEL:
        assert name in message
    assert "ollama pull" not in message  # nothing to pull: Claude Code chose the name
    assert upstream.last("/api/chat").json["model"] == "claude-haiku-4-5-20251001"


def test_other_missing_model_keeps_the_providers_hint(
    client: anthropic.Anthropic, upstream: FakeUpstream
) -> None:
    upstream.scenario = "not_found"
    with pytest.raises(anthropic.NotFoundError) as raised:
        client.messages.create(model="ollama/llama3.2:1b", max_tokens=16, messages=HI)
    assert "ollama pull llama3.2:1b" in str(raised.value)


@pytest.mark.parametrize(
    ("scenario", "model", "exc_type", "status", "kind"),
    [
        pytest.param("unauthorized", "openai/gpt-4o-mini", anthropic.AuthenticationError, 401,
                     "authentication_error", id="upstream-401"),
        pytest.param("rate_limited", "ollama/gpt-oss:20b", anthropic.RateLimitError, 429,
                     "rate_limit_error", id="ollama-429"),
        pytest.param("rate_limited", "openai/gpt-4o-mini", anthropic.RateLimitError, 429,
                     "rate_limit_error", id="openai-429"),
        pytest.param("overloaded", "ollama/gpt-oss:20b", anthropic.OverloadedError, 529,
                     "overloaded_error", id="ollama-503"),
        pytest.param("overloaded", "openai/gpt-4o-mini", anthropic.OverloadedError, 529,
                     "overloaded_error", id="openai-503"),
        pytest.param("server_error", "ollama/gpt-oss:20b", anthropic.InternalServerError, 500,
                     "api_error", id="ollama-500"),
        pytest.param("think_unsupported", "ollama/gemma3", anthropic.BadRequestError, 400,
                     "invalid_request_error", id="ollama-400"),
    ],
)  # fmt: skip
def test_upstream_failures_as_typed_sdk_errors(
    client: anthropic.Anthropic,
    upstream: FakeUpstream,
    scenario: str,
    model: str,
    exc_type: type[anthropic.APIStatusError],
    status: int,
    kind: str,
) -> None:
    upstream.scenario = scenario
    with pytest.raises(anthropic.APIStatusError) as raised:
        client.messages.create(model=model, max_tokens=16, messages=HI)
    error = raised.value
    assert type(error) is exc_type
    assert error.status_code == status
    assert isinstance(error.body, dict) and error.body["error"]["type"] == kind
    if status == 429:
        assert error.response.headers["retry-after"] == "7"
    if scenario == "unauthorized":
        assert "sk-test" not in str(error.body)  # the upstream key never reaches a client


def test_unreachable_upstream_is_an_api_error(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    from tests.fakes.server import closed_port_url

    url = serve(make_settings(ollama_base_url=closed_port_url()))
    response = httpx.post(f"{url}/v1/messages", json=BODY, timeout=20)
    message = assert_anthropic_error(response, 500, "api_error")
    assert "ollama serve" in message


@pytest.mark.parametrize(
    ("body", "where"),
    [
        pytest.param({"model": "x", "messages": HI}, "max_tokens", id="no-max_tokens"),
        pytest.param({**BODY, "messages": []}, "messages", id="no-messages"),
        pytest.param({**BODY, "temperature": 1.5}, "temperature", id="temperature>1"),
        pytest.param({**BODY, "messages": [{"role": "user", "content": [{"type": "image",
                     "source": {"type": "file", "file_id": "f"}}]}]}, "messages", id="bad-image"),
        pytest.param({**BODY, "tool_choice": {"type": "tool"}}, "tool_choice", id="no-tool-name"),
        pytest.param({**BODY, "thinking": {"type": "enabled"}}, "thinking", id="no-budget"),
        pytest.param({**BODY, "messages": [{"role": "assistant", "content": [{"type":
                     "redacted_thinking", "data": "x"}]}]}, "messages", id="nothing-to-send"),
    ],
)  # fmt: skip
def test_invalid_request_is_400_not_422(
    shared_live_server: str, upstream: FakeUpstream, body: dict[str, Any], where: str
) -> None:
    response = httpx.post(f"{shared_live_server}/v1/messages", json=body, timeout=10)
    assert where in assert_anthropic_error(response, 400, "invalid_request_error")
    assert not upstream.calls()  # refused before any upstream call


def test_invalid_json_and_sdk_bad_request(
    client: anthropic.Anthropic, shared_live_server: str
) -> None:
    response = httpx.post(
        f"{shared_live_server}/v1/messages",
        content=b"{not json",
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert_anthropic_error(response, 400, "invalid_request_error")
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(model="ollama/x", max_tokens=0, messages=HI)


def test_unknown_path_and_method_in_anthropic_shape(shared_live_server: str) -> None:
    response = httpx.post(f"{shared_live_server}/v1/messages/batches", json={}, timeout=10)
    assert "/v1/messages" in assert_anthropic_error(response, 404, "not_found_error")
    response = httpx.get(f"{shared_live_server}/v1/messages", timeout=10)
    assert response.status_code == 405
    assert response.json()["type"] == "error"


def test_too_large_is_request_too_large(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    url = serve(make_settings(max_body_bytes=1000))
    big = {**BODY, "messages": [{"role": "user", "content": "x" * 2000}]}
    response = httpx.post(f"{url}/v1/messages", json=big, timeout=10)
    assert_anthropic_error(response, 413, "request_too_large")
    client = anthropic.Anthropic(base_url=url, api_key="k", max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as raised:
        client.messages.create(model="ollama/x", max_tokens=8, messages=big["messages"])
    assert raised.value.status_code == 413


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens"])
def test_token_auth_with_x_api_key_or_bearer(
    make_settings: Callable[..., Settings],
    serve: Callable[[Settings], str],
    upstream: FakeUpstream,
    path: str,
) -> None:
    url = serve(make_settings(api_token="tok-123"))
    # Claude Code sends ANTHROPIC_API_KEY as x-api-key, ANTHROPIC_AUTH_TOKEN as Bearer.
    by_key = anthropic.Anthropic(base_url=url, api_key="tok-123", max_retries=0)
    by_token = anthropic.Anthropic(base_url=url, auth_token="tok-123", max_retries=0)
    wrong = anthropic.Anthropic(base_url=url, api_key="tok-wrong", max_retries=0)
    for client in (by_key, by_token):
        if path == "/v1/messages":
            assert client.messages.create(**BODY).stop_reason == "end_turn"
        else:
            assert client.messages.count_tokens(model="ollama/x", messages=HI).input_tokens > 0
    with pytest.raises(anthropic.AuthenticationError) as raised:
        if path == "/v1/messages":
            wrong.messages.create(**BODY)
        else:
            wrong.messages.count_tokens(model="ollama/x", messages=HI)
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["error"]["type"] == "authentication_error"
    assert "tok-wrong" not in str(raised.value.body) and "tok-123" not in str(raised.value.body)
    response = httpx.post(f"{url}{path}", json=BODY, timeout=10)  # no token at all
    assert "x-api-key" in assert_anthropic_error(response, 401, "authentication_error")
    calls = len(upstream.requests_to("/api/chat"))
    assert calls == (2 if path == "/v1/messages" else 0)  # the refused ones never went up
