"""Migrations at start-up: a new database is made from the migrations' own result
(`migrations/head.sql`), exactly as Alembic makes it; a database at head is recognised
without Alembic (tests/service/test_startup.py checks it is not imported on either
start); an older one is upgraded by Alembic; the head read from the scripts is
Alembic's own."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from connector import db as connector_db
from connector.db import (
    HEAD_SCHEMA,
    MIGRATIONS,
    head_revision,
    head_statements,
    make_engine,
    migrate,
    schema_dump,
    snapshot_revision,
    upgrade,
)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _version(database: Path) -> list[str]:
    with sqlite3.connect(database) as db:
        return [row[0] for row in db.execute("SELECT version_num FROM alembic_version")]


def test_head_read_from_the_scripts_is_alembics() -> None:
    config = _alembic_config()
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


def _downgrade(engine: Engine, revision: str) -> None:
    """Take a migrated database back to `revision`, as an older installation left it."""
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_an_older_database_is_upgraded(tmp_path: Path) -> None:
    database = tmp_path / "connector.db"
    engine = make_engine(f"sqlite:///{database}")
    try:
        migrate(engine)
        _downgrade(engine, "0005")  # an installation from before the app keys
        assert _version(database) == ["0005"]
        assert migrate(engine) is True
        assert _version(database) == [head_revision()]
        with sqlite3.connect(database) as db:
            assert db.execute("SELECT count(*) FROM app_key").fetchone() == (0,)
    finally:
        engine.dispose()


def test_0007_keeps_the_in_flight_rows_and_thins_the_record_indexes(tmp_path: Path) -> None:
    """The in-flight rows a crash left (the next start records them as interrupted)
    survive the move to a table WITHOUT ROWID; records keep only the indexes queries
    use, key_id for keyed records alone."""
    database = tmp_path / "connector.db"
    engine = make_engine(f"sqlite:///{database}")
    try:
        migrate(engine)
        _downgrade(engine, "0006")
        with sqlite3.connect(database) as db:
            db.execute(
                "INSERT INTO usage_inflight (request_id, started_at, surface, client, kind, "
                "provider, model, structured, key_id) VALUES "
                "('r1', '2026-12-01 10:00:00', 'v1', 'curl', 'chat', 'ollama', 'm', 0, 'k1')"
            )
        assert migrate(engine) is True
        with sqlite3.connect(database) as db:
            rows = db.execute("SELECT request_id, client, key_id FROM usage_inflight").fetchall()
            table = db.execute(
                "SELECT sql FROM sqlite_master WHERE name = 'usage_inflight'"
            ).fetchone()[0]
            indexes = dict(
                db.execute(
                    "SELECT name, sql FROM sqlite_master "
                    "WHERE type = 'index' AND tbl_name = 'usage_record'"
                ).fetchall()
            )
        assert rows == [("r1", "curl", "k1")]
        assert "WITHOUT ROWID" in table
        assert set(indexes) == {
            "ix_usage_record_created_at",
            "ix_usage_record_client",
            "ix_usage_record_key_id",
        }
        assert indexes["ix_usage_record_key_id"].endswith("WHERE key_id IS NOT NULL")
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


def _migrate(database: Path) -> bool:
    engine = make_engine(f"sqlite:///{database}")
    try:
        return migrate(engine)
    finally:
        engine.dispose()


def _alembic_made(tmp_path: Path) -> Path:
    database = tmp_path / "alembic.db"
    engine = make_engine(f"sqlite:///{database}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return database


def test_the_snapshot_is_what_the_migrations_build_now(tmp_path: Path) -> None:
    assert schema_dump(_alembic_made(tmp_path)) == head_statements(), (
        f"{HEAD_SCHEMA.relative_to(MIGRATIONS.parent.parent)} is out of date: "
        "run `python -m connector.db` after changing a migration"
    )
    assert snapshot_revision(head_statements()) == head_revision()


def test_a_new_database_is_made_as_alembic_makes_it(tmp_path: Path) -> None:
    database = tmp_path / "connector.db"
    assert _migrate(database) is True
    assert schema_dump(database) == schema_dump(_alembic_made(tmp_path))
    assert _version(database) == [head_revision()]


def _down_and_up_again(database: Path) -> None:
    engine = make_engine(f"sqlite:///{database}")
    try:
        config = _alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0004")
        assert _version(database) == ["0004"]
        assert migrate(engine) is True
    finally:
        engine.dispose()


def test_a_database_made_from_the_snapshot_is_alembics_to_downgrade_and_upgrade(
    tmp_path: Path,
) -> None:
    database = tmp_path / "connector.db"
    _migrate(database)
    _down_and_up_again(database)
    # The same as a database Alembic made and took down and up the same way (its batch
    # mode writes a rebuilt table's name quoted, and rebuilt indexes come later).
    alembic_made = _alembic_made(tmp_path)
    _down_and_up_again(alembic_made)
    assert sorted(schema_dump(database)) == sorted(schema_dump(alembic_made))
    assert _version(database) == [head_revision()]


def test_a_database_that_holds_anything_is_left_to_alembic(tmp_path: Path) -> None:
    database = tmp_path / "connector.db"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
        db.execute("INSERT INTO notes VALUES ('kept')")
    db.close()
    assert _migrate(database) is True
    assert _version(database) == [head_revision()]
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT text FROM notes").fetchall() == [("kept",)]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    db.close()
    assert {"usage_record", "app_key", "stored_response"} <= tables


def test_a_snapshot_of_another_revision_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = tmp_path / "head.sql"
    stale.write_text(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL);\n"
        "INSERT INTO \"alembic_version\" VALUES('0001');\n"
    )
    monkeypatch.setattr(connector_db, "HEAD_SCHEMA", stale)
    database = tmp_path / "connector.db"
    assert _migrate(database) is True
    # Alembic made it: the stale snapshot's one table alone would fail this.
    assert schema_dump(database) == schema_dump(_alembic_made(tmp_path))
