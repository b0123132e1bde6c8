"""Body of the OS processes of the contention test: `threads` writers in one container
(one UserDatabases with the production settings), each making `writes` units of work."""

from __future__ import annotations

import threading
import time

from lib.config import Settings
from lib.db.sync import UserDatabases
from lib.errors import StorageUnavailable, VersionConflict
from lib.storage.s3 import S3Store
from tests.db.games import insert


def contending_container(endpoint: str, bucket: str, uid: str, prefix: str, threads: int,
                         writes: int, barrier, results) -> None:
    store = S3Store(bucket, endpoint_url=endpoint, access_key_id="testing",
                    secret_access_key="testing", region="us-east-1")
    dbs = UserDatabases.from_settings(store, Settings())
    conflicts: list[str] = []
    unavailable: list[str] = []
    latencies: list[float] = []
    lock = threading.Lock()

    def writer(t: int) -> None:
        for i in range(writes):
            name = f"{prefix}-{t}-{i}"
            started = time.monotonic()
            try:
                dbs.write(uid, insert(name))
            except VersionConflict:
                with lock:
                    conflicts.append(name)
            except StorageUnavailable as err:
                with lock:
                    unavailable.append(f"{name}: {err}")
            with lock:
                latencies.append(time.monotonic() - started)

    workers = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
    barrier.wait(timeout=60)
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    s = dbs.stats
    results.put({"prefix": prefix, "conflicts_409": conflicts, "unavailable": unavailable,
                 "uploads": s.uploads, "cas_lost": s.conflicts, "batched_ops": s.batched_ops,
                 "max_latency_s": max(latencies), "latencies": latencies})
