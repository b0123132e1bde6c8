"""Per-user SQLite ⇄ object storage with compare-and-swap: no lost writes, none doubled.

The object `{uid}/database.sqlite` is the source of truth and its etag is its version.
Each container keeps an in-memory copy per user plus the etag it came from.

- read(uid, fn): revalidate (conditional GET; 304 keeps the copy), then fn(conn).
- write(uid, fn): a unit of work. `fn(conn) -> result` must have no outside side effects,
  so it can be re-run. Writers of one user queue on this container's per-user lock; the
  holder commits everyone queued (group commit): each fn in its own savepoint, one
  transaction, one snapshot, one `put_if(if_match=etag)`. Each caller returns only after the
  PUT carrying its change succeeded.
- Exactly once: every transaction also writes a fresh commit id into `commit_log` (a short
  log of recent ids, so a later writer's commit does not hide ours). When a PUT answers 412
  or its response is lost (StorageOutcomeUnknown), the object is read again: if it carries
  one of this batch's commit ids, that PUT landed and its results are the answer; otherwise
  every fn is re-run on the fresh copy. A conditional PUT is never retried blindly.
- Bounded in time: lost races are retried with full jitter for `write_budget_s` (then
  VersionConflict, 409); waiting for the user's lock and retrying failed storage calls end
  by `deadline_s` (then StorageUnavailable, 503), and requests queued behind a call that
  failed fail with it at once. Storage calls have short timeouts (S3Store's db_*), so a hung
  endpoint answers 503 within ~10 s. Storage unreachable: StorageUnavailable, and the copy
  is dropped (no divergent state).
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lib.db import commit_log
from lib.db.connection import CorruptDatabase, open_image, snapshot
from lib.errors import StorageUnavailable, VersionConflict
from lib.keys import database_key, user_prefix
from lib.storage import ObjectNotFound, ObjectStore, PreconditionFailed
from lib.storage.base import StorageOutcomeUnknown

T = TypeVar("T")
UnitOfWork = Callable[[sqlite3.Connection], T]

_CONFLICT = "Your changes collided with other changes too many times; please retry."
_LATE = "Storage is too slow right now; please try again shortly."
_BUSY = "Another change of yours is still waiting on storage; please try again shortly."


@dataclass(eq=False)  # compared by identity (`op in queue`)
class _Op:
    fn: Callable[[sqlite3.Connection], Any]
    started: float
    deadline: float
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
    failed_at: float = 0.0  # when storage last failed this user (monotonic)
    failure: StorageUnavailable | None = None

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
    unknown_outcomes: int = 0  # PUTs whose response was lost or timed out
    landed_after_all: int = 0  # ... or that answered 412, found applied on re-reading
    late: int = 0  # units of work that ran out of time (503)



def _failed_since(entry: _Entry, started: float) -> bool:
    """Storage failed this user after `started`: whoever queued before then fails with it."""
    return entry.failure is not None and entry.failed_at > started


class UserDatabases:
    """The per-user databases of this container."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        cache_size: int = 64,
        write_budget_s: float = 15.0,
        deadline_s: float = 8.0,
        max_attempts: int | None = None,
        backoff_base: float = 0.01,
        backoff_cap: float = 0.25,
        commit_log_keep_s: float = 120.0,
        storage_call_s: float = 3.0,
    ):
        """`max_attempts` (None = no limit) optionally caps the conflict retries that
        `write_budget_s` bounds in time; `commit_log_keep_s` is how long a commit id stays
        recognisable (far longer than any deadline); `storage_call_s` is how long one
        storage call may take (the read timeout): none starts with less time left."""
        self.store = store
        self.cache_size = max(1, cache_size)
        self.write_budget_s = write_budget_s
        self.deadline_s = deadline_s
        self.max_attempts = max_attempts if max_attempts and max_attempts > 0 else None
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.commit_log_keep_s = commit_log_keep_s
        self.storage_call_s = storage_call_s
        self.stats = SyncStats()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._guard = threading.Lock()

    @classmethod
    def from_settings(cls, store: ObjectStore, settings) -> UserDatabases:
        return cls(store, cache_size=settings.db_cache_size,
                   write_budget_s=settings.db_write_budget_s, deadline_s=settings.db_deadline_s,
                   max_attempts=settings.db_write_attempts,
                   storage_call_s=settings.db_read_timeout_s)

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

    @contextmanager
    def _locked(self, entry: _Entry, started: float, deadline: float) -> Iterator[None]:
        """The user's lock, waited for until `deadline` at most (then 503). If storage
        failed this user while we waited, we fail with it rather than try again: the
        requests queued behind a hung call answer when it does."""
        if not entry.lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            self.stats.late += 1
            raise StorageUnavailable(_BUSY)
        try:
            if _failed_since(entry, started):
                raise entry.failure
            yield
        finally:
            entry.lock.release()

    def _fresh(self, entry: _Entry, deadline: float, force: bool = False) -> None:
        """Revalidate; a failed call is tried once more if one call's time is left before
        `deadline`. A failure is remembered, so the requests queued behind fail with it."""
        for attempt in (0, 1):
            try:
                self._revalidate(entry, force=force)
                return
            except StorageUnavailable as err:
                if attempt or deadline - time.monotonic() < self.storage_call_s:
                    entry.failed_at, entry.failure = time.monotonic(), err
                    raise
                time.sleep(0.05)

    def forget(self, user_id: str) -> None:
        """Drop this container's copy (the next access downloads it again)."""
        entry = self._acquire(user_id)
        try:
            now = time.monotonic()
            with self._locked(entry, now, now + self.deadline_s):
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
            now = time.monotonic()
            deadline = now + self.deadline_s
            with self._locked(entry, now, deadline):
                self._fresh(entry, deadline)
                return fn(entry.conn)
        finally:
            self._release(entry)

    def write(self, user_id: str, fn: UnitOfWork[T]) -> T:
        now = time.monotonic()
        op = _Op(fn, now, now + self.deadline_s)
        entry = self._acquire(user_id)
        try:
            with entry.queue_lock:
                entry.queue.append(op)
            if entry.lock.acquire(timeout=max(0.0, op.deadline - time.monotonic())):
                try:
                    if not op.done.is_set():
                        with entry.queue_lock:
                            batch, entry.queue = entry.queue, []
                        self._commit(entry, self._fail_waiters(entry, batch))
                finally:
                    entry.lock.release()
            else:
                with entry.queue_lock:
                    queued = op in entry.queue
                    if queued:
                        entry.queue.remove(op)
                if queued:  # never taken into a batch: nothing of it reached storage
                    self.stats.late += 1
                    raise StorageUnavailable(_BUSY)
                op.done.wait()  # in a batch now being committed, within its own deadline
        finally:
            self._release(entry)
        return op.outcome()

    def delete_user(self, user_id: str) -> int:
        """Delete every object of the user (database included) and the cached copy."""
        entry = self._acquire(user_id)
        try:
            now = time.monotonic()
            with self._locked(entry, now, now + self.deadline_s):
                entry.drop()
                return self.store.delete_prefix(user_prefix(user_id))
        finally:
            self._release(entry)

    # -- the unit of work ------------------------------------------------------------------
    @staticmethod
    def _fail_waiters(entry: _Entry, batch: list[_Op]) -> list[_Op]:
        """The ops that queued before storage last failed this user fail with that error
        (see _locked); the others are returned."""
        live = []
        for op in batch:
            if _failed_since(entry, op.started):
                op.result, op.error = None, entry.failure
                op.done.set()
            else:
                live.append(op)
        return live

    def _commit(self, entry: _Entry, batch: list[_Op]) -> None:
        if not batch:
            return
        self.stats.batched_ops += len(batch)
        try:
            self._commit_batch(entry, batch)
        except StorageUnavailable as err:
            entry.drop()
            self._fail(batch, err)
        except VersionConflict as err:
            entry.drop()
            self._fail(batch, err)
        except BaseException as err:
            entry.drop()
            self._fail(batch, err)
            raise
        finally:
            for op in batch:
                op.done.set()

    def _commit_batch(self, entry: _Entry, batch: list[_Op]) -> None:
        key = database_key(entry.user_id)
        # Storage failures are retried within the ops' deadline; lost races (storage
        # answering, someone else winning) within the write budget: progress, not a hang.
        deadline = min(op.deadline for op in batch)
        budget_end = time.monotonic() + self.write_budget_s
        tried: dict[str, list[tuple[Any, BaseException | None]]] = {}  # commit id → outcomes
        force = lost = False
        attempt = 0
        while True:
            self._fresh(entry, deadline, force=force)
            if tried and self._found(entry.conn, batch, tried):
                return
            commit_id = uuid.uuid4().hex
            if not commit_log.apply(entry.conn, batch, commit_id, self.commit_log_keep_s):
                return  # nothing changed: no upload needed
            tried[commit_id] = [(op.result, op.error) for op in batch]
            data = snapshot(entry.conn)
            try:
                if entry.etag is None:
                    etag = self.store.put_if(key, data, if_none_match="*")
                else:
                    etag = self.store.put_if(key, data, if_match=entry.etag)
            except PreconditionFailed:
                self.stats.conflicts += 1
                lost = False
            except StorageOutcomeUnknown:
                self.stats.unknown_outcomes += 1
                lost = True
            else:
                self.stats.uploads += 1
                entry.etag = etag
                return
            force = True  # re-read: did one of our PUTs land after all, or who won?
            attempt += 1
            pause = random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** attempt))
            out_of_tries = self.max_attempts is not None and attempt >= self.max_attempts
            out_of_time = time.monotonic() + pause >= (deadline if lost else budget_end)
            if out_of_tries or out_of_time:
                if self._landed(entry, batch, tried):  # one last look
                    return
                if lost:  # storage kept losing our answers: it is failing, not contended
                    self.stats.late += 1
                    raise StorageUnavailable(_LATE)
                raise VersionConflict(_CONFLICT)
            time.sleep(pause)

    def _landed(self, entry: _Entry, batch: list[_Op], tried: dict) -> bool:
        """Read the stored image again; True (and the copy kept) if it carries one of our
        commits. Storage errors propagate: the outcome is then unknown (503)."""
        self._fresh(entry, time.monotonic(), force=True)  # no time left for a second try
        return self._found(entry.conn, batch, tried)

    def _found(self, conn: sqlite3.Connection, batch: list[_Op], tried: dict) -> bool:
        found = commit_log.find(conn, list(tried))
        if found is None:
            return False
        for op, (result, error) in zip(batch, tried[found], strict=True):
            op.result, op.error = result, error
        self.stats.landed_after_all += 1
        return True

    @staticmethod
    def _fail(batch: list[_Op], err: BaseException) -> None:
        for op in batch:
            op.result, op.error = None, err
