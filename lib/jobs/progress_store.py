"""Where workers publish progress and events for other containers to see.

Keys: `export:{user_id}:{export_id}` → the latest progress frame of an export (a dict with an
increasing `seq`); `events:{user_id}:{seq}` → one event of a user (extraction_complete /
extraction_failed), `events:{user_id}:head` → a hint of the newest seq.

A store implements the subset of `modal.Dict` used here: `get` and `put(..., skip_if_exists)`,
each also as a coroutine (`aget`, `aput`) for `async def` callers, which must
never block the event loop (on Modal those are the `.aio` calls). In memory locally, a
`modal.Dict` on Modal, a SQLite file when several local processes share it.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

MAX_EVENTS = 50


class ProgressStore(Protocol):
    def get(self, key: str) -> Any | None: ...

    def put(self, key: str, value: Any, *, skip_if_exists: bool = False) -> bool: ...

    async def aget(self, key: str) -> Any | None: ...

    async def aput(self, key: str, value: Any, *, skip_if_exists: bool = False) -> bool: ...


class MemoryProgressStore:
    """One process's dict. `reads` counts gets (what a Dict would be billed and rate-limited
    on), so tests and benches can measure how many reads the pollers make."""

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.reads = 0

    def get(self, key: str) -> Any | None:
        with self._lock:
            self.reads += 1
            return self._data.get(key)

    def put(self, key: str, value: Any, *, skip_if_exists: bool = False) -> bool:
        with self._lock:
            if skip_if_exists and key in self._data:
                return False
            self._data[key] = value
            return True

    async def aget(self, key: str) -> Any | None:
        return self.get(key)

    async def aput(self, key: str, value: Any, *, skip_if_exists: bool = False) -> bool:
        return self.put(key, value, skip_if_exists=skip_if_exists)


class ModalDictProgressStore:
    """A named modal.Dict shared by every container of the app; async callers use `.aio`."""

    def __init__(self, name: str = "reel-ballers-progress"):
        import modal

        self._dict = modal.Dict.from_name(name, create_if_missing=True)

    def get(self, key: str) -> Any | None:
        return self._dict.get(key)

    def put(self, key: str, value: Any, *, skip_if_exists: bool = False) -> bool:
        return self._dict.put(key, value, skip_if_exists=skip_if_exists)

    async def aget(self, key: str) -> Any | None:
        return await self._dict.get.aio(key)

    async def aput(self, key: str, value: Any, *, skip_if_exists: bool = False) -> bool:
        return await self._dict.put.aio(key, value, skip_if_exists=skip_if_exists)


# -- user events: one key per event, seq allocated by an atomic put ------------------------------

def event_key(user_id: str, seq: int) -> str:
    return f"events:{user_id}:{seq}"


def head_key(user_id: str) -> str:
    return f"events:{user_id}:head"


def publish_event(store: ProgressStore, user_id: str, event: dict) -> int:
    """Store `event` under the next free seq of `user_id` and return that seq.

    The seq is taken by `put(..., skip_if_exists=True)`: of two containers publishing at once,
    exactly one gets each seq and the other moves to the next, so no event is lost or doubled
    and seqs have no holes. The head key is only a starting hint (it may lag or even step
    back when two publishers race); readers and publishers probe forward past it.

    Old events are overwritten by a small tombstone, never deleted: a deleted key could be
    taken again by a publisher whose hint is stale. (A modal.Dict drops entries idle for 7
    days, which bounds the tombstones.)"""
    seq = int(store.get(head_key(user_id)) or 0) + 1
    while not store.put(event_key(user_id, seq), {**event, "seq": seq}, skip_if_exists=True):
        seq += 1
    store.put(head_key(user_id), seq)
    if seq > MAX_EVENTS:
        old = seq - MAX_EVENTS
        store.put(event_key(user_id, old), {"seq": old, "dropped": True})
    return seq


async def latest_event_seq(store: ProgressStore, user_id: str) -> int:
    """The newest seq of `user_id` (0 when none): the head hint, then forward probing."""
    seq = int(await store.aget(head_key(user_id)) or 0)
    while await store.aget(event_key(user_id, seq + 1)) is not None:
        seq += 1
    return seq


async def events_after(store: ProgressStore, user_id: str,
                       seq: int) -> tuple[list[dict], int]:
    """The events after `seq`, oldest first, and the seq to read after next time (one read
    when there is nothing new); tombstones of dropped events are stepped over."""
    out: list[dict] = []
    while (event := await store.aget(event_key(user_id, seq + 1))) is not None:
        if not event.get("dropped"):
            out.append(event)
        seq += 1
    return out, seq
