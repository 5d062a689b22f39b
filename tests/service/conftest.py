"""Fixtures of the service tier beyond tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.upstream import FakeUpstream


@pytest.fixture(scope="session")
def _second_upstream_server() -> Iterator[FakeUpstream]:
    with FakeUpstream() as second:
        yield second


@pytest.fixture
def second_upstream(_second_upstream_server: FakeUpstream) -> Iterator[FakeUpstream]:
    """A second fake upstream on its own port (another OpenAI-compatible or Ollama
    server beside `upstream`), reset for each test."""
    _second_upstream_server.reset()
    yield _second_upstream_server
    _second_upstream_server.reset()
