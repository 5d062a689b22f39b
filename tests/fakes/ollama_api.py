"""The fake Ollama native API (/api/*), answering with the recorded bodies."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.recorded import load_json, load_ndjson
from tests.fakes.schema_values import invalid_value, valid_value
from tests.fakes.streaming import PacedStream, Piece, Stall

if TYPE_CHECKING:
    from tests.fakes.upstream import FakeUpstream

NDJSON = "application/x-ndjson"
COLOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"colors": {"type": "array", "items": {"type": "string"}}},
    "required": ["colors"],
}
_FINAL_COUNTERS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _error_for(scenario: str, model: str) -> Response | None:
    if scenario == "overloaded":  # ErrMaxQueue, server/sched.go
        return error(503, "server busy, please try again.  maximum pending requests exceeded")
    if scenario == "not_found":
        return error(
            404,
            load_json("ollama/error_model_not_found.json")["error"].replace("gpt-oss:20b", model),
        )
    if scenario == "think_unsupported":
        return error(400, f'"{model}" does not support thinking')
    if scenario == "rate_limited":
        return error(429, "too many requests, please retry later", {"Retry-After": "7"})
    if scenario == "server_error":
        return error(500, "llama runner process has terminated: exit status 2")
    if scenario == "unauthorized":
        return error(401, "unauthorized")
    return None


def _line(model: str, message: dict[str, Any], done: bool = False) -> dict[str, Any]:
    return {
        "model": model,
        "created_at": "2025-10-17T23:14:06.801523Z",
        "message": {"role": "assistant", **message},
        "done": done,
    }


def _final(model: str, counters_from: dict[str, Any], reason: str = "stop") -> dict[str, Any]:
    line = _line(model, {"content": ""}, done=True)
    line["done_reason"] = reason
    line.update({k: counters_from[k] for k in _FINAL_COUNTERS if k in counters_from})
    return line


def _pieces(text: str, size: int = 8) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _structured_content(scenario: str, body: dict[str, Any]) -> str:
    fmt = body.get("format")
    schema = fmt if isinstance(fmt, dict) else None
    if scenario == "structured_invalid":
        return json.dumps(invalid_value(schema or COLOR_SCHEMA)[0])
    if scenario == "structured_cut":  # stopped by num_predict mid-string
        return json.dumps(valid_value(schema or COLOR_SCHEMA))[:14]
    if schema is None and fmt == "json":
        return json.dumps({"answer": "The sky is blue."})
    return json.dumps(valid_value(schema or COLOR_SCHEMA))


def _tool_message(body: dict[str, Any]) -> dict[str, Any]:
    tools = body.get("tools") or [{}]
    function = tools[0].get("function") or {}
    params = function.get("parameters") or {
        "type": "object",
        "properties": {"city": {"type": "string"}},
    }
    call = {
        "id": "call_fake0001",
        "function": {
            "index": 0,
            "name": function.get("name", "get_weather"),
            "arguments": valid_value(params),
        },
    }
    return {"content": "", "tool_calls": [call]}


def chat_lines(scenario: str, model: str, body: dict[str, Any], slow_chunks: int) -> list[Any]:
    """The NDJSON objects /api/chat streams for a scenario (model echoed)."""
    if scenario == "thinking":
        lines = load_ndjson("ollama/chat_stream_thinking.ndjson")
    elif scenario == "midstream_error":
        lines = load_ndjson("ollama/chat_stream_midstream_error.ndjson")
    elif scenario in ("structured", "structured_invalid", "structured_cut"):
        recorded = load_json("ollama/chat_format_schema_response.json")
        thinking = recorded["message"]["thinking"].split(" ")
        lines = [
            _line(model, {"content": "", "thinking": w if i == 0 else " " + w})
            for i, w in enumerate(thinking[:6])
        ]
        lines += [
            _line(model, {"content": p}) for p in _pieces(_structured_content(scenario, body))
        ]
        lines.append(_final(model, recorded, "length" if scenario == "structured_cut" else "stop"))
    elif scenario == "tools":
        lines = [
            _line(model, _tool_message(body)),
            _final(model, load_json("ollama/chat_nonstream.json")),
        ]
    elif scenario == "slow":
        lines = [_line(model, {"content": f" tick{i}"}) for i in range(slow_chunks)]
        lines.append(_final(model, load_json("ollama/chat_nonstream.json")))
    else:
        lines = load_ndjson("ollama/chat_stream.ndjson")
        if scenario == "length":
            lines[-1]["done_reason"] = "length"
    for line in lines:
        if "model" in line:
            line["model"] = model
    return lines


def join_lines(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """What Ollama answers with `"stream": false`: the stream's pieces joined."""
    final = dict(lines[-1])
    content = "".join(line["message"].get("content", "") for line in lines if "message" in line)
    thinking = "".join(line["message"].get("thinking", "") for line in lines if "message" in line)
    calls = [
        c for line in lines if "message" in line for c in line["message"].get("tool_calls", [])
    ]
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if thinking:
        message["thinking"] = thinking
    if calls:
        message["tool_calls"] = calls
    final["message"] = message
    return final


