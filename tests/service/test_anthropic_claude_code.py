"""What Claude Code 2.1.197 really sent (tests/data/clients), replayed as it is: each
request gets a valid Anthropic answer and is metered exactly once, with surface
`anthropic` and the client `claude-cli/2.1.197`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from anthropic.lib.streaming._messages import accumulate_event
from anthropic.types import Message, RawMessageStreamEvent
from pydantic import TypeAdapter

from connector.config import Settings
from tests.fakes.recorded import load_json
from tests.fakes.upstream import FakeUpstream

STREAM = "clients/claude-code_02_messages_stream.json"
RETRY = "clients/claude-code_03_messages_retry_nonstream.json"
# Headers the replay cannot send as recorded: the listener's address and length, and
# the credential that was removed from the capture.
_NOT_REPLAYED = {"host", "content-length", "authorization", "connection", "accept-encoding"}
EVENTS: TypeAdapter[RawMessageStreamEvent] = TypeAdapter(RawMessageStreamEvent)


def _replay(url: str, name: str, token: str | None = None) -> httpx.Response:
    captured = load_json(name)
    headers = {k: v for k, v in captured["headers"].items() if k.lower() not in _NOT_REPLAYED}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.request(
        captured["method"],
        url + captured["path"],
        content=json.dumps(captured["body"]).encode(),
        headers=headers,
        timeout=30,
    )


def _final_message(response: httpx.Response) -> Message:
    """The stream folded as the SDK folds it, every event validated by its types."""
    snapshot = None
    names = []
    json_bufs: dict[int, bytes] = {}
    for block in response.text.split("\n\n"):
        if not block.strip():
            continue
        name_line, data_line = block.split("\n")
        name, data = name_line.removeprefix("event: "), json.loads(data_line[len("data: ") :])
        names.append(name)
        if name == "ping":
            continue
        snapshot = accumulate_event(
            event=EVENTS.validate_python(data), current_snapshot=snapshot, json_bufs=json_bufs
        )
    assert names[0] == "message_start" and names[-1] == "message_stop", names
    assert snapshot is not None
    return Message.model_validate(snapshot.model_dump())


def _records(url: str, token: str | None = None) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(f"{url}/usage", headers=headers, timeout=10)
    response.raise_for_status()
    return list(response.json()["recent"])


@pytest.mark.parametrize("token", [None, "tok-cc"], ids=["open", "with-token"])
def test_captured_requests_are_answered_and_metered_once(
    make_settings: Callable[..., Settings],
    serve: Callable[[Settings], str],
    upstream: FakeUpstream,
    token: str | None,
) -> None:
    url = serve(make_settings(api_token=token))
    head = load_json("clients/claude-code_01_head.json")
    probe = httpx.request(head["method"], url + head["path"], headers=head["headers"] | {
        "Host": "127.0.0.1"}, timeout=10)  # fmt: skip
    assert probe.status_code == 200  # Claude Code's reachability probe

    streamed = _replay(url, STREAM, token)
    assert streamed.status_code == 200, streamed.text[:500]
    assert streamed.headers["content-type"].startswith("text/event-stream")
    from_stream = _final_message(streamed)
    blocking = _replay(url, RETRY, token)
    assert blocking.status_code == 200, blocking.text[:500]
    answer = Message.model_validate(blocking.json())

    for message in (from_stream, answer):
        # The fake model calls the first of the 24 tools, with input valid for its schema.
        assert message.model == "gpt-oss:20b"
        assert message.stop_reason == "tool_use"
        [call] = message.content
        assert call.type == "tool_use" and call.name == "Agent"
        assert isinstance(call.input, dict) and call.input
        assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0

    records = _records(url, token)
    assert [(r["surface"], r["client"], r["status"]) for r in records] == [
        ("anthropic", "claude-cli/2.1.197", "ok"),
        ("anthropic", "claude-cli/2.1.197", "ok"),
    ]
    assert all(r["provider"] == "ollama" and r["model"] == "gpt-oss:20b" for r in records)


def test_what_reached_the_upstream(live_server: str, upstream: FakeUpstream) -> None:
    response = _replay(live_server, RETRY)
    assert response.status_code == 200, response.text[:500]
    sent = upstream.last("/api/chat").json
    captured = load_json(RETRY)["body"]
    assert sent["model"] == "gpt-oss:20b"  # a bare name: the default provider
    assert [t["function"]["name"] for t in sent["tools"]] == [t["name"] for t in captured["tools"]]
    assert sent["tools"][1]["function"]["parameters"] == captured["tools"][1]["input_schema"]
    system, user, mid_system = sent["messages"]
    # The billing block is left out; the instructions are kept, in order.
    assert system["role"] == "system"
    assert "x-anthropic-billing-header" not in system["content"]
    assert system["content"].startswith(captured["system"][1]["text"])
    assert system["content"].endswith(captured["system"][2]["text"])
    assert user == {
        "role": "user",
        "content": "\n".join(b["text"] for b in captured["messages"][0]["content"]),
    }
    assert mid_system == {"role": "system", "content": captured["messages"][1]["content"]}
    # adaptive thinking at output_config.effort "high"; max_tokens as the token limit.
    assert sent["think"] == "high"
    assert sent["options"]["num_predict"] == 32000
    assert set(sent) == {"model", "messages", "tools", "stream", "options", "think"}
    assert all(set(m) == {"role", "content"} for m in sent["messages"])  # no cache_control


def test_captured_stream_with_upstream_failure_midway(
    live_server: str, upstream: FakeUpstream
) -> None:
    upstream.scenario = "midstream_error"
    response = _replay(live_server, STREAM)
    assert response.status_code == 200
    last = response.text.strip().split("\n\n")[-1].split("\n")
    assert last[0] == "event: error"
    assert json.loads(last[1][len("data: ") :])["error"]["type"] == "api_error"
    records = _records(live_server)
    assert [(r["surface"], r["status"]) for r in records] == [("anthropic", "error")]
