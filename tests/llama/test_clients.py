"""The same real completions through WS /ws/chat and through the official openai SDK
pointed at the connector."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import openai
from pydantic import BaseModel

# `with connect(...)` gives the base Connection (websockets 16 types __enter__ so).
from websockets.sync.client import connect
from websockets.sync.connection import Connection

from tests.llama.helpers import (
    COLOR_FORMAT,
    COLORS_PROMPT,
    LONG_PROMPT,
    PERSON_FORMAT,
    PERSON_PROMPT,
    PERSON_SCHEMA,
    SEED,
    SHORT_PROMPT,
    body,
    latest_records,
    upstream_body,
    usage_numbers,
)
from tests.llama.server import LlamaServer
from tests.service.helpers import ws_url


class ColorList(BaseModel):
    colors: list[str]


def _ws_run(ws: Connection, rid: str, request: dict[str, Any]) -> list[dict[str, Any]]:
    """Messages for request `rid` up to and including its done/error message."""
    ws.send(json.dumps({"type": "chat", "id": rid, "request": request}))
    messages: list[dict[str, Any]] = []
    for _ in range(2000):
        message = json.loads(ws.recv(timeout=120))
        assert message["id"] == rid, message
        messages.append(message)
        if message["type"] in ("done", "error", "cancelled"):
            return messages
    raise AssertionError("no done message")


def test_ws_chat_text_and_structured(connector: str, llama: LlamaServer) -> None:
    text_request = body(SHORT_PROMPT, max_tokens=32)
    direct = llama.chat(upstream_body(text_request))
    with connect(ws_url(connector, "/ws/chat"), open_timeout=10) as ws:
        messages = _ws_run(ws, "text", text_request)
        done = messages[-1]
        assert done["type"] == "done", done
        chunks = [m["chunk"] for m in messages[:-1]]
        assert chunks and all(m["type"] == "chunk" for m in messages[:-1])
        streamed = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
        message = done["response"]["choices"][0]["message"]
        assert streamed == message["content"] == direct["choices"][0]["message"]["content"]
        assert usage_numbers(done["response"]["usage"]) == usage_numbers(direct["usage"])

        # The same socket serves the next request, a structured one.
        messages = _ws_run(
            ws, "json", body(PERSON_PROMPT, max_tokens=96, response_format=PERSON_FORMAT)
        )
        done = messages[-1]
        assert done["type"] == "done", done
        message = done["response"]["choices"][0]["message"]
        assert message["parsed"] == json.loads(message["content"])
        jsonschema.validate(message["parsed"], PERSON_SCHEMA)

    records = latest_records(connector)
    assert [(r["surface"], r["status"], r["structured"]) for r in records] == [
        ("ws", "ok", True),
        ("ws", "ok", False),
    ]


def test_openai_sdk_against_the_connector(connector: str, llama: LlamaServer) -> None:
    client = openai.OpenAI(base_url=f"{connector}/v1", api_key="sk-any", max_retries=0, timeout=120)
    direct = llama.chat(upstream_body(body(SHORT_PROMPT, max_tokens=32)))

    completion = client.chat.completions.create(
        model="openai/smollm2",
        messages=[{"role": "user", "content": SHORT_PROMPT}],
        max_tokens=32,
        temperature=0,
        seed=SEED,
    )
    assert completion.choices[0].message.content == direct["choices"][0]["message"]["content"]
    assert completion.usage is not None
    assert usage_numbers(completion.usage.model_dump()) == usage_numbers(direct["usage"])

    stream = client.chat.completions.create(
        model="openai/smollm2",
        messages=[{"role": "user", "content": LONG_PROMPT}],
        max_tokens=24,
        temperature=0,
        seed=SEED,
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces: list[str] = []
    usage = None
    for event in stream:
        if event.choices:
            pieces.append(event.choices[0].delta.content or "")
        if event.usage is not None:
            usage = event.usage
    assert len([p for p in pieces if p]) > 5
    assert usage is not None and usage.completion_tokens == 24
    assert usage.total_tokens == usage.prompt_tokens + 24

    parsed = client.chat.completions.parse(
        model="openai/smollm2",
        messages=[{"role": "user", "content": COLORS_PROMPT}],
        max_tokens=96,
        temperature=0,
        seed=SEED,
        response_format=ColorList,
    )
    colors = parsed.choices[0].message.parsed
    assert isinstance(colors, ColorList) and "red" in colors.colors

    # The connector's own json_schema shape, through the SDK's plain create().
    raw = client.chat.completions.create(
        model="openai/smollm2",
        messages=[{"role": "user", "content": COLORS_PROMPT}],
        max_tokens=96,
        temperature=0,
        seed=SEED,
        extra_body={"response_format": COLOR_FORMAT},
    )
    extra = raw.choices[0].message.model_extra or {}
    assert extra.get("parsed") == json.loads(raw.choices[0].message.content or "")

    records = latest_records(connector)
    assert len(records) == 4 and {r["surface"] for r in records} == {"v1"}
    assert all(r["status"] == "ok" for r in records)


def test_ws_runs_requests_side_by_side_on_one_socket(connector: str, llama: LlamaServer) -> None:
    prompts = {"sea": "Describe the sea.", "moon": "Tell me about the moon.", "cat": SHORT_PROMPT}
    with connect(ws_url(connector, "/ws/chat"), open_timeout=10) as ws:
        for rid, prompt in prompts.items():
            ws.send(json.dumps({"type": "chat", "id": rid, "request": body(prompt, max_tokens=24)}))
        texts = {rid: "" for rid in prompts}
        done: dict[str, dict[str, Any]] = {}
        for _ in range(500):
            if len(done) == len(prompts):
                break
            message = json.loads(ws.recv(timeout=120))
            assert message["type"] in ("chunk", "done"), message
            if message["type"] == "chunk":
                assert message["id"] not in done, "chunk after done"
                texts[message["id"]] += message["chunk"]["choices"][0]["delta"].get("content") or ""
            else:
                done[message["id"]] = message["response"]
    assert set(done) == set(prompts)
    for rid, prompt in prompts.items():
        # Each id's chunks add up to its own answer, which is the server's answer.
        content = done[rid]["choices"][0]["message"]["content"]
        assert texts[rid] == content
        # Batched decoding may round differently from a lone request, so only the
        # prompt count is compared exactly.
        direct = llama.chat(upstream_body(body(prompt, max_tokens=24)))
        usage = done[rid]["usage"]
        assert usage["prompt_tokens"] == direct["usage"]["prompt_tokens"]
        assert 0 < usage["completion_tokens"] <= 24