def token_delays(lines: list[dict[str, Any]], delay: float) -> list[float]:
    """The wait before each line: a model's per-token pace for lines carrying tokens,
    none for the first line and for bookkeeping lines (done, errors)."""
    waits = []
    for i, line in enumerate(lines):
        message = line.get("message") or {"content": line.get("response"), **line}
        carries = message.get("content") or message.get("thinking") or message.get("tool_calls")
        waits.append(delay if i > 0 and (carries or "error" in line) else 0.0)
    return waits


def load_answer(model: str, body: dict[str, Any], generate: bool) -> dict[str, Any]:
    """Ollama's answer to a load call (no messages / no prompt); `keep_alive: 0` unloads."""
    unload = body.get("keep_alive") in (0, "0", "0s", "0m")
    answer: dict[str, Any] = {"model": model, "created_at": "2024-09-12T21:17:29.110811Z"}
    if generate:
        answer["response"] = ""
    else:
        answer["message"] = {"role": "assistant", "content": ""}
    answer.update(done_reason="unload" if unload else "load", done=True)
    return answer


def generate_line(chat_line: dict[str, Any]) -> dict[str, Any]:
    """/api/generate's line for a /api/chat line: `response` and `thinking` at the top."""
    out = {k: v for k, v in chat_line.items() if k != "message"}
    message = chat_line.get("message")
    if message is not None:
        out["response"] = message.get("content", "")
        if message.get("thinking"):
            out["thinking"] = message["thinking"]
    return out


def embed_body(model: str, texts: list[str]) -> dict[str, Any]:
    recorded = load_json("ollama/embed.json")
    vectors = recorded["embeddings"]
    return {
        "model": model,
        "embeddings": [vectors[i % len(vectors)] for i in range(len(texts))],
        "total_duration": recorded["total_duration"],
        "load_duration": recorded["load_duration"],
        "prompt_eval_count": sum(len(t.split()) + 3 for t in texts),
    }


