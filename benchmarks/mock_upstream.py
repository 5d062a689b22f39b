"""A fast mock upstream for the benchmarks: OpenAI's and Ollama's chat APIs with
recorded bodies, on uvloop with httptools' parser and pre-encoded answers, so one
core answers tens of thousands of requests a second and the gateway in front of it,
not the mock, is what a benchmark measures.

    python benchmarks/mock_upstream.py --port 0     # prints the bound port, then serves

Routes: POST /v1/chat/completions (blocking, or SSE with the usage chunk when
`stream_options.include_usage` is set), GET /v1/models, POST /api/chat (blocking, or
NDJSON: Ollama streams unless `"stream": false`), GET /api/tags, /api/version, /api/ps,
POST /api/show, GET|HEAD /.

A model named `...paced-<N>x<D>` (say `bench-paced-60x50`) streams N tokens D ms apart,
the first at once; any other model streams the recorded answer in one write. Request
bodies are not parsed as JSON: the fields that choose an answer are found by pattern,
which keeps the mock cheap per request.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import re
import sys
from pathlib import Path
from typing import Any, cast

import httptools
import uvloop

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"

_MODEL = re.compile(rb'"model"\s*:\s*"([^"]*)"')
_PACED = re.compile(rb"paced-(\d+)x(\d+(?:\.\d+)?)")
_NO_STREAM = re.compile(rb'"stream"\s*:\s*false')
_STREAM = re.compile(rb'"stream"\s*:\s*true')
_USAGE = re.compile(rb'"include_usage"\s*:\s*true')

_REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found"}


def _dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _load(relative: str) -> Any:
    return json.loads((DATA / relative).read_text(encoding="utf-8"))


def response(status: int, body: bytes, content_type: bytes = b"application/json") -> bytes:
    head = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" % (
        status,
        _REASONS.get(status, b"Error"),
        content_type,
        len(body),
    )
    return head + body


def chunk(data: bytes) -> bytes:
    """One piece of a chunked body: each streamed frame leaves as its own chunk."""
    return b"%x\r\n%s\r\n" % (len(data), data)


STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nCache-Control: no-cache\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)
END = b"0\r\n\r\n"


class OpenAI:
    """Recorded OpenAI chat answers: a completion, and stream frames built on the
    recorded chunk's shape."""

    def __init__(self) -> None:
        self.completion = _load("openai/chat_completion.json")
        frames = [
            json.loads(line[6:])
            for line in (DATA / "openai/chat_stream.sse").read_text().splitlines()
            if line.startswith("data: {")
        ]
        self.template = frames[1]
        self.usage = frames[-1]
        self.words = [f["choices"][0]["delta"]["content"] for f in frames[1:-2]]
        self.models = _dump(_load("openai/models.json"))

    def blocking(self, model: str) -> bytes:
        return response(200, _dump({**self.completion, "model": model}))

    def _frame(self, model: str, delta: dict[str, Any], finish: str | None) -> bytes:
        choice = {**self.template["choices"][0], "delta": delta, "finish_reason": finish}
        return b"data: " + _dump({**self.template, "model": model, "choices": [choice]}) + b"\n\n"

    def frames(self, model: str, words: list[str], usage: bool) -> tuple[bytes, list[bytes], bytes]:
        """(first write with the role frame, one chunk per word, the closing write)."""
        first = chunk(self._frame(model, {"role": "assistant", "content": ""}, None))
        tokens = [chunk(self._frame(model, {"content": w}, None)) for w in words]
        tail = self._frame(model, {}, "stop")
        if usage:
            counted = {**self.usage["usage"], "completion_tokens": len(words)}
            counted["total_tokens"] = counted["prompt_tokens"] + len(words)
            tail += b"data: " + _dump({**self.usage, "model": model, "usage": counted}) + b"\n\n"
        return first, tokens, chunk(tail + b"data: [DONE]\n\n") + END


class Ollama:
    """Recorded Ollama answers: /api/chat blocking and NDJSON, the model list."""

    def __init__(self, extra_models: list[str]) -> None:
        self.completion = _load("ollama/chat_nonstream.json")
        lines = [
            json.loads(line)
            for line in (DATA / "ollama/chat_stream.ndjson").read_text().splitlines()
            if line.strip()
        ]
        self.line = lines[0]
        self.final = lines[-1]
        self.words = [str(line["message"]["content"]) for line in lines[:-1]]
        tags = _load("ollama/tags.json")
        base = tags["models"][0]
        tags["models"] += [{**base, "name": name, "model": name} for name in extra_models]
        self.tags = _dump(tags)
        self.version = _dump(_load("ollama/version.json"))
        self.show = _dump(_load("ollama/show.json"))
        self.ps = _dump(_load("ollama/ps.json"))

    def blocking(self, model: str) -> bytes:
        return response(200, _dump({**self.completion, "model": model}))

    def frames(self, model: str, words: list[str]) -> tuple[bytes, list[bytes], bytes]:
        def line(content: str) -> bytes:
            said = {
                **self.line,
                "model": model,
                "message": {"role": "assistant", "content": content},
            }
            return chunk(_dump(said) + b"\n")

        final = {**self.final, "model": model, "eval_count": len(words)}
        return b"", [line(w) for w in words], chunk(_dump(final) + b"\n") + END


