"""A ProgressStore in one SQLite file, shared by every process that opens it.

The same Dict subset as `modal.Dict` (get, put with `skip_if_exists`), with the same
atomicity: `put(..., skip_if_exists=True)` is one `INSERT OR IGNORE`. Values are JSON (the
frames and events are plain dicts). Local multi-process serving and the cross-process tests
of the event protocol use it.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any


class SqliteProgressStore:
    def __init__(self, path: str | Path):
        self.path = str(path)
        self._local = threading.local()
        self._conn().execute(
            "CREATE TABLE IF NOT EXISTS progress (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            self._local.conn = conn
        return conn

    def get(self, key: str) -> Any | None:
        row = self._conn().execute("SELECT value FROM progress WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, key: str, value: Any, *, skip_if_exists: bool = False) -> bool:
        verb = "INSERT OR IGNORE" if skip_if_exists else "INSERT OR REPLACE"
        cur = self._conn().execute(f"{verb} INTO progress (key, value) VALUES (?, ?)",
                                   (key, json.dumps(value)))
        return cur.rowcount > 0

    async def aget(self, key: str) -> Any | None:
        return await asyncio.to_thread(self.get, key)

    async def aput(self, key: str, value: Any, *, skip_if_exists: bool = False) -> bool:
        return await asyncio.to_thread(self.put, key, value, skip_if_exists=skip_if_exists)
