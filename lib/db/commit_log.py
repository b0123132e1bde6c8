"""The `commit_log` table: ids of a user's recent commits, so a writer whose PUT answer was
lost can tell from the stored image whether that PUT landed (lib/db/sync.py).

A log rather than one row: other containers may commit on top of ours before we read the
object again, and ours must still be found. Kept to a recent window, bounded in rows."""

from __future__ import annotations

import sqlite3
import time

MIN_ROWS = 16  # ids always kept, however old
MAX_ROWS = 512  # and never more (bounds the database's growth: ~25 KB at most)


def record(conn: sqlite3.Connection, commit_id: str, keep_s: float) -> None:
    """Inside the unit of work's transaction: add `commit_id`, prune old ids."""
    now = time.time()
    seq = conn.execute("INSERT INTO commit_log (commit_id, committed_at) VALUES (?, ?)",
                       (commit_id, now)).lastrowid
    conn.execute("DELETE FROM commit_log WHERE seq <= ? AND (committed_at < ? OR seq <= ?)",
                 (seq - MIN_ROWS, now - keep_s, seq - MAX_ROWS))


def find(conn: sqlite3.Connection, commit_ids: list[str]) -> str | None:
    """The first of `commit_ids` this database carries, or None."""
    if not commit_ids:
        return None
    marks = ",".join("?" * len(commit_ids))
    row = conn.execute(f"SELECT commit_id FROM commit_log WHERE commit_id IN ({marks}) LIMIT 1",
                       commit_ids).fetchone()
    return None if row is None else row[0]


def apply(conn: sqlite3.Connection, batch: list, commit_id: str, keep_s: float) -> int:
    """Run every op of `batch` (objects with `fn`, `result`, `error`) in one transaction,
    each in its own savepoint; the number of rows the successful ops changed (the changes
    of an op that failed were rolled back and do not count). When something changed, the
    same transaction records `commit_id`."""
    changed = 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        for op in batch:
            op.result, op.error = None, None
            before = conn.total_changes
            conn.execute("SAVEPOINT op")
            try:
                op.result = op.fn(conn)
                changed += conn.total_changes - before
            except Exception as err:  # this op fails alone; the others commit
                conn.execute("ROLLBACK TO op")
                op.error = err
            finally:
                conn.execute("RELEASE op")
        if changed:
            record(conn, commit_id, keep_s)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return changed
