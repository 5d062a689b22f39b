"""The data volume: what the operator guide says about backing it up holds."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path

import httpx

from tests.docker.conftest import StartImage
from tests.docker.dockerfile import REPO


def test_the_documented_online_backup_works(start_image: StartImage, tmp_path: Path) -> None:
    """docs/docker.md's `docker exec ... python -c` backup, run inside "the container"."""
    docs = (REPO / "docs" / "docker.md").read_text(encoding="utf-8")
    match = re.search(r'docker exec ai-connector python -c "([^"]+)"', docs)
    assert match, "the backup command is gone from docs/docker.md"
    container = start_image()
    profile = {"display_name": "Backed Up", "email": "b@example.com"}
    assert httpx.post(container.url + "/profile", json=profile).status_code == 200
    result = container.run(["python", "-c", match.group(1)])
    assert result.returncode == 0, result.stderr
    backup = tmp_path / "data" / "backup.db"
    with contextlib.closing(sqlite3.connect(backup)) as db:
        tables = {row[0] for row in db.execute("select name from sqlite_master")}
        dumped = "\n".join(db.iterdump())
    assert "alembic_version" in tables
    assert "Backed Up" in dumped
    container.stop_cleanly()