class Answers:
    """Every answer the mock gives, encoded once per model and shape."""

    def __init__(self, paced_models: list[str]) -> None:
        self.openai = OpenAI()
        self.ollama = Ollama(paced_models)
        self._cache: dict[tuple[bytes, bytes, bool, bool], tuple[bytes, list[bytes], bytes]] = {}
        self._blocking: dict[tuple[bytes, bytes], bytes] = {}
        self.fixed = {
            (b"GET", b"/v1/models"): response(200, self.openai.models),
            (b"GET", b"/api/tags"): response(200, self.ollama.tags),
            (b"GET", b"/api/version"): response(200, self.ollama.version),
            (b"GET", b"/api/ps"): response(200, self.ollama.ps),
            (b"POST", b"/api/show"): response(200, self.ollama.show),
            (b"GET", b"/"): response(200, b"Ollama is running", b"text/plain"),
            (b"HEAD", b"/"): response(200, b"", b"text/plain"),
        }
        self.not_found = response(404, b'{"error":{"message":"not found","type":"not_found"}}')

    def blocking(self, path: bytes, model: bytes) -> bytes:
        key = (path, model)
        if key not in self._blocking:
            name = model.decode(errors="replace")
            api = self.openai if path == b"/v1/chat/completions" else self.ollama
            self._blocking[key] = api.blocking(name)
        return self._blocking[key]

    def stream(
        self, path: bytes, model: bytes, usage: bool
    ) -> tuple[bytes, list[bytes], bytes, float]:
        """(head and first write, one chunk per token, closing write, seconds between)."""
        paced = _PACED.search(model)
        delay = float(paced.group(2)) / 1000 if paced else 0.0
        key = (path, model, usage, bool(paced))
        if key not in self._cache:
            name = model.decode(errors="replace")
            if path == b"/v1/chat/completions":
                words = [f" tok{i}" for i in range(int(paced.group(1)))] if paced else None
                first, tokens, tail = self.openai.frames(name, words or self.openai.words, usage)
                self._cache[key] = (STREAM_HEAD % b"text/event-stream" + first, tokens, tail)
            else:
                words = [f" tok{i}" for i in range(int(paced.group(1)))] if paced else None
                first, tokens, tail = self.ollama.frames(name, words or self.ollama.words)
                self._cache[key] = (STREAM_HEAD % b"application/x-ndjson" + first, tokens, tail)
        head, tokens, tail = self._cache[key]
        return head, tokens, tail, delay


class MockProtocol(asyncio.Protocol):
    """One client connection: HTTP/1.1 keep-alive, one request at a time."""

    def __init__(self, answers: Answers) -> None:
        self.answers = answers
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.body: list[bytes] = []
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._send(response(400, b'{"error":{"message":"bad request"}}'), keep=False)

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.url = b""
        self.body = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        method = self.parser.get_method()
        path = self.url.split(b"?", 1)[0]
        keep = self.parser.should_keep_alive()
        fixed = self.answers.fixed.get((method, path))
        if fixed is not None:
            self._send(
                fixed if method != b"HEAD" else fixed.split(b"\r\n\r\n")[0] + b"\r\n\r\n", keep
            )
            return
        if method != b"POST" or path not in (b"/v1/chat/completions", b"/api/chat"):
            self._send(self.answers.not_found, keep)
            return
        body = b"".join(self.body)
        found = _MODEL.search(body)
        model = found.group(1) if found else b"bench"
        if path == b"/api/chat":
            streamed = not _NO_STREAM.search(body)  # Ollama streams by default
        else:
            streamed = bool(_STREAM.search(body))
        if not streamed:
            self._send(self.answers.blocking(path, model), keep)
            return
        head, tokens, tail, delay = self.answers.stream(path, model, bool(_USAGE.search(body)))
        if not delay:
            self._send(head + b"".join(tokens) + tail, keep)
            return
        assert self.transport is not None
        self.transport.write(head + tokens[0])
        start = self.loop.time()
        self.loop.call_at(start + delay, self._pace, tokens, tail, 1, start, delay, keep)

    def _pace(
        self, tokens: list[bytes], tail: bytes, i: int, start: float, delay: float, keep: bool
    ) -> None:
        """Token i at start + i * delay (absolute, so timer lateness does not add up)."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if i < len(tokens):
            transport.write(tokens[i])
            if i + 1 < len(tokens):
                self.loop.call_at(
                    start + (i + 1) * delay, self._pace, tokens, tail, i + 1, start, delay, keep
                )
                return
        self._send(tail, keep)

    def _send(self, data: bytes, keep: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(data)
        if not keep:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(host: str, port: int, paced_models: list[str]) -> None:
    answers = Answers(paced_models)
    gc.collect()
    gc.freeze()  # no full collection of the start-up heap in the middle of a stream
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: MockProtocol(answers), host, port, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    parser.add_argument(
        "--models", default="", help="extra model names /api/tags lists, comma-separated"
    )
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the mock serves loopback only")
    models = [m for m in args.models.split(",") if m]
    try:
        uvloop.run(serve(args.host, args.port, models))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
