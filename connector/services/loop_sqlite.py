"""SQLite written on the event loop: a connection that never waits for a lock, and
INSERTs with SQLAlchemy's own value conversion.

An INSERT and COMMIT in WAL mode with synchronous=NORMAL take about 0.1 ms; handing
the same write to a thread and back through SQLAlchemy cost 0.6-1 ms of CPU (measured
2026-12-02). Busy timeout 0 means a write either finishes at once or raises
`sqlite3.Error` (another connection holds the lock, the disk is full), and its caller
then writes through the engine in a thread, as before. Automatic WAL checkpoints are
off on these connections: a checkpoint syncs the disk, which must not happen on the
loop (the usage recorder runs them in a thread).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, Table


def on_sqlite_file(engine: Engine) -> bool:
    """SQLite on a file: one more connection sees the same database (in memory, each
    connection would have its own)."""
    path = engine.url.database
    return engine.dialect.name == "sqlite" and bool(path) and path != ":memory:"


def loop_connection(engine: Engine) -> sqlite3.Connection:
    """A connection the engine makes (its connect listeners and pragmas apply), taken
    out of its pool for the caller alone, in autocommit mode (the caller begins and
    commits), never waiting for a lock."""
    raw = engine.raw_connection()
    conn = raw.driver_connection
    raw.detach()
    if not isinstance(conn, sqlite3.Connection):
        raise sqlite3.InterfaceError(f"not a sqlite3 connection: {type(conn).__name__}")
    conn.isolation_level = None
    for pragma in ("busy_timeout=0", "wal_autocheckpoint=0"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


class Insert:
    """One table's INSERT as plain SQL, with each column's bind processor, so rows are
    stored exactly as the ORM stores them."""

    def __init__(self, table: Table, names: tuple[str, ...], engine: Engine) -> None:
        columns = [table.c[name] for name in names]
        marks = ", ".join("?" for _ in names)
        self.sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"
        processors: list[Callable[[Any], Any] | None] = [
            c.type.bind_processor(engine.dialect) for c in columns
        ]
        self._steps = list(zip(names, processors, strict=True))

    def values(self, entry: Any) -> tuple[Any, ...]:
        """The row of an object with these attributes."""
        return tuple(
            process(getattr(entry, name)) if process is not None else getattr(entry, name)
            for name, process in self._steps
        )

    def row(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """The row of a dict with these keys."""
        return tuple(
            process(values[name]) if process is not None else values[name]
            for name, process in self._steps
        )
