"""Hung storage (issue 11): with the storage endpoint accepting connections but never
answering, a write answers 503 with a plain sentence within ~10 s under the default
timeouts and deadline, another request of the same user does not queue behind it for
longer, /api/health answers at once, and nothing half-done is left once storage is back."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time

import pytest

from lib.db.connection import open_image
from lib.keys import database_key
from lib.storage.s3 import S3Store
from tests.conftest import Api, make_s3_store
from tests.faultproxy import FaultProxy
from tests.s3server import ACCESS_KEY, SECRET_KEY

UID = "hung"
LIMIT_S = 10.0
HEALTH_LIMIT_S = 1.5
SENTENCES = {
    "Storage did not answer in time; please try again shortly.",
    "Another change of yours is still waiting on storage; please try again shortly.",
    "Storage is too slow right now; please try again shortly.",
}


def s3_store(endpoint: str, bucket: str) -> S3Store:
    """The production defaults for timeouts (only the endpoint differs)."""
    return S3Store(bucket, endpoint_url=endpoint, access_key_id=ACCESS_KEY,
                   secret_access_key=SECRET_KEY, region="us-east-1")


def timed(fn):
    started = time.monotonic()
    r = fn()
    return r, time.monotonic() - started


def stored_projects(store, bucket_store=None) -> list[str]:
    data, _ = store.get_bytes(database_key(UID))
    return [r["name"] for r in open_image(data).execute("SELECT name FROM projects ORDER BY id")]


def check_hung(harness: Api) -> None:
    """While storage hangs: a write, a read of the same user and health."""
    client, headers = harness.client, harness.as_user(UID)
    results: dict[str, tuple] = {}

    def write():
        results["write"] = timed(lambda: client.post("/api/projects", json={"name": "lost"},
                                                     headers=headers))

    def read():
        results["read"] = timed(lambda: client.get("/api/projects", headers=headers))

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.3)  # the write now holds the user's lock, waiting on storage
    reader = threading.Thread(target=read)
    reader.start()
    health, health_s = timed(lambda: client.get("/api/health"))
    writer.join(30)
    reader.join(30)

    assert health_s < HEALTH_LIMIT_S
    assert health.status_code == 503
    assert health.json()["storage"] == "Storage is not answering right now."
    for name in ("write", "read"):
        r, elapsed = results[name]
        assert r.status_code == 503, (name, r.text)
        assert r.json()["detail"] in SENTENCES
        assert elapsed < LIMIT_S, (name, elapsed)
    print(f"hung: write 503 in {results['write'][1]:.1f}s, read 503 in "
          f"{results['read'][1]:.1f}s, health in {health_s * 1000:.0f} ms")


def check_recovered(harness: Api, direct) -> None:
    r = harness.client.post("/api/projects", json={"name": "after"},
                            headers=harness.as_user(UID))
    assert r.status_code == 200, r.text
    assert stored_projects(direct) == ["seed", "after"]  # the hung write never landed
    assert harness.client.get("/api/health").status_code == 200


def test_proxy_that_accepts_and_never_answers(s3_server, tmp_path):
    direct = make_s3_store(s3_server)
    proxy = FaultProxy(s3_server.endpoint)
    harness = Api(s3_store(proxy.endpoint, direct.bucket), tmp_path)
    try:
        assert harness.client.post("/api/projects", json={"name": "seed"},
                                   headers=harness.as_user(UID)).status_code == 200
        proxy.hang()
        check_hung(harness)
        proxy.release()
        check_recovered(harness, direct)
    finally:
        harness.close()
        proxy.close()


@pytest.fixture
def moto_process():
    ctx = mp.get_context("spawn")
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=__import__("tests.storage.moto_child", fromlist=["serve"]).serve,
                        args=(writer,), daemon=True)
    child.start()
    assert reader.poll(60)
    port = reader.recv()
    yield child, f"http://127.0.0.1:{port}"
    os.kill(child.pid, signal.SIGCONT)
    child.kill()
    child.join(10)


def test_sigstopped_storage_process(moto_process, tmp_path):
    child, endpoint = moto_process
    store = s3_store(endpoint, "hung-bucket")
    store.ensure_bucket()
    harness = Api(store, tmp_path)
    try:
        assert harness.client.post("/api/projects", json={"name": "seed"},
                                   headers=harness.as_user(UID)).status_code == 200
        os.kill(child.pid, signal.SIGSTOP)
        try:
            check_hung(harness)
        finally:
            os.kill(child.pid, signal.SIGCONT)
        check_recovered(harness, store)
    finally:
        harness.close()
