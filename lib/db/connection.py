"""Opening a user's database image in memory, and taking a consistent snapshot of it."""

from __future__ import annotations

import sqlite3

from lib.db.migrate import NewerDatabase, migrate

_HEADER = b"SQLite format 3\x00"


class CorruptDatabase(Exception):
    """The stored bytes are not a readable SQLite database."""


def _configure(conn: sqlite3.Connection) -> sqlite3.Connection:
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = MEMORY")
    conn.execute("PRAGMA synchronous = OFF")
    return conn


def open_image(data: bytes | None) -> sqlite3.Connection:
    """An in-memory connection holding `data` (a database file image), migrated to the
    current schema. `None` gives a fresh, empty database."""
    conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    if data:
        if not data.startswith(_HEADER) or len(data) < 100:  # 100 = the file header
            raise CorruptDatabase("The stored database is not a SQLite file.")
        image = data
        # A file written in WAL mode says so in header bytes 18-19; an in-memory database
        # cannot use WAL, so read it as a rollback-journal database (same pages).
        if data[18] == 2 or data[19] == 2:
            image = bytearray(data)
            image[18] = image[19] = 1
        try:
            conn.deserialize(image)  # SQLite copies the buffer: no copy of our own
        except sqlite3.DatabaseError as err:
            raise CorruptDatabase(f"The stored database cannot be opened: {err}.") from err
    try:
        _configure(conn)
        migrate(conn)
    except sqlite3.DatabaseError as err:
        conn.close()
        raise CorruptDatabase(f"The stored database cannot be read: {err}.") from err
    except NewerDatabase as err:
        conn.close()
        raise CorruptDatabase(f"The stored database is newer than this service: {err}") from err
    return conn


def snapshot(conn: sqlite3.Connection) -> bytes:
    """A complete, consistent database image (never a live WAL): SQLite's serialization of
    the committed state. Must be called outside a transaction."""
    if conn.in_transaction:
        raise RuntimeError("snapshot() inside an open transaction")
    return conn.serialize()
