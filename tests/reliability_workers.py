"""Bodies of the OS processes of the reliability tests (R1, R2). Kept apart from the test
modules so a spawned child imports only what it needs: the sync code and boto3."""

from __future__ import annotations

from lib.db.sync import UserDatabases
from lib.storage.s3 import S3Store
from tests.db.games import insert
from tests.stores import DelegatingStore

ACCESS_KEY = SECRET_KEY = "testing"


def s3_store(endpoint: str, bucket: str) -> S3Store:
    return S3Store(bucket, endpoint_url=endpoint, access_key_id=ACCESS_KEY,
                   secret_access_key=SECRET_KEY, region="us-east-1",
                   connect_timeout=2.0, read_timeout=20.0)


def concurrent_writer(endpoint: str, bucket: str, uid: str, prefix: str, count: int,
                      barrier, results) -> None:
    """R1: `count` writes, each its own unit of work; reports its sync stats."""
    # The storage server handles one request at a time, so a lost compare-and-swap costs it
    # two wasted requests: backing off a little longer makes the run faster, not slower.
    dbs = UserDatabases(s3_store(endpoint, bucket), max_attempts=200,
                        backoff_base=0.02, backoff_cap=0.2)
    barrier.wait(timeout=60)
    failures = []
    for i in range(count):
        try:
            dbs.write(uid, insert(f"{prefix}-{i}"))
        except Exception as err:  # noqa: BLE001 - reported to the parent
            failures.append(f"{i}: {type(err).__name__}: {err}")
    s = dbs.stats
    results.put({"prefix": prefix, "failures": failures, "uploads": s.uploads,
                 "conflicts": s.conflicts, "downloads": s.downloads})


class PutMarkers(DelegatingStore):
    """Tells the parent (`P` on `out`) when each upload starts, so it can aim a kill."""

    def __init__(self, inner, out):
        super().__init__(inner)
        self.out = out

    def put_if(self, key, data, **kwargs):
        self.out.send_bytes(b"P")
        return self.inner.put_if(key, data, **kwargs)


def crash_writer(endpoint: str, bucket: str, uid: str, start: int, out) -> None:
    """R2: write forever; only after each write() has returned, report its number
    (`A<n>`) on the pipe `out`. The parent SIGKILLs this process at a random moment.
    (Each message is one small write(2) to a pipe: atomic even when killed.)"""
    dbs = UserDatabases(PutMarkers(s3_store(endpoint, bucket), out), max_attempts=50,
                        backoff_base=0.001, backoff_cap=0.01)
    out.send_bytes(b"R")
    i = start
    while True:
        dbs.write(uid, insert(f"ack-{i}"))
        out.send_bytes(f"A{i}".encode())
        i += 1
