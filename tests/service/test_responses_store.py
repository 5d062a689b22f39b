"""Stored responses: `store` (default true) keeps a response and its input,
`previous_response_id` continues from it, retrieve / input_items / delete; an unknown
or deleted id is a 404 in OpenAI's shape."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from connector.config import Settings
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import OLLAMA_TEXT, OPENAI_TEXT, assert_error
from tests.service.responses_helpers import read_events

PROVIDERS = [
    pytest.param("ollama/gpt-oss:20b", "/api/chat", OLLAMA_TEXT, id="ollama"),
    pytest.param("openai/gpt-4o-mini", "/v1/chat/completions", OPENAI_TEXT, id="openai"),
]


@pytest.fixture
def client(shared_live_server: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{shared_live_server}/v1", api_key="sk-client-side", max_retries=0
    )


@pytest.fixture
def http(shared_live_server: str) -> httpx.Client:
    return httpx.Client(base_url=shared_live_server, timeout=30)


def _messages(upstream: FakeUpstream, path: str) -> list[dict[str, Any]]:
    return list(upstream.last(path).json["messages"])


@pytest.mark.parametrize(("model", "path", "text"), PROVIDERS)
def test_previous_response_id_continues_the_conversation(
    client: openai.OpenAI, upstream: FakeUpstream, model: str, path: str, text: str
) -> None:
    first = client.responses.create(model=model, input="Hi", instructions="Be brief.")
    second = client.responses.create(
        model=model, input="And why?", previous_response_id=first.id, instructions="Be kind."
    )
    assert second.previous_response_id == first.id
    # The earlier turn's input and output come first; its instructions do not carry over.
    assert _messages(upstream, path) == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": text},
        {"role": "user", "content": "And why?"},
    ]
    third = client.responses.create(
        model=model, input=[{"role": "user", "content": "Thanks"}], previous_response_id=second.id
    )
    assert third.output_text == text
    assert [m["content"] for m in _messages(upstream, path)] == [
        "Hi",
        text,
        "And why?",
        text,
        "Thanks",
    ]


def test_streamed_response_is_stored_before_it_ends(
    client: openai.OpenAI, upstream: FakeUpstream
) -> None:
    with client.responses.stream(model="openai/gpt-4o-mini", input="Hi") as stream:
        final = stream.get_final_response()
    stored = client.responses.retrieve(final.id)
    assert stored.status == "completed" and stored.output_text == OPENAI_TEXT
    assert stored.output[0].type == final.output[0].type == "message"
    assert stored.output[0].id == final.output[0].id
    client.responses.create(model="openai/gpt-4o-mini", input="More", previous_response_id=final.id)
    assert _messages(upstream, "/v1/chat/completions")[1] == {
        "role": "assistant",
        "content": OPENAI_TEXT,
    }


@pytest.mark.parametrize("stream", [False, True])
def test_store_false_keeps_nothing(
    client: openai.OpenAI, http: httpx.Client, upstream: FakeUpstream, stream: bool
) -> None:
    body = {"model": "openai/gpt-4o-mini", "input": "Hi", "store": False, "stream": stream}
    if stream:
        answer = read_events(http, "/v1/responses", body)[-1]["response"]
    else:
        answer = http.post("/v1/responses", json=body).json()
    assert answer["store"] is False and answer["status"] == "completed"
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(answer["id"])
    sent_before = len(upstream.calls())
    continued = http.post(
        "/v1/responses", json={"input": "More", "previous_response_id": answer["id"]}
    )
    error = assert_error(continued, 404)
    assert error["param"] == "previous_response_id"
    assert answer["id"] in error["message"]
    assert len(upstream.calls()) == sent_before  # refused before any upstream call


def test_retrieve_input_items_and_delete(
    client: openai.OpenAI, http: httpx.Client, upstream: FakeUpstream
) -> None:
    created = client.responses.create(
        model="ollama/gpt-oss:20b",
        input=[
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
            {"role": "user", "content": "Why is the sky blue?"},
        ],
        metadata={"app": "test"},
    )
    stored = client.responses.retrieve(created.id)
    assert stored.model_dump() == created.model_dump()
    assert (
        http.get(f"/responses/{created.id}").json()
        == http.get(f"/v1/responses/{created.id}").json()
    )

    items = client.responses.input_items.list(created.id, order="asc")
    assert [(i.type, getattr(i, "role", None)) for i in items.data] == [
        ("message", "developer"),
        ("message", "user"),
        ("message", "user"),
    ]
    last = items.data[2]
    assert last.type == "message" and last.content[0].type == "input_text"
    assert last.content[0].text == "Why is the sky blue?"
    assert all(i.id and i.id.startswith("msg_") for i in items.data)
    newest_first = http.get(f"/v1/responses/{created.id}/input_items").json()
    assert [i["id"] for i in newest_first["data"]] == [i.id for i in reversed(items.data)]
    page = http.get(
        f"/v1/responses/{created.id}/input_items",
        params={"order": "asc", "limit": 1, "after": items.data[0].id},
    ).json()
    assert [i["id"] for i in page["data"]] == [items.data[1].id]
    assert page["has_more"] is True and page["first_id"] == page["last_id"] == items.data[1].id

    client.responses.delete(created.id)
    for path in (f"/v1/responses/{created.id}", f"/v1/responses/{created.id}/input_items"):
        assert created.id in assert_error(http.get(path), 404)["message"]
    assert_error(http.delete(f"/v1/responses/{created.id}"), 404)
    assert_error(http.get("/responses/resp_unknown"), 404)


def test_failed_stream_is_stored_as_failed(http: httpx.Client, upstream: FakeUpstream) -> None:
    upstream.scenario = "midstream_error"
    events = read_events(
        http, "/v1/responses", {"model": "openai/gpt-4o-mini", "input": "Hi", "stream": True}
    )
    failed = events[-1]["response"]
    stored = http.get(f"/v1/responses/{failed['id']}").json()
    assert stored == failed and stored["status"] == "failed"


def test_table_comes_from_the_migration(settings: Settings, live_server: str) -> None:
    httpx.post(
        f"{live_server}/v1/responses", json={"model": "gpt-oss:20b", "input": "Hi"}, timeout=30
    ).raise_for_status()
    database = Path(settings.data_dir) / "connector.db"
    with sqlite3.connect(database) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(stored_response)")}
        (count,) = db.execute("SELECT count(*) FROM stored_response").fetchone()
        (version,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    assert columns == {
        "id",
        "created_at",
        "previous_response_id",
        "model",
        "status",
        "input_json",
        "response_json",
    }
    assert count == 1
    assert version >= "0003"
