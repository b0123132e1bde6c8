"""One poller per container per key: Dict reads bounded however many sockets follow."""

from __future__ import annotations

import asyncio
import contextlib

from lib.jobs.progress_hub import ProgressHub
from lib.jobs.progress_store import MemoryProgressStore, publish_event

SOCKETS = 50


async def _follow_for(hub: ProgressHub, keys: list[str], seconds: float) -> list[list]:
    received: list[list] = [[] for _ in keys]

    async def socket(i: int, key: str) -> None:
        async with hub.follow_frames(key) as frames:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    while True:
                        received[i].append(await frames.get())

    await asyncio.gather(*(socket(i, k) for i, k in enumerate(keys)))
    return received


def test_fifty_sockets_on_one_export_share_one_poller():
    store = MemoryProgressStore()
    store.put("export:u:e", {"seq": 1, "progress": 10})
    hub = ProgressHub(store, interval=0.1)

    async def main() -> list[list]:
        async def writer() -> None:
            for seq in range(2, 6):
                await asyncio.sleep(0.25)
                await store.aput("export:u:e", {"seq": seq, "progress": seq * 10})

        task = asyncio.create_task(writer())
        received = await _follow_for(hub, ["export:u:e"] * SOCKETS, 1.5)
        await task
        return received

    received = asyncio.run(main())
    for frames in received:  # every socket got the replay and every change, in order
        assert [f["seq"] for f in frames] == [1, 2, 3, 4, 5]
    # 1.5 s at 0.1 s: ~15 polls (+1 first read); per-socket polling would have made 50x that.
    assert store.reads <= 1.5 / 0.1 + 3, store.reads


def test_reads_stay_under_the_cap_for_fifty_exports():
    store = MemoryProgressStore()
    keys = [f"export:u:e{i}" for i in range(SOCKETS)]
    for key in keys:
        store.put(key, {"seq": 1})
    hub = ProgressHub(store, interval=0.1, max_reads_per_s=20.0)
    asyncio.run(_follow_for(hub, keys, 2.0))
    polls = store.reads - SOCKETS  # minus the first read of each key
    assert polls / 2.0 <= 20.0 * 1.15, polls  # 50 keys at 0.1 s would be 500 reads/s


def test_events_fan_out_after_subscription():
    store = MemoryProgressStore()
    publish_event(store, "u", {"type": "extraction_complete", "clip_id": 1})  # before: not sent
    hub = ProgressHub(store, interval=0.05)

    async def main() -> list[list[dict]]:
        got: list[list[dict]] = [[], []]

        async def socket(i: int) -> None:
            async with hub.follow_events("u") as events:
                for _ in range(2):
                    got[i].append(await asyncio.wait_for(events.get(), 2.0))

        sockets = [asyncio.create_task(socket(i)) for i in range(2)]
        await asyncio.sleep(0.1)
        publish_event(store, "u", {"type": "extraction_complete", "clip_id": 2})
        publish_event(store, "u", {"type": "extraction_failed", "clip_id": 3})
        await asyncio.gather(*sockets)
        return got

    for events in asyncio.run(main()):
        assert [e["clip_id"] for e in events] == [2, 3]


def test_stale_frame_triggers_one_check_per_key():
    store = MemoryProgressStore()
    store.put("export:u:e", {"seq": 1, "status": "processing", "progress": 40})
    hub = ProgressHub(store, interval=0.05, stale_seconds=0.2)
    checks = []

    async def check() -> None:  # what the socket handler does: the row says it failed
        checks.append(1)
        await store.aput("export:u:e", {"seq": 2, "status": "error", "error": "Stopped."})

    async def main() -> list:
        async def socket() -> list:
            frames = []
            async with hub.follow_frames("export:u:e", on_stale=check) as queue:
                while not frames or frames[-1]["status"] != "error":
                    frames.append(await asyncio.wait_for(queue.get(), 2.0))
            return frames

        return await asyncio.gather(*(socket() for _ in range(5)))

    for frames in asyncio.run(main()):
        assert [f["status"] for f in frames] == ["processing", "error"]
    assert len(checks) == 1
