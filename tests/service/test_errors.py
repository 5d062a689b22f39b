"""Every error status of docs/API.md, each with the OpenAI error object."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from connector.config import Settings
from tests.fakes.server import closed_port_url
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import COLOR_FORMAT, assert_error, chat_body

PROVIDERS = [
    pytest.param({"provider": "ollama", "model": "gpt-oss:20b"}, id="ollama"),
    pytest.param({"provider": "openai", "model": "gpt-4o-mini"}, id="openai"),
]


def _post(url: str, body: dict[str, Any], path: str = "/chat/completions") -> httpx.Response:
    return httpx.post(f"{url}{path}", json=body, timeout=20)


def test_400_upstream_refuses_think(shared_live_server: str, upstream: FakeUpstream) -> None:
    upstream.scenario = "think_unsupported"
    error = assert_error(
        _post(
            shared_live_server,
            chat_body(provider="ollama", model="llama3.2", reasoning_effort="low"),
        ),
        400,
    )
    assert "does not support thinking" in error["message"]


def test_400_invalid_json_body(shared_live_server: str) -> None:
    response = httpx.post(
        f"{shared_live_server}/chat/completions",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert response.status_code in (400, 422)
    assert_error(response, response.status_code)


def test_401_no_openai_key(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    url = serve(make_settings(openai_api_key=None))
    error = assert_error(_post(url, chat_body(provider="openai")), 401)
    assert "key" in error["message"].lower()
    assert_error(_post(url, chat_body(provider="openai", stream=True)), 401)


def test_401_key_rejected_upstream(shared_live_server: str, upstream: FakeUpstream) -> None:
    upstream.openai_valid_keys = {"sk-some-other-key"}
    assert_error(_post(shared_live_server, chat_body(provider="openai")), 401)
    upstream.openai_valid_keys = None
    upstream.scenario = "unauthorized"
    assert_error(_post(shared_live_server, chat_body(provider="openai")), 401)


def test_401_api_token_missing_or_wrong(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    url = serve(make_settings(api_token="tok-123456"))
    assert_error(_post(url, chat_body()), 401)
    assert_error(
        httpx.post(
            f"{url}/chat/completions", json=chat_body(), headers={"Authorization": "Bearer nope"}
        ),
        401,
    )


def test_403_foreign_host(shared_live_server: str) -> None:
    response = httpx.post(
        f"{shared_live_server}/chat/completions", json=chat_body(), headers={"Host": "evil.example"}
    )
    assert_error(response, 403)


@pytest.mark.parametrize("target", PROVIDERS)
def test_404_unknown_model(
    shared_live_server: str, upstream: FakeUpstream, target: dict[str, str]
) -> None:
    upstream.scenario = "not_found"
    error = assert_error(_post(shared_live_server, chat_body(**target)), 404)
    assert target["model"] in error["message"]


def test_413_body_too_large(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str], upstream: FakeUpstream
) -> None:
    url = serve(make_settings(max_body_bytes=2000))
    big = chat_body("x" * 5000)
    assert_error(_post(url, big), 413)

    # Without Content-Length (chunked upload) the limit holds too.
    def chunks() -> Iterator[bytes]:
        payload = httpx.Request("POST", url, json=big).content
        for i in range(0, len(payload), 500):
            yield payload[i : i + 500]

    response = httpx.post(
        f"{url}/chat/completions", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_error(response, 413)
    assert upstream.requests_to("/api/chat") == []
    assert _post(url, chat_body("small")).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"model": "gpt-oss:20b"}, id="no-messages"),
        pytest.param({"messages": "hello"}, id="messages-not-a-list"),
        pytest.param(chat_body(provider="claude"), id="unknown-provider"),
        pytest.param(chat_body(temperature=9), id="temperature-out-of-range"),
    ],
)
def test_422_schema_mismatch(
    shared_live_server: str, upstream: FakeUpstream, body: dict[str, Any]
) -> None:
    assert_error(_post(shared_live_server, body), 422)
    assert upstream.requests_to("/api/chat") == []


@pytest.mark.parametrize("target", PROVIDERS)
def test_429_passes_retry_after(
    shared_live_server: str, upstream: FakeUpstream, target: dict[str, str]
) -> None:
    upstream.scenario = "rate_limited"
    started = time.monotonic()
    response = _post(shared_live_server, chat_body(**target))
    assert time.monotonic() - started < 3, "the connector must not sleep through Retry-After"
    assert_error(response, 429)
    assert response.headers["retry-after"] == "7"
    stream = _post(shared_live_server, chat_body(**target), "/chat/completions/stream")
    assert_error(stream, 429)
    assert stream.headers["retry-after"] == "7"


@pytest.mark.parametrize("target", PROVIDERS)
def test_502_upstream_broke(
    shared_live_server: str, upstream: FakeUpstream, target: dict[str, str]
) -> None:
    upstream.scenario = "server_error"
    assert_error(_post(shared_live_server, chat_body(**target)), 502)


@pytest.mark.parametrize("target", PROVIDERS)
def test_502_structured_output_failed_validation(
    shared_live_server: str, upstream: FakeUpstream, target: dict[str, str]
) -> None:
    upstream.scenario = "structured_invalid"
    body = chat_body(
        **target,
        response_format=COLOR_FORMAT,
    )
    error = assert_error(_post(shared_live_server, body), 502)
    assert "colors" in error["message"] and "not-a-list" in error["message"]


@pytest.mark.parametrize("target", PROVIDERS)
def test_503_upstream_unreachable_names_url(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str], target: dict[str, str]
) -> None:
    down = closed_port_url()
    url = serve(make_settings(ollama_base_url=down, openai_base_url=down + "/v1"))
    error = assert_error(_post(url, chat_body(**target)), 503)
    assert down in error["message"]


@pytest.mark.parametrize("target", PROVIDERS)
def test_504_upstream_timeout(
    make_settings: Callable[..., Settings],
    serve: Callable[[Settings], str],
    upstream: FakeUpstream,
    target: dict[str, str],
) -> None:
    upstream.scenario = "stall"
    url = serve(make_settings(read_timeout=0.5))
    started = time.monotonic()
    assert_error(_post(url, chat_body(**target)), 504)
    assert time.monotonic() - started < 5
    # The connector hung up on the stalled upstream.
    assert upstream.wait_cancelled(1)
