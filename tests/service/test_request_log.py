"""The request log: off by default, bodies kept only while on, secrets scrubbed, the
last N kept, never on disk; and usage exported as CSV and JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import httpx

from connector.config import Settings
from tests.conftest import TEST_OPENAI_KEY
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import OLLAMA_TEXT, assert_error, chat_body
from tests.service.test_keys import bearer, make_key

PASTED = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"


def _chat(url: str, content: str, key: str | None = None) -> httpx.Response:
    headers = bearer(key) if key else {}
    return httpx.post(f"{url}/v1/chat/completions", json=chat_body(content), headers=headers)


def test_bodies_are_kept_only_while_the_log_is_on(
    live_server: str, settings: Settings, upstream: FakeUpstream
) -> None:
    url = live_server
    assert httpx.get(f"{url}/requests/settings").json() == {"enabled": False, "capacity": 100}
    _chat(url, "before the log").raise_for_status()
    assert httpx.get(f"{url}/requests").json()["requests"] == []

    on = httpx.put(f"{url}/requests/settings", json={"enabled": True, "capacity": 3})
    assert on.json() == {"enabled": True, "capacity": 3}
    key = make_key(url, "logged")
    secret = (
        f"marker-1 keys: {TEST_OPENAI_KEY} {PASTED} {key['key']} Bearer abcdefghijklmnopqrstuvwx"
    )
    answered = _chat(url, secret, key["key"])
    answered.raise_for_status()
    page = httpx.get(f"{url}/requests").json()
    assert page["settings"]["enabled"] is True
    [summary] = page["requests"]
    assert summary["request_id"] == answered.json()["id"]
    assert (summary["key_id"], summary["key_name"]) == (key["id"], "logged")
    assert summary["status"] == "ok" and summary["prompt_tokens"] == 26
    assert summary["endpoint"] == "ollama" and summary["overhead_ms"] >= 0

    detail = httpx.get(f"{url}/requests/{summary['request_id']}")
    assert detail.status_code == 200
    logged = detail.json()
    text = detail.text
    for value in (TEST_OPENAI_KEY, PASTED, key["key"], "abcdefghijklmnopqrstuvwx"):
        assert value not in text, value
    content = logged["request"]["messages"][0]["content"]
    assert content.startswith("marker-1 keys: ***") and content.count("***") == 4
    assert logged["response"]["choices"][0]["message"]["content"] == OLLAMA_TEXT
    assert logged["response"]["usage"]["total_tokens"] == 308

    # A failed request is logged too, without an answer.
    upstream.scenario = "server_error"
    _chat(url, "marker-2", key["key"])
    upstream.scenario = "default"
    newest = httpx.get(f"{url}/requests").json()["requests"][0]
    assert newest["status"] == "error"
    assert httpx.get(f"{url}/requests/{newest['request_id']}").json()["response"] is None

    # Retention: the last three only, newest first.
    ids = [_chat(url, f"marker-{n}", key["key"]).json()["id"] for n in range(3, 6)]
    kept = [r["request_id"] for r in httpx.get(f"{url}/requests").json()["requests"]]
    assert kept == ids[::-1]
    assert_error(httpx.get(f"{url}/requests/{summary['request_id']}"), 404)

    # Never on disk: neither the prompts nor the secrets in them.
    for path in (p for p in Path(settings.data_dir).rglob("*") if p.is_file()):
        data = path.read_bytes()
        assert b"marker-" not in data and PASTED.encode() not in data, path

    off = httpx.put(f"{url}/requests/settings", json={"enabled": False})
    assert off.json() == {"enabled": False, "capacity": 3}
    assert httpx.get(f"{url}/requests").json()["requests"] == []
    _chat(url, "after", key["key"]).raise_for_status()
    assert httpx.get(f"{url}/requests").json()["requests"] == []
    assert_error(httpx.put(f"{url}/requests/settings", json={"capacity": 0}), 422)


def test_the_log_setting_survives_a_restart(
    make_settings: Callable[..., Settings], serve: Callable[[Settings], str]
) -> None:
    settings = make_settings()
    first = serve(settings)
    httpx.put(f"{first}/requests/settings", json={"enabled": True, "capacity": 7})
    second = serve(settings.model_copy(update={"port": 0}))
    assert httpx.get(f"{second}/requests/settings").json() == {"enabled": True, "capacity": 7}


def test_usage_exports_as_csv_and_json(live_server: str) -> None:
    url = live_server
    _chat(url, "one").raise_for_status()
    key = make_key(url, "exported")
    _chat(url, "two", key["key"]).raise_for_status()
    _chat(url, "three", key["key"]).raise_for_status()
    page = {"Sec-Fetch-Site": "same-origin"}

    as_json = httpx.get(f"{url}/usage/export", params={"format": "json"}, headers=page)
    assert as_json.status_code == 200 and as_json.headers["content-type"] == "application/json"
    records = as_json.json()
    assert [r["key_id"] for r in records] == [None, key["id"], key["id"]]
    assert records == sorted(records, key=lambda r: r["id"])

    as_csv = httpx.get(f"{url}/usage/export", params={"format": "csv"}, headers=page)
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [row["request_id"] for row in rows] == [r["request_id"] for r in records]
    assert {"key_id", "key_name", "overhead_ms", "total_tokens", "cost_usd"} <= set(rows[0])
    assert rows[1]["key_name"] == "exported" and rows[1]["total_tokens"] == "308"

    # A key exports its own records only.
    own = httpx.get(f"{url}/usage/export?format=json", headers=bearer(key["key"])).json()
    assert len(own) == 2 and {r["key_id"] for r in own} == {key["id"]}
    assert_error(httpx.get(f"{url}/usage/export?format=xml", headers=page), 422)
