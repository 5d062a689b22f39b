"""The hot model routes' fast path (`connector/api/fastpath.py`) answers exactly as
FastAPI's routes do: the same bodies, the same errors in each dialect, and what it
does not handle itself (another content type, an unknown query, an invalid body)
still reaches FastAPI."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from connector.api.fastpath import HOT, FastPathMiddleware
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import chat_body

BODIES: dict[str, dict[str, Any]] = {
    "/v1/chat/completions": chat_body(provider="openai", model="gpt-4o-mini"),
    "/v1/messages": {
        "model": "openai/gpt-4o-mini",
        "max_tokens": 16,
        "messages": [{"role": "user", "content": "Hi"}],
    },
    "/api/chat": {
        "model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "Hi"}],
        "stream": False,
    },
    "/v1/responses": {"model": "openai/gpt-4o-mini", "input": "Hi", "store": False},
}
# Fields that differ between any two answers (ids, clocks, measurements).
_VOLATILE = {"id", "created", "created_at", "metrics", "total_duration", "eval_duration"}
_VOLATILE |= {"load_duration", "prompt_eval_duration", "completed_at"}


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


class _Recorder:
    """The app behind the fast path, recording whether a request reached it."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope["path"])
        message = await receive()
        body = message.get("body", b"")
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": body})


async def _call(app: Any, path: str, body: bytes, content_type: bytes, query: bytes = b"") -> int:
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "query_string": query,
        "headers": [(b"content-type", content_type)],
    }
    sent = [False]

    async def receive() -> dict[str, Any]:
        if not sent[0]:
            sent[0] = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    return statuses[0]


@pytest.mark.parametrize(
    ("content_type", "body", "query"),
    [
        pytest.param(b"text/plain", b"{}", b"", id="other-content-type"),
        pytest.param(b"application/json", b"{not json", b"", id="not-json"),
        pytest.param(b"application/json", b'{"messages": 3}', b"", id="invalid-body"),
        pytest.param(b"application/json", b"{}", b"debug=1", id="unknown-query"),
    ],
)
async def test_what_the_fast_path_does_not_take_reaches_fastapi_whole(
    content_type: bytes, body: bytes, query: bytes
) -> None:
    inner = _Recorder()
    status = await _call(FastPathMiddleware(inner), "/v1/messages", body, content_type, query)
    # FastAPI (here: the recorder) got the request with its body replayed unchanged.
    assert inner.paths == ["/v1/messages"] and status == 299


async def test_routes_that_are_not_hot_pass_through() -> None:
    inner = _Recorder()
    assert await _call(FastPathMiddleware(inner), "/usage", b"{}", b"application/json") == 299
    assert inner.paths == ["/usage"]
    assert set(HOT) >= {"/v1/chat/completions", "/v1/messages", "/api/chat", "/v1/responses"}


@pytest.mark.parametrize("path", list(BODIES))
def test_fast_and_fastapi_paths_answer_alike(
    live_server: str, upstream: FakeUpstream, path: str
) -> None:
    """The same request through the fast path and (with a content type it leaves to
    FastAPI) through FastAPI's route: the same answer, but for ids and clocks."""
    body = json.dumps(BODIES[path]).encode()
    with httpx.Client(base_url=live_server, timeout=10) as client:
        fast = client.post(path, content=body, headers={"content-type": "application/json"})
        slow = client.post(
            path, content=body, headers={"content-type": "application/vnd.test+json"}
        )
    assert fast.status_code == slow.status_code == 200, (fast.text, slow.text)
    assert _stable(fast.json()) == _stable(slow.json())
    assert fast.headers["content-type"] == slow.headers["content-type"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/chat/completions", {"messages": "nope"}, "messages"),
        (
            "/v1/messages",
            {"model": "m", "messages": [{"role": "user", "content": "Hi"}]},
            "max_tokens",
        ),
        ("/api/chat", {"messages": [{"role": "user", "content": "Hi"}]}, "model"),
    ],
)
def test_invalid_bodies_get_the_dialects_validation_error(
    live_server: str, path: str, body: dict[str, Any], field: str
) -> None:
    response = httpx.post(f"{live_server}{path}", json=body, timeout=10)
    # OpenAI's surface says 422 for a body of the wrong shape; Anthropic and Ollama 400.
    assert response.status_code == (422 if path == "/v1/chat/completions" else 400)
    error = response.json()
    # Each dialect's own envelope: OpenAI's object, Anthropic's typed one, Ollama's string.
    if path == "/v1/messages":
        assert error["type"] == "error" and field in error["error"]["message"]
    elif path == "/api/chat":
        assert isinstance(error["error"], str) and field in error["error"]
    else:
        assert error["error"]["param"] == field


def test_claude_codes_beta_query_is_taken(live_server: str, upstream: FakeUpstream) -> None:
    for query in ("?beta=true", "?beta=false"):
        response = httpx.post(
            f"{live_server}/v1/messages{query}", json=BODIES["/v1/messages"], timeout=10
        )
        assert response.status_code == 200, response.text
        assert response.json()["type"] == "message"
