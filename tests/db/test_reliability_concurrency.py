"""R1: 4 OS processes × 200 writes on one user, through the unit of work, against the moto
server on loopback → all 800 present, 0 lost."""

from __future__ import annotations

from lib.db.connection import open_image
from lib.keys import database_key
from tests.conftest import make_s3_store
from tests.db.games import run_writers
from tests.reliability_workers import concurrent_writer

PROCESSES = 4
WRITES = 200
UID = "r1user"


def test_r1_four_processes_no_lost_writes(s3_server):
    store = make_s3_store(s3_server)
    reports, elapsed = run_writers(
        concurrent_writer,
        [(s3_server.endpoint, store.bucket, UID, f"p{n}", WRITES) for n in range(PROCESSES)],
        timeout=300)

    assert [r["failures"] for r in reports] == [[]] * PROCESSES
    data, _ = store.get_bytes(database_key(UID))
    conn = open_image(data)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = [r["name"] for r in conn.execute("SELECT name FROM games")]
    expected = {f"p{n}-{i}" for n in range(PROCESSES) for i in range(WRITES)}
    assert len(stored) == PROCESSES * WRITES  # no duplicates (no write applied twice)
    assert set(stored) == expected  # 0 lost
    # The processes really competed: some uploads lost the compare-and-swap and were redone.
    assert sum(r["conflicts"] for r in reports) > 0
    assert sum(r["uploads"] for r in reports) == PROCESSES * WRITES
    print(f"R1: {PROCESSES}x{WRITES} writes in {elapsed:.1f}s, "
          f"{sum(r['conflicts'] for r in reports)} conflicts retried")
