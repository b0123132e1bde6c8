"""Real stores with a twist, for sync tests: each wraps a real ObjectStore and delegates every
operation to it; the twist is a real action on real storage (another writer's PUT, latency, an
outage) at a precise moment. Nothing of ours is patched or mocked."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from lib.storage import ObjectStore


class DelegatingStore:
    """An ObjectStore that forwards everything to `inner`."""

    def __init__(self, inner: ObjectStore):
        self.inner = inner
        self.kind = inner.kind

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


class BeforePut(DelegatingStore):
    """Runs `action()` before each conditional PUT (up to `times`, None = always), e.g. a
    competing writer's real write to the same object, or stopping the storage server."""

    def __init__(self, inner: ObjectStore, action: Callable[[], object], times: int | None = 1):
        super().__init__(inner)
        self.action = action
        self.times = times
        self.puts = 0
        self.actions = 0

    def put_if(self, key, data, **kwargs):
        self.puts += 1
        if self.times is None or self.actions < self.times:
            self.actions += 1
            self.action()
        return self.inner.put_if(key, data, **kwargs)


class SlowPut(DelegatingStore):
    """A store whose conditional PUTs take at least `seconds` (a far-away region)."""

    def __init__(self, inner: ObjectStore, seconds: float):
        super().__init__(inner)
        self.seconds = seconds
        self.puts = 0
        self._lock = threading.Lock()

    def put_if(self, key, data, **kwargs):
        with self._lock:
            self.puts += 1
        time.sleep(self.seconds)
        return self.inner.put_if(key, data, **kwargs)