def routes(up: FakeUpstream) -> list[Route]:
    async def chat(request: Request) -> Response:
        return await _generation(request, generate=False)

    async def generate(request: Request) -> Response:
        return await _generation(request, generate=True)

    async def _generation(request: Request, generate: bool) -> Response:
        body = await up.record(request)
        if not isinstance(body, dict):
            return error(400, "invalid request body")
        model = str(body.get("model") or "")
        if not model:
            return error(400, "model is required")
        shape = generate_line if generate else (lambda line: line)
        stream = body.get("stream", True) is not False
        scenario = up.pick("ollama", model, body)
        failure = _error_for(scenario, model)
        if failure is not None:
            return failure
        # Ollama's load call: an empty prompt, or a `messages` list that is empty.
        if (not body.get("prompt")) if generate else body.get("messages") == []:
            return JSONResponse(load_answer(model, body, generate))
        if scenario == "stall" or (scenario == "slow" and not stream):
            return Stall(up.stall_seconds, up.note_cancelled)
        if not stream:
            await up.generation_time(
                sum(token_delays(chat_lines(scenario, model, body, up.slow_chunks), up.chunk_delay))
            )
            if scenario == "midstream_error":
                return error(500, "an error was encountered while running the model")
            if scenario == "default":
                return JSONResponse(shape(_echo(load_json("ollama/chat_nonstream.json"), model)))
            if scenario == "thinking":
                recorded = load_json("ollama/chat_nonstream_thinking.json")
                return JSONResponse(shape(_echo(recorded, model)))
            joined = join_lines(chat_lines(scenario, model, body, up.slow_chunks))
            return JSONResponse(shape(joined))
        lines = [shape(line) for line in chat_lines(scenario, model, body, up.slow_chunks)]
        delay = max(up.chunk_delay, up.slow_delay) if scenario == "slow" else up.chunk_delay
        pieces: list[Piece] = [
            (wait, (json.dumps(line) + "\n").encode())
            for wait, line in zip(token_delays(lines, delay), lines, strict=True)
        ]
        if scenario == "stall_midstream":
            pieces = [*pieces[:2], (up.stall_seconds, pieces[2][1])]
        return PacedStream(pieces, media_type=NDJSON, on_cancel=up.note_cancelled)

    async def pull(request: Request) -> Response:
        body = await up.record(request)
        if not isinstance(body, dict):
            return error(400, "invalid request body")
        name = str(body.get("model") or body.get("name") or "")
        scenario = up.pick("ollama", name, body)
        if scenario in ("rate_limited", "server_error", "unauthorized"):
            failure = _error_for(scenario, name)
            assert failure is not None
            return failure
        lines: list[dict[str, Any]] = [{"status": "pulling manifest"}]
        if scenario == "not_found":
            lines.append({"error": "pull model manifest: file does not exist"})
        else:
            steps = up.slow_chunks if scenario == "slow" else 4
            layers = (("sha256:aa4295ac10c3", 13780173724), ("sha256:fa6710a93d78", 7240))
            for digest, total in layers:
                lines += [
                    {
                        "status": f"pulling {digest[7:19]}",
                        "digest": digest,
                        "total": total,
                        "completed": total * k // steps,
                    }
                    for k in range(steps + 1)
                ]
            lines += [
                {"status": "verifying sha256 digest"},
                {"status": "writing manifest"},
                {"status": "success"},
            ]
        if body.get("stream", True) is False:
            last = lines[-1]
            return error(500, last["error"]) if "error" in last else JSONResponse(last)
        delay = max(up.chunk_delay, up.slow_delay) if scenario == "slow" else up.chunk_delay
        pieces = [
            (0.0 if i == 0 else delay, (json.dumps(line) + "\n").encode())
            for i, line in enumerate(lines)
        ]
        return PacedStream(pieces, media_type=NDJSON, on_cancel=up.note_cancelled)

    async def tags(request: Request) -> Response:
        await up.record(request)
        scenario = up.scenario
        if scenario == "stall":
            return Stall(up.stall_seconds, up.note_cancelled)
        if scenario in ("server_error", "unauthorized"):
            failure = _error_for(scenario, "")
            assert failure is not None
            return failure
        listed = load_json(
            "ollama/tags_empty.json" if scenario == "no_models" else "ollama/tags.json"
        )
        if up.ollama_models is not None:
            template = load_json("ollama/tags.json")["models"][0]
            listed["models"] = [{**template, "name": n, "model": n} for n in up.ollama_models]
        return JSONResponse(listed)

    async def version(request: Request) -> Response:
        await up.record(request)
        if up.scenario == "stall":
            return Stall(up.stall_seconds, up.note_cancelled)
        return JSONResponse(load_json("ollama/version.json"))

    async def ps(request: Request) -> Response:
        await up.record(request)
        return JSONResponse(load_json("ollama/ps.json"))

    async def show(request: Request) -> Response:
        body = await up.record(request)
        name = str((body or {}).get("model") or (body or {}).get("name") or "")
        if up.pick("ollama", name, body or {}) == "not_found":
            failure = _error_for("not_found", name)
            assert failure is not None
            return failure
        return JSONResponse(load_json("ollama/show.json"))

    async def embed(request: Request) -> Response:
        body = await up.record(request)
        if not isinstance(body, dict):
            return error(400, "invalid request body")
        model = str(body.get("model") or "")
        failure = _error_for(up.pick("ollama", model, body), model)
        if failure is not None:
            return failure
        given = body.get("input")
        texts = [given] if isinstance(given, str) else list(given or [])
        return JSONResponse(embed_body(model, [str(t) for t in texts]))

    async def embeddings(request: Request) -> Response:
        body = await up.record(request)
        model = str((body or {}).get("model") or "")
        failure = _error_for(up.pick("ollama", model, body or {}), model)
        if failure is not None:
            return failure
        return JSONResponse(load_json("ollama/embeddings_legacy.json"))

    async def delete(request: Request) -> Response:
        body = await up.record(request)
        name = str((body or {}).get("model") or (body or {}).get("name") or "")
        if up.pick("ollama", name, body or {}) == "not_found":
            return error(404, f"model '{name}' not found")
        return Response(status_code=200)

    return [
        Route("/api/chat", chat, methods=["POST"]),
        Route("/api/generate", generate, methods=["POST"]),
        Route("/api/embed", embed, methods=["POST"]),
        Route("/api/embeddings", embeddings, methods=["POST"]),
        Route("/api/delete", delete, methods=["DELETE"]),
        Route("/api/pull", pull, methods=["POST"]),
        Route("/api/tags", tags, methods=["GET"]),
        Route("/api/version", version, methods=["GET"]),
        Route("/api/ps", ps, methods=["GET"]),
        Route("/api/show", show, methods=["POST"]),
    ]


def _echo(body: dict[str, Any], model: str) -> dict[str, Any]:
    body["model"] = model
    return body
