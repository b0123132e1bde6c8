"""Contention (issue 11): 16 concurrent writers on one user across 2 OS processes (8 threads
per container), production settings (retries bounded by DB_WRITE_BUDGET_S, full jitter),
against the moto server on loopback → 0 × 409, every write present exactly once.

CONTENTION_WRITES=80 runs the audit's full 1,280 writes (the default is 12 per writer)."""

from __future__ import annotations

import os

from tests.conftest import make_s3_store
from tests.db.games import run_writers, stored_names

PROCESSES = 2
THREADS = 8
WRITES = int(os.environ.get("CONTENTION_WRITES", "12"))
UID = "contended"


def test_sixteen_writers_two_processes_no_409(s3_server):
    from tests.db.contention_workers import contending_container

    store = make_s3_store(s3_server)
    reports, elapsed = run_writers(
        contending_container,
        [(s3_server.endpoint, store.bucket, UID, f"p{n}", THREADS, WRITES)
         for n in range(PROCESSES)], timeout=600)

    total = PROCESSES * THREADS * WRITES
    assert [r["conflicts_409"] for r in reports] == [[]] * PROCESSES
    assert [r["unavailable"] for r in reports] == [[]] * PROCESSES
    stored = stored_names(store, UID)
    expected = {f"p{n}-{t}-{i}" for n in range(PROCESSES) for t in range(THREADS)
                for i in range(WRITES)}
    assert len(stored) == total and set(stored) == expected  # none lost, none doubled
    assert sum(r["cas_lost"] for r in reports) > 0  # the containers really competed
    latencies = sorted(x for r in reports for x in r["latencies"])
    print(f"contention: {total} writes by {PROCESSES}x{THREADS} writers in {elapsed:.1f}s, "
          f"0 x 409, {sum(r['cas_lost'] for r in reports)} lost CAS retried, "
          f"{sum(r['uploads'] for r in reports)} uploads, "
          f"p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, "
          f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms")
