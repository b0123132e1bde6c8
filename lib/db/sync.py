"""Per-user SQLite ⇄ object storage with compare-and-swap: no lost writes.

The object `{uid}/database.sqlite` is the source of truth and its etag is its version.
Each container keeps an in-memory copy per user plus the etag it came from.

- read(uid, fn): revalidate (conditional GET; 304 keeps the copy), then fn(conn).
- write(uid, fn): a unit of work. `fn(conn) -> result` must have no outside side effects,
  so it can be re-run. Writers of one user queue on this container's per-user lock; the
  holder commits everyone queued (group commit): each fn in its own savepoint, one
  transaction, one snapshot, one `put_if(if_match=etag)`. On PreconditionFailed the copy is
  re-downloaded and every fn re-run (bounded retries with jitter, then VersionConflict).
  Storage unreachable: StorageUnavailable, and the copy is dropped (no divergent state).
  Each caller returns only after the PUT carrying its change succeeded.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lib.db.connection import CorruptDatabase, open_image, snapshot
from lib.errors import StorageUnavailable, VersionConflict
from lib.keys import database_key, user_prefix
from lib.storage import ObjectNotFound, ObjectStore, PreconditionFailed

T = TypeVar("T")
UnitOfWork = Callable[[sqlite3.Connection], T]

_CONFLICT = "Your changes collided with other changes too many times; please retry."


@dataclass
class _Op:
    fn: Callable[[sqlite3.Connection], Any]
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None

    def outcome(self):
        if self.error is not None:
            raise self.error
        return self.result


@dataclass
class _Entry:
    user_id: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    queue_lock: threading.Lock = field(default_factory=threading.Lock)
    queue: list[_Op] = field(default_factory=list)
    conn: sqlite3.Connection | None = None
    etag: str | None = None  # None with a conn = the object does not exist yet
    refs: int = 0

    def drop(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None
        self.etag = None


@dataclass
class SyncStats:
    downloads: int = 0
    not_modified: int = 0
    uploads: int = 0
    conflicts: int = 0
    batched_ops: int = 0


class UserDatabases:
    """The per-user databases of this container."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        cache_size: int = 64,
        max_attempts: int = 12,
        backoff_base: float = 0.01,
        backoff_cap: float = 0.5,
    ):
        self.store = store
        self.cache_size = max(1, cache_size)
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.stats = SyncStats()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._guard = threading.Lock()

    # -- cache ---------------------------------------------------------------------------
    def _acquire(self, user_id: str) -> _Entry:
        database_key(user_id)  # validates the id
        with self._guard:
            entry = self._entries.get(user_id)
            if entry is None:
                entry = self._entries[user_id] = _Entry(user_id)
            self._entries.move_to_end(user_id)
            entry.refs += 1
            self._evict()
            return entry

    def _release(self, entry: _Entry) -> None:
        with self._guard:
            entry.refs -= 1

    def _evict(self) -> None:
        for uid in list(self._entries):
            if len(self._entries) <= self.cache_size:
                return
            entry = self._entries[uid]
            if entry.refs == 0 and not entry.lock.locked():
                entry.drop()
                del self._entries[uid]

    def cached_users(self) -> list[str]:
        with self._guard:
            return [uid for uid, e in self._entries.items() if e.conn is not None]

    def forget(self, user_id: str) -> None:
        """Drop this container's copy (the next access downloads it again)."""
        entry = self._acquire(user_id)
        try:
            with entry.lock:
                entry.drop()
        finally:
            self._release(entry)

    # -- storage -------------------------------------------------------------------------
    def _revalidate(self, entry: _Entry, force: bool = False) -> None:
        key = database_key(entry.user_id)
        try:
            if force or entry.conn is None:
                entry.drop()
                try:
                    data, etag = self.store.get_bytes(key)
                except ObjectNotFound:
                    data, etag = None, None
                self.stats.downloads += 1
            elif entry.etag is None:  # a new user: has another container created it?
                try:
                    data, etag = self.store.get_bytes(key)
                except ObjectNotFound:
                    self.stats.not_modified += 1
                    return
                self.stats.downloads += 1
            else:
                try:
                    fetched = self.store.get_if_changed(key, entry.etag)
                except ObjectNotFound:
                    fetched = (None, None)
                if fetched is None:
                    self.stats.not_modified += 1
                    return
                data, etag = fetched
                self.stats.downloads += 1
            entry.drop()
            entry.conn = open_image(data)
            entry.etag = etag
        except StorageUnavailable:
            entry.drop()
            raise
        except CorruptDatabase as err:
            entry.drop()
            raise StorageUnavailable(str(err)) from err

    # -- public API ------------------------------------------------------------------------
    def read(self, user_id: str, fn: UnitOfWork[T]) -> T:
        entry = self._acquire(user_id)
        try:
            with entry.lock:
                self._revalidate(entry)
                return fn(entry.conn)
        finally:
            self._release(entry)

    def write(self, user_id: str, fn: UnitOfWork[T]) -> T:
        op = _Op(fn)
        entry = self._acquire(user_id)
        try:
            with entry.queue_lock:
                entry.queue.append(op)
            with entry.lock:
                if not op.done.is_set():
                    with entry.queue_lock:
                        batch, entry.queue = entry.queue, []
                    self._commit(entry, batch)
        finally:
            self._release(entry)
        return op.outcome()

    def delete_user(self, user_id: str) -> int:
        """Delete every object of the user (database included) and the cached copy."""
        entry = self._acquire(user_id)
        try:
            with entry.lock:
                entry.drop()
                return self.store.delete_prefix(user_prefix(user_id))
        finally:
            self._release(entry)

    # -- the unit of work ------------------------------------------------------------------
    def _commit(self, entry: _Entry, batch: list[_Op]) -> None:
        self.stats.batched_ops += len(batch)
        key = database_key(entry.user_id)
        force = False
        try:
            for attempt in range(self.max_attempts):
                self._revalidate(entry, force=force)
                conn = entry.conn
                if not self._apply(conn, batch):
                    return  # nothing changed: no upload needed
                data = snapshot(conn)
                try:
                    if entry.etag is None:
                        etag = self.store.put_if(key, data, if_none_match="*")
                    else:
                        etag = self.store.put_if(key, data, if_match=entry.etag)
                except PreconditionFailed:
                    self.stats.conflicts += 1
                    force = True
                    time.sleep(random.uniform(0, min(self.backoff_cap,
                                                     self.backoff_base * 2 ** attempt)))
                    continue
                self.stats.uploads += 1
                entry.etag = etag
                return
            entry.drop()
            self._fail(batch, VersionConflict(_CONFLICT))
        except StorageUnavailable as err:
            entry.drop()
            self._fail(batch, err)
        except BaseException as err:
            entry.drop()
            self._fail(batch, err)
            raise
        finally:
            for op in batch:
                op.done.set()

    @staticmethod
    def _apply(conn: sqlite3.Connection, batch: list[_Op]) -> int:
        """Run every op in one transaction; the number of rows the successful ops changed
        (the changes of an op that failed were rolled back and do not count)."""
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
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return changed

    @staticmethod
    def _fail(batch: list[_Op], err: BaseException) -> None:
        for op in batch:
            op.result, op.error = None, err
