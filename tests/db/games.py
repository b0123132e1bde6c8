"""What the sync tests write and read back: games named by the test. Imported by the spawned
writer processes too, so it needs only sqlite3 and the image reader."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import time
from collections.abc import Callable, Sequence

from lib.db.connection import open_image
from lib.keys import database_key


def insert(name: str) -> Callable[[sqlite3.Connection], int]:
    """A unit of work: add a game called `name` (re-runnable, no outside effects)."""

    def fn(conn: sqlite3.Connection) -> int:
        return conn.execute("INSERT INTO games (name) VALUES (?)", (name,)).lastrowid

    return fn


def stored_names(store, uid: str) -> list[str]:
    """The game names storage holds for `uid`, in insertion order, read without any cache."""
    data, _ = store.get_bytes(database_key(uid))
    return [r["name"] for r in open_image(data).execute("SELECT name FROM games ORDER BY id")]


def run_writers(target: Callable, args: Sequence[tuple], timeout: float
                ) -> tuple[list[dict], float]:
    """Start one spawned process per args tuple, `target(*args, barrier, results)`, all
    released together by the barrier; their reports (one dict each) and the seconds taken."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(len(args))
    results = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*a, barrier, results)) for a in args]
    started = time.monotonic()
    for p in procs:
        p.start()
    reports = [results.get(timeout=timeout) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    return reports, time.monotonic() - started
