"""The llama tier: a real llama-server (SmolLM2-135M) behind the connector's OpenAI
provider. One model server per session; a fresh connector (own database) per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from connector.config import Settings
from tests.fakes.server import closed_port_url
from tests.llama.server import LlamaServer, LlamaServerError
from tests.service.helpers import wait_until

# Any key: llama-server does not check it, the connector only needs one to be set.
DUMMY_KEY = "sk-llama-local-dummy"


@pytest.fixture(scope="session")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    server = LlamaServer(tmp_path_factory.mktemp("llama") / "llama-server.log")
    try:
        server.start()
    except LlamaServerError as exc:
        pytest.fail(f"llama tier set-up failed: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _llama_idle(llama: LlamaServer) -> Iterator[None]:
    """Each test starts with every slot idle (a cancelled request of the previous
    test must not be mistaken for this one's) and ends with the server still alive."""
    if not wait_until(lambda: not llama.busy_slots(), timeout=15, step=0.1):
        pytest.fail(f"llama-server slots still busy before the test: {llama.busy_slots()}")
    yield
    if not llama.alive():
        pytest.fail(f"llama-server died during the test:\n{llama.log_tail()}", pytrace=False)


@pytest.fixture
def llama_settings(tmp_path: Path, clean_env: None, llama: LlamaServer) -> Settings:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return Settings(
        data_dir=data_dir,
        openai_base_url=llama.openai_url,
        openai_api_key=DUMMY_KEY,
        # Nothing answers there: this tier talks to llama-server only.
        ollama_base_url=closed_port_url(),
        key_store="memory",
        default_provider="openai",
        default_model=llama.model,
    )


@pytest.fixture
def connector(llama_settings: Settings, serve: Callable[[Settings], str]) -> str:
    """Base URL of a live connector whose OpenAI provider is the llama-server."""
    return serve(llama_settings)
