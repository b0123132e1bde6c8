"""Where workers publish progress and events for other containers to see.

Keys: `export:{export_id}` → the latest progress state of an export job (a dict with a
monotonically increasing `seq`), `events:{user_id}` → the recent events of one user
(extraction_complete / extraction_failed). In memory locally; a `modal.Dict` on Modal.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

MAX_EVENTS = 50


class ProgressStore(Protocol):
    def get(self, key: str) -> Any | None: ...

    def put(self, key: str, value: Any) -> None: ...


class MemoryProgressStore:
    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            return self._data.get(key)

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[key] = value


class ModalDictProgressStore:
    """A named modal.Dict shared by every container of the app."""

    def __init__(self, name: str = "reel-ballers-progress"):
        import modal

        self._dict = modal.Dict.from_name(name, create_if_missing=True)

    def get(self, key: str) -> Any | None:
        return self._dict.get(key)

    def put(self, key: str, value: Any) -> None:
        self._dict[key] = value


def export_key(export_id: str) -> str:
    return f"export:{export_id}"


def events_key(user_id: str) -> str:
    return f"events:{user_id}"


_event_lock = threading.Lock()


def publish_event(store: ProgressStore, user_id: str, event: dict) -> None:
    """Append an event for `user_id`'s sockets (bounded list, increasing `seq`)."""
    with _event_lock:
        events = list(store.get(events_key(user_id)) or [])
        seq = (events[-1]["seq"] + 1) if events else int(time.time() * 1000)
        events.append({**event, "seq": seq})
        store.put(events_key(user_id), events[-MAX_EVENTS:])


def events_after(store: ProgressStore, user_id: str, seq: int) -> list[dict]:
    return [e for e in (store.get(events_key(user_id)) or []) if e["seq"] > seq]


def latest_event_seq(store: ProgressStore, user_id: str) -> int:
    events = store.get(events_key(user_id)) or []
    return events[-1]["seq"] if events else 0
