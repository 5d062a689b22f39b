"""The official `openai` SDK works against the connector by changing `base_url`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import openai
import pytest
from pydantic import BaseModel

from tests.conftest import TEST_OPENAI_KEY
from tests.fakes.upstream import FakeUpstream
from tests.service.helpers import COLOR_FORMAT, OLLAMA_TEXT, OPENAI_TEXT, PACED

if TYPE_CHECKING:
    from openai.types.shared_params import ResponseFormatJSONSchema


class ColorList(BaseModel):
    colors: list[str]


# (how the provider is chosen, the model the SDK sends, extra_body, upstream path, text)
ROUTES = [
    pytest.param("ollama/gpt-oss:20b", None, "/api/chat", OLLAMA_TEXT, id="ollama-prefix"),
    pytest.param("gpt-oss:20b", {"provider": "ollama"}, "/api/chat", OLLAMA_TEXT,
                 id="ollama-extra-body"),
    pytest.param("openai/gpt-4o-mini", None, "/v1/chat/completions", OPENAI_TEXT,
                 id="openai-prefix"),
    pytest.param("gpt-4o-mini", {"provider": "openai"}, "/v1/chat/completions", OPENAI_TEXT,
                 id="openai-extra-body"),
]  # fmt: skip


@pytest.fixture(params=["", "/v1"], ids=["root", "v1"])
def client(request: pytest.FixtureRequest, shared_live_server: str) -> openai.OpenAI:
    # The SDK sends its own bearer key; without CONNECTOR_API_TOKEN the connector
    # ignores it and uses the configured OpenAI key upstream.
    return openai.OpenAI(
        base_url=shared_live_server + request.param, api_key="sk-client-side", max_retries=0
    )


def _upstream_model(upstream: FakeUpstream, path: str) -> str:
    return str(upstream.last(path).json["model"])


@pytest.mark.parametrize(("model", "extra", "path", "text"), ROUTES)
def test_sdk_completion(
    client: openai.OpenAI,
    upstream: FakeUpstream,
    model: str,
    extra: dict[str, Any] | None,
    path: str,
    text: str,
) -> None:
    completion = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Hi"}], extra_body=extra
    )
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == text
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens > 0
    assert _upstream_model(upstream, path) == model.split("/", 1)[-1]
    if path.startswith("/v1"):
        assert upstream.last(path).headers["authorization"] == f"Bearer {TEST_OPENAI_KEY}"


@pytest.mark.parametrize(("model", "extra", "path", "text"), ROUTES)
def test_sdk_stream_with_usage(
    client: openai.OpenAI,
    upstream: FakeUpstream,
    model: str,
    extra: dict[str, Any] | None,
    path: str,
    text: str,
) -> None:
    upstream.chunk_delay = PACED  # each token in a read of its own
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Hi"}],
        stream=True,
        stream_options={"include_usage": True},
        extra_body=extra,
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content == text
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None and last.usage.total_tokens > 0
    assert _upstream_model(upstream, path) == model.split("/", 1)[-1]


@pytest.mark.parametrize(("model", "extra", "path", "text"), ROUTES)
def test_sdk_common_stream_loop_without_stream_options(
    client: openai.OpenAI,
    upstream: FakeUpstream,
    model: str,
    extra: dict[str, Any] | None,
    path: str,
    text: str,
) -> None:
    # The loop most code is written with: it reads choices[0] of every chunk, which a
    # usage chunk (`choices: []`) nobody asked for would break with an IndexError.
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Hi"}], stream=True, extra_body=extra
    )
    content = ""
    for chunk in stream:
        content += chunk.choices[0].delta.content or ""
        assert chunk.usage is None
    assert content == text
    assert upstream.last(path).json["stream"] is True  # metering still gets its usage


@pytest.mark.parametrize(("model", "extra", "path", "text"), ROUTES)
def test_sdk_parse_pydantic(
    client: openai.OpenAI,
    upstream: FakeUpstream,
    model: str,
    extra: dict[str, Any] | None,
    path: str,
    text: str,
) -> None:
    completion = client.chat.completions.parse(
        model=model,
        messages=[{"role": "user", "content": "List three colors."}],
        response_format=ColorList,
        extra_body=extra,
    )
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, ColorList)
    assert parsed.colors == ["red", "green", "blue"]
    sent = upstream.last(path).json
    if path == "/api/chat":
        assert sent["format"]["properties"]["colors"]["type"] == "array"
    else:
        assert sent["response_format"]["type"] == "json_schema"
        assert sent["response_format"]["json_schema"]["name"] == "ColorList"


@pytest.mark.parametrize(("model", "extra", "path", "text"), ROUTES)
def test_sdk_json_schema_parsed_field(
    client: openai.OpenAI,
    upstream: FakeUpstream,
    model: str,
    extra: dict[str, Any] | None,
    path: str,
    text: str,
) -> None:
    completion = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "List three colors."}],
        response_format=cast("ResponseFormatJSONSchema", COLOR_FORMAT),
        extra_body=extra,
    )
    message = completion.choices[0].message
    assert (message.model_extra or {}).get("parsed") == {"colors": ["red", "green", "blue"]}
    assert message.content is not None and '"colors"' in message.content


def test_sdk_sees_openai_errors_as_sdk_exceptions(
    client: openai.OpenAI, upstream: FakeUpstream
) -> None:
    upstream.scenario = "not_found"
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(
            model="ollama/llama3.2:1b", messages=[{"role": "user", "content": "Hi"}]
        )
    assert "ollama pull llama3.2:1b" in str(raised.value)
    upstream.scenario = "rate_limited"
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}]
        )
    assert limited.value.response.headers["retry-after"] == "7"


def test_sdk_lists_models_under_v1(shared_live_server: str) -> None:
    client = openai.OpenAI(base_url=f"{shared_live_server}/v1", api_key="unused", max_retries=0)
    ids = {m.id for m in client.models.list()}
    assert "ollama/gpt-oss:20b" in ids
    assert "openai/model-id-0" in ids
