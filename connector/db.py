"""The database engine and its migrations.

SQLite (the default) runs in WAL mode with a busy timeout, so the UI's reads never
wait for the usage writer, and commits survive the process being killed. Migrations
run at start-up, so a newer version upgrades
an existing database in place; a new SQLite database is made from their result
(`migrations/head.sql`) without running them.
"""

from __future__ import annotations

import re
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import create_engine

MIGRATIONS = Path(__file__).parent / "migrations"
# What the migrations leave in a new SQLite database, as SQL: a new database is made
# from it at once. `write_head_schema` writes it; a test checks it is current.
HEAD_SCHEMA = MIGRATIONS / "head.sql"
_SNAPSHOT_HEADER = (
    "-- The schema connector/migrations build in a new SQLite database, and its one row:\n"
    "-- a new database is made from this file. Written by `python -m connector.db`.\n"
)
_VERSION_ROW = re.compile(r"""INSERT INTO "?alembic_version"? VALUES\('([^']+)'\);""")

# A migration script's own identifiers, as Alembic's template writes them.
_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    # NORMAL is the level the usage guarantee needs: in WAL mode a COMMIT has written
    # its frames to the WAL file (the OS's page cache) before it returns, so a record
    # committed before a response's last byte survives the process dying any way at
    # all (kill -9, OOM kill, a crash); the kill -9 test proves it. Only the OS itself
    # crashing or power failing can roll back the last commits since a checkpoint.
    # FULL would fsync the WAL on every commit, which here costs 0.1-5 ms (measured
    # p50 4 ms on the project disk), added to every request's last byte.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def head_revision(versions: Path = MIGRATIONS / "versions") -> str | None:
    """The newest migration's revision, read from the scripts' text (no Alembic import);
    None when the scripts do not form one line with a single head."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in versions.glob("*.py"):
        source = script.read_text(encoding="utf-8")
        found = _REVISION.search(source)
        down = _DOWN.search(source)
        if found is None or down is None:
            return None
        revisions.add(found.group(1))
        parents.update(_QUOTED.findall(down.group(1)))
    heads = revisions - parents
    return next(iter(heads)) if len(heads) == 1 else None


def _current_revisions(engine: Engine) -> set[str] | None:
    """The revisions the database says it is at; None where it has no version table."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows}
    except DBAPIError:
        return None


def migrate(engine: Engine) -> bool:
    """Bring the database to the newest schema; False when it was there already.

    A database at head (every start but the first after an install or upgrade) is told
    apart with one query, and a new SQLite database is made from the migrations' own
    result (`HEAD_SCHEMA`), both without importing Alembic: its machinery costs about
    0.1 s of CPU and 12 MB that the process would then hold for good."""
    head = head_revision()
    if head is not None:
        current = _current_revisions(engine)
        if current == {head}:
            return False
        if current is None and _create_at_head(engine, head):
            return True
    upgrade(engine)
    return True


def upgrade(engine: Engine) -> None:
    """Alembic's upgrade to head, whatever the database holds."""
    # Imported here: Alembic is only needed when there is something to migrate.
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _create_at_head(engine: Engine, head: str) -> bool:
    """Make a new SQLite file database as the migrations make it, in one transaction:
    `HEAD_SCHEMA` is what they left in a new database, statement for statement. False
    (Alembic decides) for another database, one that holds anything already, or a
    snapshot of another revision."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        return False
    statements = head_statements()
    if snapshot_revision(statements) != head:
        return False
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert isinstance(conn, sqlite3.Connection)
        level, conn.isolation_level = conn.isolation_level, None  # DDL inside our BEGIN
        try:
            # IMMEDIATE: the write lock first, so two starts cannot both find it empty.
            conn.execute("BEGIN IMMEDIATE")
            try:
                if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                    conn.execute("ROLLBACK")
                    return False
                for statement in statements:
                    conn.execute(statement)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            conn.isolation_level = level
    finally:
        raw.close()
    return True


def head_statements(path: Path | None = None) -> list[str]:
    """The statements of `HEAD_SCHEMA` (or `path`), comments left out."""
    path = path or HEAD_SCHEMA
    if not path.is_file():
        return []
    statements: list[str] = []
    pending = ""
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if not pending and (line.startswith("--") or not line.strip()):
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    return statements


def snapshot_revision(statements: list[str]) -> str | None:
    """The revision a snapshot stands at: the one its version row names."""
    for statement in statements:
        found = _VERSION_ROW.match(statement)
        if found:
            return found.group(1)
    return None


def schema_dump(database: Path) -> list[str]:
    """A SQLite database's schema and rows as SQL statements (sqlite3's own dump),
    without the dump's BEGIN and COMMIT."""
    with closing(sqlite3.connect(database)) as conn:
        return [s for s in conn.iterdump() if s not in ("BEGIN TRANSACTION;", "COMMIT;")]


def write_head_schema(path: Path | None = None) -> Path:
    """Run every migration on a new database and write what it holds to `HEAD_SCHEMA`
    (or `path`); run after adding a migration (`python -m connector.db`)."""
    path = path or HEAD_SCHEMA
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "connector.db"
        engine = make_engine(f"sqlite:///{database}")
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        statements = schema_dump(database)
    path.write_text(_SNAPSHOT_HEADER + "\n".join(statements) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write_head_schema()}")
