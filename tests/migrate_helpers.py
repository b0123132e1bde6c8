"""Helpers for the migration tests: the old backend's databases as it saw them."""

from __future__ import annotations

import sqlite3

from tests.conftest import SEED_DB

SEED_BYTES = SEED_DB.read_bytes()  # a copy in memory; the fixture file is never touched


def old_connection(data: bytes) -> sqlite3.Connection:
    """The old database as the old backend saw it: opened from a file, no migration."""
    conn = sqlite3.connect(":memory:")
    image = bytearray(data)
    image[18] = image[19] = 1  # WAL header flag: read the same pages in rollback mode
    conn.deserialize(bytes(image))
    return conn


def user_tables(conn: sqlite3.Connection) -> set[str]:
    found = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    return {r[0] for r in found} - {"sqlite_sequence"}


def schema_shape(conn: sqlite3.Connection) -> dict:
    """Columns, foreign keys and indexes of every table (independent of quoting)."""
    shape = {}
    for table in sorted(user_tables(conn)):
        shape[table] = (
            [tuple(r) for r in conn.execute(f'PRAGMA table_info("{table}")')],
            sorted(tuple(r) for r in conn.execute(f'PRAGMA foreign_key_list("{table}")')),
            sorted((r[1], r[2]) for r in conn.execute(f'PRAGMA index_list("{table}")')),
        )
    return shape
