"""json_schema structured output: llama-server constrains generation to the schema, the
connector parses and validates the text and fills `message.parsed`."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema
import pytest

from tests.llama.helpers import (
    COLOR_FORMAT,
    COLORS_PROMPT,
    DONE,
    PERSON_FORMAT,
    PERSON_PROMPT,
    PERSON_SCHEMA,
    body,
    latest_records,
    read_stream,
)
from tests.service.helpers import COLOR_SCHEMA, assert_error

CASES = [
    pytest.param(COLORS_PROMPT, COLOR_FORMAT, COLOR_SCHEMA, id="color_list"),
    pytest.param(PERSON_PROMPT, PERSON_FORMAT, PERSON_SCHEMA, id="nested-enums-required"),
]


def _check_parsed(parsed: Any, text: str, schema: dict[str, Any]) -> None:
    assert parsed == json.loads(text)
    jsonschema.validate(parsed, schema)


def _check_values(parsed: dict[str, Any]) -> None:
    # What the prompts ask for; the schema alone would also allow other values.
    if "colors" in parsed:
        assert parsed["colors"] and all(isinstance(c, str) and c for c in parsed["colors"])
        assert "red" in parsed["colors"]
    else:
        assert parsed["address"]["country"] in {"FR", "DE", "US"}
        assert parsed["role"] in {"admin", "editor", "viewer"}
        assert parsed["name"]


@pytest.mark.parametrize(("prompt", "response_format", "schema"), CASES)
def test_blocking_structured_output(
    connector: str, prompt: str, response_format: dict[str, Any], schema: dict[str, Any]
) -> None:
    request = body(prompt, max_tokens=96, response_format=response_format)
    response = httpx.post(f"{connector}/chat/completions", json=request, timeout=120)
    assert response.status_code == 200, response.text
    choice = response.json()["choices"][0]
    assert choice["finish_reason"] == "stop", choice
    _check_parsed(choice["message"]["parsed"], choice["message"]["content"], schema)
    _check_values(choice["message"]["parsed"])
    record = latest_records(connector)[0]
    assert record["structured"] is True and record["status"] == "ok"


@pytest.mark.parametrize(("prompt", "response_format", "schema"), CASES)
def test_streamed_structured_output(
    connector: str, prompt: str, response_format: dict[str, Any], schema: dict[str, Any]
) -> None:
    request = body(prompt, max_tokens=96, response_format=response_format)
    with httpx.Client(timeout=120) as client:
        timed = read_stream(client, f"{connector}/chat/completions/stream", request)
    assert timed.events[-1] == DONE
    final = timed.events[-2]
    assert final["choices"] == []
    _check_parsed(final["parsed"], timed.text, schema)
    _check_values(final["parsed"])


def test_truncated_structured_output_is_a_502_with_the_raw_text(connector: str) -> None:
    # Cut off after a few tokens the grammar-constrained JSON is unfinished.
    request = body(COLORS_PROMPT, max_tokens=8, response_format=COLOR_FORMAT)
    with httpx.Client(timeout=120) as client:
        timed = read_stream(client, f"{connector}/chat/completions/stream", request)
    # Content streamed, then one error frame and no [DONE].
    raw = timed.text.strip()
    assert raw.startswith("{") and raw.count('"') >= 1, raw
    assert DONE not in timed.events
    final = timed.events[-1]
    # The server stopped at max_tokens: the error says so, and how to raise the limit.
    cut = "cut at the token limit (8 tokens)"
    assert set(final) == {"error"} and cut in final["error"]["message"]

    response = httpx.post(f"{connector}/chat/completions", json=request, timeout=120)
    error = assert_error(response, 502)
    assert cut in error["message"] and "max_completion_tokens" in error["message"]
    assert raw in error["message"]  # greedy decoding: the same unfinished text

    records = latest_records(connector)
    assert [(r["status"], r["structured"]) for r in records] == [("error", True)] * 2
