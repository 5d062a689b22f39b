"""Migrations at start-up: a new database is migrated by Alembic, a database at head is
recognised without it (tests/service/test_startup.py checks it is not imported), an
older one is upgraded; the head read from the scripts is Alembic's own."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from connector.db import MIGRATIONS, head_revision, make_engine, migrate


def _version(database: Path) -> list[str]:
    with sqlite3.connect(database) as db:
        return [row[0] for row in db.execute("SELECT version_num FROM alembic_version")]


def test_head_read_from_the_scripts_is_alembics() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_a_new_database_is_migrated_and_then_left_alone(tmp_path: Path) -> None:
    database = tmp_path / "connector.db"
    engine = make_engine(f"sqlite:///{database}")
    try:
        assert migrate(engine) is True
        assert _version(database) == [head_revision()]
        assert migrate(engine) is False
        assert _version(database) == [head_revision()]
    finally:
        engine.dispose()


def test_an_older_database_is_upgraded(tmp_path: Path) -> None:
    database = tmp_path / "connector.db"
    engine = make_engine(f"sqlite:///{database}")
    try:
        migrate(engine)
        # An installation from before 0006, which added the app keys.
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0005")
        assert _version(database) == ["0005"]
        assert migrate(engine) is True
        assert _version(database) == [head_revision()]
        with sqlite3.connect(database) as db:
            assert db.execute("SELECT count(*) FROM app_key").fetchone() == (0,)
    finally:
        engine.dispose()


def test_scripts_without_one_head_mean_alembic_decides(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (tmp_path / "b.py").write_text('revision = "b"\ndown_revision = "a"\n')
    assert head_revision(tmp_path) == "b"
    (tmp_path / "c.py").write_text('revision = "c"\ndown_revision = "a"\n')
    assert head_revision(tmp_path) is None
    (tmp_path / "d.py").write_text("nothing = 1\n")
    assert head_revision(tmp_path) is None
