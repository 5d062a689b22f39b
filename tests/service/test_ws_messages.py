"""The WebSocket messages are the models in connector/schemas/ws.py: what the server sends
parses as them (strictly: no field the schema lacks), and the OpenAPI document the UI's
types are generated from carries them."""

from __future__ import annotations

import json
from typing import Any

import httpx
from pydantic import BaseModel, TypeAdapter
from websockets.sync.client import connect

from connector.openapi import with_ws_messages
from connector.schemas.ws import WS_MODELS, ChatServerMessage, MonitorMessage, json_schemas
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import chat_body, ws_url

CHAT = TypeAdapter(ChatServerMessage)
MONITOR = TypeAdapter(MonitorMessage)


def _keys(value: Any) -> set[str]:
    """Every dotted key path in a JSON value (list items share their parent's path)."""
    out: set[str] = set()

    def walk(v: Any, prefix: str) -> None:
        if isinstance(v, dict):
            for k, item in v.items():
                out.add(prefix + k)
                walk(item, prefix + k + ".")
        elif isinstance(v, list):
            for item in v:
                walk(item, prefix)

    walk(value, "")
    return out


def _same_as_model(raw: dict[str, Any], parsed: BaseModel) -> None:
    # Re-dumping the parsed model gives back every key sent: nothing the schema lacks.
    assert _keys(raw) <= _keys(parsed.model_dump(mode="json")), raw


def test_chat_socket_messages_are_the_schema(live_server: str, upstream: FakeUpstream) -> None:
    kinds: list[str] = []
    with connect(ws_url(live_server, "/ws/chat"), open_timeout=5) as ws:
        ws.send(json.dumps({"type": "chat", "id": "a", "request": chat_body(provider="ollama")}))
        ws.send("not json")
        while "done" not in kinds or "error" not in kinds:
            raw = json.loads(ws.recv(timeout=10))
            message = CHAT.validate_python(raw)
            _same_as_model(raw, message)
            kinds.append(message.type)
    assert kinds.count("done") == 1 and "chunk" in kinds


def test_monitoring_messages_are_the_schema(live_server: str, upstream: FakeUpstream) -> None:
    kinds: list[str] = []
    with connect(ws_url(live_server, "/ws/monitoring"), open_timeout=5) as ws:
        httpx.post(
            f"{live_server}/chat/completions", json=chat_body(provider="ollama")
        ).raise_for_status()
        while "record" not in kinds:
            raw = json.loads(ws.recv(timeout=10))
            message = MONITOR.validate_python(raw)
            _same_as_model(raw, message)
            kinds.append(message.type)
    assert kinds[0] == "snapshot" and "in_flight" in kinds


def test_openapi_document_carries_every_message() -> None:
    spec = with_ws_messages({"components": {"schemas": {}}})
    schemas = spec["components"]["schemas"]
    for model in WS_MODELS:
        assert "type" in schemas[model.__name__]["required"], model.__name__
    for union in ("ChatClientMessage", "ChatServerMessage", "MonitorMessage"):
        assert schemas[union]["discriminator"]["propertyName"] == "type"
    # Every reference resolves inside the document.
    text = json.dumps(schemas)
    for name in json_schemas():
        assert name in schemas
    for ref in {part.split('"')[0] for part in text.split("#/components/schemas/")[1:]}:
        assert ref in schemas, ref
