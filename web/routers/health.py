"""GET /api/health (#1): whether storage and the database engine are reachable.

It never waits on storage: the storage ping runs in a background thread (one at a time, so
a hung endpoint cannot pile threads up), health waits for it briefly and otherwise answers
at once that storage is not answering. The route is async, so it does not queue behind
requests that hold the thread pool while storage hangs.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from lib.errors import StorageUnavailable

router = APIRouter(tags=["health"])

_WAIT_S = 0.5
_NOT_ANSWERING = "Storage is not answering right now."
_PROBE_GUARD = threading.Lock()


class StorageProbe:
    """The latest result of `store.ping()`, refreshed by at most one thread at a time."""

    def __init__(self, store):
        self.store = store
        self.state = "ok"
        self.checked_at: float | None = None
        self._lock = threading.Lock()
        self._done: threading.Event | None = None

    def start(self) -> threading.Event:
        """The event of the ping in flight, starting one if none is."""
        with self._lock:
            if self._done is None or self._done.is_set():
                self._done = threading.Event()
                threading.Thread(target=self._ping, args=(self._done,), daemon=True,
                                 name="storage-probe").start()
            return self._done

    def _ping(self, done: threading.Event) -> None:
        try:
            self.store.ping()
            self.state = "ok"
        except StorageUnavailable as err:
            self.state = str(err)
        except Exception:  # noqa: BLE001 - any failure of the probe means "not ok"
            self.state = "Storage could not be checked."
        finally:
            self.checked_at = time.monotonic()
            done.set()


def _probe(request: Request) -> StorageProbe:
    state = request.app.state
    with _PROBE_GUARD:
        probe = getattr(state, "storage_probe", None)
        if probe is None or probe.store is not state.store:
            probe = state.storage_probe = StorageProbe(state.store)
        return probe


async def _storage_state(probe: StorageProbe) -> str:
    done = probe.start()
    deadline = time.monotonic() + _WAIT_S
    while not done.is_set() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    return probe.state if done.is_set() else _NOT_ANSWERING


@router.get("/api/health")
async def health(request: Request) -> JSONResponse:
    probe = _probe(request)
    checks = {"storage": await _storage_state(probe), "db": "ok"}
    try:
        sqlite3.connect(":memory:").execute("SELECT 1").fetchone()
    except sqlite3.Error as err:  # pragma: no cover - the engine is part of Python
        checks["db"] = str(err)
    healthy = all(v == "ok" for v in checks.values())
    body = {"status": "healthy" if healthy else "degraded",
            "storage_backend": probe.store.kind, **checks}
    if not healthy:
        body["detail"] = checks["storage"] if checks["storage"] != "ok" else checks["db"]
    return JSONResponse(body, status_code=200 if healthy else 503)
