"""The fake OpenAI API (/v1/chat/completions, /v1/models), from the recorded bodies."""

from __future__ import annotations

import base64
import json
import struct
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.ollama_api import COLOR_SCHEMA
from tests.fakes.recorded import load_json, load_sse
from tests.fakes.schema_values import invalid_value, valid_value
from tests.fakes.streaming import PacedStream, Piece, Stall

if TYPE_CHECKING:
    from tests.fakes.upstream import FakeUpstream

SSE = "text/event-stream; charset=utf-8"
MISSING_KEY = {
    "error": {
        "message": "You didn't provide an API key. You need to provide your API key in an "
        "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
}
REASONING_USAGE = {
    "prompt_tokens": 19,
    "completion_tokens": 74,
    "total_tokens": 93,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 64,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}


def _error_for(scenario: str, model: str) -> Response | None:
    if scenario == "overloaded":  # llama.cpp's answer while its model loads
        body = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
        return JSONResponse(body, status_code=503)
    if scenario == "unauthorized":
        return JSONResponse(load_json("openai/error_401.json"), status_code=401)
    if scenario == "not_found":
        body = load_json("openai/error_404_model_not_found.json")
        body["error"]["message"] = body["error"]["message"].replace("gpt-4o-2024-05-13", model)
        return JSONResponse(body, status_code=404)
    if scenario == "rate_limited":
        return JSONResponse(
            load_json("openai/error_429.json"), status_code=429, headers={"Retry-After": "7"}
        )
    if scenario == "quota":
        return JSONResponse(load_json("openai/error_429_insufficient_quota.json"), status_code=429)
    if scenario == "server_error":
        return JSONResponse(load_json("openai/error_500.json"), status_code=500)
    return None


def _content(scenario: str, body: dict[str, Any]) -> str:
    fmt = body.get("response_format") or {}
    if scenario in ("structured", "structured_invalid", "structured_cut"):
        schema = (fmt.get("json_schema") or {}).get("schema") if isinstance(fmt, dict) else None
        schema = schema if isinstance(schema, dict) else None
        if scenario == "structured_cut":  # stopped by max_tokens mid-string
            return json.dumps(valid_value(schema or COLOR_SCHEMA))[:14]
        if scenario == "structured_invalid":
            return json.dumps(invalid_value(schema or COLOR_SCHEMA)[0])
        if schema is None:
            return json.dumps({"answer": "Hello! How can I assist you today?"})
        return json.dumps(valid_value(schema))
    if scenario == "slow":
        return "".join(f" tick{i}" for i in range(40))
    return str(load_json("openai/chat_completion.json")["choices"][0]["message"]["content"])


def _tool_call(body: dict[str, Any]) -> dict[str, Any]:
    tools = body.get("tools") or [{}]
    function = tools[0].get("function") or {}
    params = function.get("parameters") or {
        "type": "object",
        "properties": {"city": {"type": "string"}},
    }
    return {
        "id": "call_fake0001",
        "type": "function",
        "function": {
            "name": function.get("name", "get_weather"),
            "arguments": json.dumps(valid_value(params)),
        },
    }


def completion(scenario: str, model: str, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = load_json("openai/chat_completion.json")
    answer["model"] = model
    choice = answer["choices"][0]
    if scenario == "tools":
        choice["message"].update(content=None, tool_calls=[_tool_call(body)])
        choice["finish_reason"] = "tool_calls"
    else:
        choice["message"]["content"] = _content(scenario, body)
        if scenario in ("length", "structured_cut"):
            choice["finish_reason"] = "length"
    if scenario == "thinking":  # llama.cpp and vLLM send thinking as reasoning_content
        said = load_json("ollama/chat_nonstream_thinking.json")["message"]
        choice["message"].update(content=said["content"], reasoning_content=said["thinking"])
    if scenario == "reasoning":
        answer["usage"] = REASONING_USAGE
    return answer


def _pieces(text: str, size: int = 8) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def stream_frames(scenario: str, model: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON payloads of the SSE answer (without `[DONE]`)."""
    recorded = load_sse("openai/chat_stream.sse")
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    base = {
        k: recorded[0][k] for k in ("id", "object", "created", "service_tier", "system_fingerprint")
    }
    base["model"] = model

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        frame = {
            **base,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if include_usage:
            frame["usage"] = None
        return frame

    frames = [chunk({"role": "assistant", "content": "", "refusal": None})]
    finish = "stop"
    if scenario == "tools":
        call = _tool_call(body)
        frames[0]["choices"][0]["delta"] = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "index": 0,
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["function"]["name"], "arguments": ""},
                }
            ],
        }
        frames += [
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": p}}]})
            for p in _pieces(call["function"]["arguments"])
        ]
        finish = "tool_calls"
    elif scenario in ("default", "reasoning", "midstream_error", "stall_midstream", "length"):
        frames += [
            chunk(f["choices"][0]["delta"])
            for f in recorded[1:]
            if f["choices"] and "content" in f["choices"][0]["delta"]
        ]
        if scenario == "length":
            finish = "length"
    elif scenario == "thinking":
        said = load_json("ollama/chat_nonstream_thinking.json")["message"]
        frames += [chunk({"reasoning_content": p}) for p in _pieces(said["thinking"])]
        frames += [chunk({"content": p}) for p in _pieces(said["content"])]
    else:
        frames += [chunk({"content": p}) for p in _pieces(_content(scenario, body))]
        if scenario == "structured_cut":
            finish = "length"
    frames.append(chunk({}, finish))
    if include_usage:
        usage = REASONING_USAGE if scenario == "reasoning" else recorded[-1]["usage"]
        frames.append({**base, "choices": [], "usage": usage})
    return frames


def embeddings_body(model: str, body: dict[str, Any]) -> dict[str, Any]:
    """The recorded answer with one vector per input (base64 when asked, as OpenAI
    encodes it: little-endian float32) and `words + 3` tokens an input."""
    recorded = load_json("openai/embeddings.json")
    vector = recorded["data"][0]["embedding"]
    given = body.get("input")
    texts = [given] if isinstance(given, str) else list(given or [])
    as_base64 = body.get("encoding_format") == "base64"
    packed = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    recorded["data"] = [
        {"object": "embedding", "index": i, "embedding": packed if as_base64 else vector}
        for i in range(len(texts))
    ]
    tokens = sum(len(str(t).split()) + 3 if isinstance(t, str) else len(t) for t in texts)
    recorded["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
    recorded["model"] = model
    return recorded


def token_delays(frames: list[dict[str, Any]], delay: float) -> list[float]:
    """The wait before each frame: a model's per-token pace for frames carrying tokens,
    none for the first frame and for the finish and usage frames."""
    waits = []
    for i, frame in enumerate(frames):
        delta = frame["choices"][0]["delta"] if frame.get("choices") else {}
        carries = delta.get("content") or delta.get("tool_calls")
        waits.append(delay if i > 0 and carries else 0.0)
    return waits


def routes(up: FakeUpstream) -> list[Route]:
    def unauthorized(request: Request) -> Response | None:
        auth = request.headers.get("authorization", "")
        key = auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else ""
        if not key:
            return JSONResponse(MISSING_KEY, status_code=401)
        if up.openai_valid_keys is not None and key not in up.openai_valid_keys:
            return JSONResponse(load_json("openai/error_401.json"), status_code=401)
        return None

    async def chat_completions(request: Request) -> Response:
        body = await up.record(request)
        denied = unauthorized(request)
        if denied is not None:
            return denied
        if not isinstance(body, dict):
            return JSONResponse(
                {
                    "error": {
                        "message": "We could not parse the JSON body.",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": None,
                    }
                },
                status_code=400,
            )
        model = str(body.get("model") or "")
        scenario = up.pick("openai", model, body)
        failure = _error_for(scenario, model)
        if failure is not None:
            return failure
        stream = bool(body.get("stream"))
        if scenario == "stall" or (scenario == "slow" and not stream):
            return Stall(up.stall_seconds, up.note_cancelled)
        if not stream:
            if scenario == "midstream_error":
                return JSONResponse(load_json("openai/error_500.json"), status_code=500)
            await up.generation_time(
                sum(token_delays(stream_frames(scenario, model, body), up.chunk_delay))
            )
            return JSONResponse(completion(scenario, model, body))
        frames = stream_frames(scenario, model, body)
        if scenario == "slow":
            tick = stream_frames("default", model, body)[1]
            frames = [frames[0], *[tick] * up.slow_chunks, *frames[-2:]]
        delay = max(up.chunk_delay, up.slow_delay) if scenario == "slow" else up.chunk_delay
        pieces: list[Piece] = [
            (wait, f"data: {json.dumps(f)}\n\n".encode())
            for wait, f in zip(token_delays(frames, delay), frames, strict=True)
        ]
        if scenario == "midstream_error":
            pieces = [
                *pieces[:3],
                (
                    delay,
                    b"data: "
                    + json.dumps({"error": load_json("openai/error_500.json")["error"]}).encode()
                    + b"\n\n",
                ),
            ]
        else:
            pieces.append((0.0, b"data: [DONE]\n\n"))
        if scenario == "stall_midstream":
            pieces = [*pieces[:2], (up.stall_seconds, pieces[2][1])]
        return PacedStream(pieces, media_type=SSE, on_cancel=up.note_cancelled)

    async def embeddings(request: Request) -> Response:
        body = await up.record(request)
        denied = unauthorized(request)
        if denied is not None:
            return denied
        model = str((body or {}).get("model") or "")
        failure = _error_for(up.pick("openai", model, body or {}), model)
        if failure is not None:
            return failure
        return JSONResponse(embeddings_body(model, body or {}))

    async def models(request: Request) -> Response:
        await up.record(request)
        denied = unauthorized(request)
        if denied is not None:
            return denied
        if up.scenario == "stall":
            return Stall(up.stall_seconds, up.note_cancelled)
        if up.scenario in ("unauthorized", "server_error"):
            failure = _error_for(up.scenario, "")
            assert failure is not None
            return failure
        listed = load_json("openai/models.json")
        if up.openai_models is not None:
            template = listed["data"][0]
            listed["data"] = [{**template, "id": name} for name in up.openai_models]
        return JSONResponse(listed)

    return [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/embeddings", embeddings, methods=["POST"]),
    ]
