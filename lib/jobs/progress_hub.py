"""One poller per container per followed key, fanning out to every socket that follows it.

Without it each WebSocket polls the ProgressStore on its own: 50 sockets on one export make
50 Dict reads per tick. The hub keeps one asyncio task per key (an export's frame, or a
user's event stream) while anyone follows it, and spaces each task's reads so the whole
container stays under `max_reads_per_s` however many keys are followed.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from lib.jobs.progress_store import (
    ProgressStore,
    events_after,
    head_key,
    latest_event_seq,
)
from lib.jobs.records import TERMINAL

StaleCheck = Callable[[], Awaitable[None]]


class _Channel:
    def __init__(self) -> None:
        self.queues: set[asyncio.Queue] = set()
        self.latest: Any = None
        self.task: asyncio.Task | None = None


class ProgressHub:
    def __init__(self, store: ProgressStore, interval: float = 0.5,
                 max_reads_per_s: float = 20.0, stale_seconds: float = 10.0):
        self.store = store
        self.interval = interval
        self.max_reads_per_s = max_reads_per_s
        self.stale_seconds = stale_seconds
        # Per event loop: a server has one; test clients may run a loop per connection.
        self._loops: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    @property
    def _channels(self) -> dict[str, _Channel]:
        loop = asyncio.get_running_loop()
        channels = self._loops.get(loop)
        if channels is None:
            channels = self._loops[loop] = {}
        return channels

    def period(self) -> float:
        """Seconds between two reads of one key: the interval, stretched so that all the
        followed keys together stay within `max_reads_per_s`."""
        return max(self.interval, len(self._channels) / self.max_reads_per_s)

    @contextlib.asynccontextmanager
    async def follow_frames(self, key: str,
                            on_stale: StaleCheck | None = None) -> AsyncIterator[asyncio.Queue]:
        """A queue of the frames stored under `key`: the current one first (when there is
        one), then each new one. `on_stale` runs every `stale_seconds` while the frame is not
        terminal and unchanged (it may publish a terminal frame for a dead job)."""
        channel = self._channels.get(key)
        queue: asyncio.Queue = asyncio.Queue()
        if channel is None:
            latest = await self.store.aget(key)
            channel = self._channels.get(key)  # another socket may have started it meanwhile
            if channel is None:
                channel = self._channels[key] = _Channel()
                channel.latest = latest
                channel.task = asyncio.create_task(self._poll_frames(key, channel, on_stale))
        if channel.latest is not None:
            queue.put_nowait(channel.latest)
        channel.queues.add(queue)
        try:
            yield queue
        finally:
            self._leave(key, channel, queue)

    @contextlib.asynccontextmanager
    async def follow_events(self, user_id: str) -> AsyncIterator[asyncio.Queue]:
        """A queue of `user_id`'s events published after this call."""
        key = head_key(user_id)
        channel = self._channels.get(key)
        queue: asyncio.Queue = asyncio.Queue()
        if channel is None:
            latest = await latest_event_seq(self.store, user_id)
            channel = self._channels.get(key)
            if channel is None:
                channel = self._channels[key] = _Channel()
                channel.latest = latest
                channel.task = asyncio.create_task(self._poll_events(user_id, channel))
        channel.queues.add(queue)
        try:
            yield queue
        finally:
            self._leave(key, channel, queue)

    def _leave(self, key: str, channel: _Channel, queue: asyncio.Queue) -> None:
        channel.queues.discard(queue)
        channels = self._channels
        if not channel.queues and channels.get(key) is channel:
            del channels[key]
            if channel.task is not None:
                channel.task.cancel()

    async def _poll_frames(self, key: str, channel: _Channel,
                           on_stale: StaleCheck | None) -> None:
        loop = asyncio.get_running_loop()
        changed_at = loop.time()
        while True:
            await asyncio.sleep(self.period())
            try:
                frame = await self.store.aget(key)
            except Exception:  # a store hiccup: the sockets keep their last frame, retry
                frame = None
            if frame is not None and frame != channel.latest:
                channel.latest, changed_at = frame, loop.time()
                for queue in channel.queues:
                    queue.put_nowait(frame)
            terminal = isinstance(channel.latest, dict) and channel.latest.get("status") in TERMINAL
            if on_stale is not None and not terminal \
                    and loop.time() - changed_at >= self.stale_seconds:
                changed_at = loop.time()
                with contextlib.suppress(Exception):  # a failed check is retried next time
                    await on_stale()

    async def _poll_events(self, user_id: str, channel: _Channel) -> None:
        while True:
            await asyncio.sleep(self.period())
            try:
                events, channel.latest = await events_after(self.store, user_id,
                                                            channel.latest)
            except Exception:  # a store hiccup: retried next period from the same seq
                continue
            for event in events:
                for queue in channel.queues:
                    queue.put_nowait(event)
