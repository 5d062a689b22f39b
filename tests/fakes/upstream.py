"""A fake Ollama + OpenAI upstream speaking real HTTP on 127.0.0.1.

    with FakeUpstream() as up:
        up.ollama_url                 # for OLLAMA_BASE_URL
        up.openai_url                 # for OPENAI_BASE_URL (ends in /v1)
        up.scenario = "thinking"      # what the next requests get (stays until changed)
        up.chunk_delay = 0.05         # seconds between streamed pieces (blocking answers
                                      # wait as long as their stream would take)
        up.requests                   # RecordedRequest(method, path, json, headers) list
        up.cancelled                  # streams whose client left before the end
        up.peers                      # client (host, port)s: one per TCP connection

Scenarios (both APIs unless noted): default, thinking (Ollama), reasoning (OpenAI usage
with reasoning_tokens), structured, structured_invalid, midstream_error, not_found,
think_unsupported (Ollama 400), unauthorized (401), quota (OpenAI 429 without Retry-After),
rate_limited (429 + Retry-After: 7), server_error (500), slow (a long paced stream),
stall (no answer until the client leaves), stall_midstream (two pieces, then silence),
tools, no_models (Ollama /api/tags empty), length (the default answer, cut by the token
limit: finish_reason / done_reason "length"), overloaded (503), thinking on OpenAI too
(`reasoning_content` deltas, as llama.cpp and vLLM send them), no_tokenizer (404 from
llama.cpp's /apply-template and /tokenize: tokenize_api.py).

With scenario "default" the fake picks by request: a structured-output request
(`format` / `response_format`) gets "structured", an Ollama request with a truthy
`think` gets "thinking", a request with `tools` gets "tools". `model_scenarios`
({model name: scenario}) beats everything, so concurrent requests can differ.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, NamedTuple

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.fakes import ollama_api, openai_api, tokenize_api
from tests.fakes.server import ServerThread


class RecordedRequest(NamedTuple):
    method: str
    path: str
    json: Any
    headers: dict[str, str]


class FakeUpstream:
    def __init__(self) -> None:
        self.scenario = "default"
        self.model_scenarios: dict[str, str] = {}
        self.chunk_delay = 0.0
        self.slow_delay = 0.05  # pace of the "slow" scenario
        self.slow_chunks = 200  # so a slow stream lasts ~10 s: plenty to cancel it
        self.stall_seconds = 30.0
        # None accepts any non-empty bearer key; a set makes other keys get 401.
        self.openai_valid_keys: set[str] | None = None
        self.requests: list[RecordedRequest] = []
        self.cancelled = 0
        # Model names the lists report instead of the recorded ones (several fakes as
        # endpoints with different catalogues); None: the recorded lists.
        self.openai_models: list[str] | None = None
        self.ollama_models: list[str] | None = None
        # (host, port) of every client connection seen: tells reused keep-alive
        # connections from a new connection per request.
        self.peers: set[tuple[str, int]] = set()
        self._lock = threading.Lock()
        app = Starlette(
            routes=[
                *ollama_api.routes(self),
                *openai_api.routes(self),
                *tokenize_api.routes(self),
            ]
        )
        app.add_route("/", self._root, methods=["GET", "HEAD"])
        app.add_exception_handler(404, self._not_found)
        self._server = ServerThread(app, lifespan="off")
        self.url = self._server.url
        self.ollama_url = self.url
        self.openai_url = self.url + "/v1"

    def open_connections(self) -> int:
        """Client connections open to this server right now."""
        return len(self._server.server.server_state.connections)

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> FakeUpstream:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Back to a fresh state (the server keeps running)."""
        with self._lock:
            self.scenario = "default"
            self.model_scenarios = {}
            self.chunk_delay = 0.0
            self.slow_delay = 0.05
            self.slow_chunks = 200
            self.stall_seconds = 30.0
            self.openai_valid_keys = None
            self.requests = []
            self.cancelled = 0
            self.peers = set()
            self.openai_models = None
            self.ollama_models = None

    # -- what tests read -------------------------------------------------------------
    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in list(self.requests) if r.path == path]

    def calls(self) -> list[RecordedRequest]:
        """What was asked besides the model lists, which the connector's catalogue
        fetches on its own once a server has started (whenever its warm-up ends)."""
        return [r for r in list(self.requests) if r.path not in ("/api/tags", "/v1/models")]

    def last(self, path: str) -> RecordedRequest:
        found = self.requests_to(path)
        if not found:
            seen = sorted({r.path for r in self.requests})
            raise AssertionError(f"the upstream never got a request to {path}; got {seen}")
        return found[-1]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.02)
        return predicate()

    def wait_cancelled(self, count: int = 1, timeout: float = 5.0) -> bool:
        return self.wait_for(lambda: self.cancelled >= count, timeout)

    # -- used by the route modules ------------------------------------------------------
    async def record(self, request: Request) -> Any:
        raw = await request.body()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        with self._lock:
            self.requests.append(
                RecordedRequest(request.method, request.url.path, body, dict(request.headers))
            )
            if request.client is not None:
                self.peers.add((request.client.host, request.client.port))
        return body

    async def generation_time(self, seconds: float) -> None:
        """A blocking answer takes as long as its paced stream would: a model generates
        the same tokens either way."""
        if seconds > 0:
            await asyncio.sleep(seconds)

    def note_cancelled(self) -> None:
        with self._lock:
            self.cancelled += 1

    def pick(self, api: str, model: str, body: dict[str, Any]) -> str:
        if model in self.model_scenarios:
            return self.model_scenarios[model]
        if self.scenario != "default":
            return self.scenario
        if api == "ollama" and body.get("format"):
            return "structured"
        rf = body.get("response_format")
        if (
            api == "openai"
            and isinstance(rf, dict)
            and rf.get("type") in ("json_schema", "json_object")
        ):
            return "structured"
        if body.get("tools"):
            return "tools"
        if api == "ollama" and body.get("think") not in (None, False):
            return "thinking"
        return "default"

    async def _root(self, request: Request) -> Response:
        await self.record(request)
        return Response("Ollama is running", media_type="text/plain")

    async def _not_found(self, request: Request, exc: Exception) -> Response:
        await self.record(request)
        return JSONResponse({"error": f"404 page not found: {request.url.path}"}, status_code=404)
