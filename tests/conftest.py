"""Shared fixtures: a fake upstream over real HTTP, connector settings pointing at it,
and the connector itself served by uvicorn on a free loopback port.

    def test_x(live_server, upstream): ...            # defaults
    def test_y(make_settings, serve):                  # variations
        url = serve(make_settings(api_token="t"))
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.fakes.server import ServerThread
from tests.fakes.upstream import FakeUpstream

if TYPE_CHECKING:
    from connector.config import Settings

TEST_OPENAI_KEY = "sk-test-SECRETKEY1234"

# Environment that would leak the machine's configuration into a test's Settings.
_ENV_PREFIXES = ("CONNECTOR_", "OPENAI_", "OLLAMA_")
_ENV_NAMES = ("HOST", "PORT", "DATABASE_URL")


@pytest.fixture(scope="session")
def _upstream_server() -> Iterator[FakeUpstream]:
    with FakeUpstream() as up:
        yield up


@pytest.fixture
def upstream(_upstream_server: FakeUpstream) -> Iterator[FakeUpstream]:
    """The fake Ollama + OpenAI upstream, reset for each test."""
    _upstream_server.reset()
    yield _upstream_server
    _upstream_server.reset()


@pytest.fixture(scope="session")
def _second_upstream_server() -> Iterator[FakeUpstream]:
    with FakeUpstream() as second:
        yield second


@pytest.fixture
def second_upstream(_second_upstream_server: FakeUpstream) -> Iterator[FakeUpstream]:
    """A second fake upstream on its own port (another OpenAI-compatible or Ollama
    server beside `upstream`, as a second endpoint), reset for each test."""
    _second_upstream_server.reset()
    yield _second_upstream_server
    _second_upstream_server.reset()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) or name in _ENV_NAMES:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def make_settings(
    tmp_path: Path, upstream: FakeUpstream, clean_env: None
) -> Callable[..., Settings]:
    """Settings for a connector in `tmp_path` talking to the fake upstream; keyword
    arguments (field names) override."""
    from connector.config import Settings

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "ollama_base_url": upstream.ollama_url,
            "openai_base_url": upstream.openai_url,
            "openai_api_key": TEST_OPENAI_KEY,
            "key_store": "memory",
        }
        values.update(overrides)
        Path(values["data_dir"]).mkdir(parents=True, exist_ok=True)
        return Settings(**values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def serve() -> Iterator[Callable[[Settings], str]]:
    """Start `connector.main.create_app(settings)` under uvicorn; returns its base URL.
    Every server started is shut down cleanly after the test."""
    from connector.main import create_app

    servers: list[ServerThread] = []

    def start(settings: Settings) -> str:
        server = ServerThread(create_app(settings), lifespan="on").start()
        servers.append(server)
        return server.url

    yield start
    for server in reversed(servers):
        server.stop()


@pytest.fixture
def live_server(settings: Settings, serve: Callable[[Settings], str]) -> str:
    """Base URL (http://127.0.0.1:PORT) of a running connector with the default settings."""
    return serve(settings)


@pytest.fixture(scope="module")
def shared_live_server(
    _upstream_server: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Like `live_server`, but one connector for a whole module: for tests that change
    no connector state (settings, usage totals), so they need not pay a start-up each."""
    from connector.config import Settings
    from connector.main import create_app

    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(_ENV_PREFIXES) or name in _ENV_NAMES:
                patch.delenv(name, raising=False)
        settings = Settings(
            data_dir=tmp_path_factory.mktemp("shared"),
            ollama_base_url=_upstream_server.ollama_url,
            openai_base_url=_upstream_server.openai_url,
            openai_api_key=TEST_OPENAI_KEY,
            key_store="memory",
        )
        server = ServerThread(create_app(settings), lifespan="on").start()
    try:
        yield server.url
    finally:
        server.stop()
