"""Progress-store reads per second for 50 open export sockets in one container.

Through the real app (TestClient in one event loop, as a server runs): 50 sockets on one
export, then 50 sockets on 50 exports, while a worker thread publishes a frame per export
every 0.5 s. The floor is what one poller per key must read (keys / period); the old
per-socket polling read 4x per second per socket.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.config import Settings  # noqa: E402
from lib.jobs.progress_store import MemoryProgressStore  # noqa: E402
from lib.jobs.records import JobLabels, JobProgress  # noqa: E402
from lib.models import ExportType  # noqa: E402
from lib.storage import LocalDirStore  # noqa: E402
from web.app import create_app  # noqa: E402

SOCKETS = 50
SECONDS = 4.0
USER = "bench"
OLD_PER_SOCKET = 4.0  # the previous handler: one Dict get per socket every 0.25 s


def measure(client: TestClient, store: MemoryProgressStore, export_ids: list[str]) -> float:
    sinks = {e: JobProgress(store, USER, JobLabels(e, ExportType.FRAMING)) for e in
             set(export_ids)}
    for sink in sinks.values():
        sink(1, "processing", "")
    stop = threading.Event()

    def worker() -> None:
        pct = 1
        while not stop.wait(0.5):
            pct += 1
            for sink in sinks.values():
                sink(pct, "processing", "")

    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(client.websocket_connect(
            f"/ws/export/{e}", headers={"X-User-ID": USER})) for e in export_ids]
        for ws in sockets:
            ws.receive_text()  # the replay
        thread = threading.Thread(target=worker)
        thread.start()
        before, started = store.reads, time.monotonic()
        time.sleep(SECONDS)
        rate = (store.reads - before) / (time.monotonic() - started)
        stop.set()
        thread.join()
    return rate


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = MemoryProgressStore()
        settings = Settings(data_dir=Path(tmp))
        app = create_app(settings, store=LocalDirStore(Path(tmp) / "objects"), progress=store)
        hub = app.state.hub
        with TestClient(app) as client:
            one = measure(client, store, ["exp_one"] * SOCKETS)
            many = measure(client, store, [f"exp_{i}" for i in range(SOCKETS)])
    floor_one = 1 / hub.interval
    floor_many = SOCKETS / max(hub.interval, SOCKETS / hub.max_reads_per_s)
    print(f"50 sockets, 1 export:   {one:6.1f} reads/s (floor {floor_one:.1f})")
    print(f"50 sockets, 50 exports: {many:6.1f} reads/s (floor {floor_many:.1f}, "
          f"cap {hub.max_reads_per_s:.0f})")
    print(f"per-socket polling would read {SOCKETS * OLD_PER_SOCKET:.0f} reads/s in both cases")
    print(f"RESULT reads_per_s_one_export={one:.1f} reads_per_s_50_exports={many:.1f} "
          f"ratio_one_vs_floor={one / floor_one:.2f} ratio_50_vs_floor={many / floor_many:.2f} "
          f"old_reads_per_s={SOCKETS * OLD_PER_SOCKET:.0f}")


if __name__ == "__main__":
    main()
