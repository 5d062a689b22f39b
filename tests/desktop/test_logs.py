"""Logging: the platform's log folder, rotation, and no tokens in the file."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop import logs


@pytest.fixture
def restore_root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_log_file_rotates_and_masks_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_root_logging: None
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setattr(logs, "MAX_BYTES", 20_000)
    path = logs.setup_logging("info", console=False)
    assert path == tmp_path / "ai-connector" / "log" / "ai-connector.log"

    log = logging.getLogger("uvicorn.error")
    log.info('127.0.0.1:5 - "WebSocket /ws/chat?token=SeCrEt123&x=1" [accepted]')
    logging.getLogger("desktop").info("header Authorization: Bearer SeCrEt456")
    for i in range(400):
        logging.getLogger("desktop").info("line %d %s", i, "x" * 80)
    for handler in logging.getLogger().handlers:
        handler.flush()

    files = sorted(p.name for p in path.parent.iterdir())
    assert "ai-connector.log.1" in files
    assert len(files) <= logs.BACKUPS + 1
    text = "".join(p.read_text() for p in path.parent.iterdir())
    assert "SeCrEt" not in text
    assert "token=***" in text or "Bearer ***" in text
