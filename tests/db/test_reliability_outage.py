"""R3: storage stops in the middle of a request → 503 with a clear message through the HTTP
API; once it is back, writes work; no divergent local state (the write attempted during the
outage is nowhere to be seen, the cached copy was dropped)."""

from __future__ import annotations

import time

import pytest

from lib.db.connection import open_image
from lib.keys import database_key
from lib.library.settings import get_settings
from lib.storage import ObjectNotFound
from tests.conftest import Api, make_s3_store
from tests.s3server import S3Server
from tests.stores import DelegatingStore

UID = "r3user"
UNREACHABLE = "Storage is unreachable right now; please try again shortly."


class OutageOnPut(DelegatingStore):
    """When armed, the storage server is stopped right before the next upload: the request
    has already revalidated its copy and committed locally when storage goes away."""

    def __init__(self, inner, server: S3Server):
        super().__init__(inner)
        self.server = server
        self.armed = False

    def put_if(self, key, data, **kwargs):
        if self.armed:
            self.armed = False
            self.server.stop()
        return self.inner.put_if(key, data, **kwargs)


@pytest.fixture
def outage(tmp_path):
    server = S3Server().start()
    store = OutageOnPut(make_s3_store(server), server)
    harness = Api(store, tmp_path)
    yield harness, store, server
    harness.close()
    server.stop()


def aspect(harness: Api) -> tuple[int, object]:
    r = harness.client.get("/api/settings", headers=harness.as_user(UID))
    return r.status_code, r.json()


def put_aspect(harness: Api, value: str):
    return harness.client.put("/api/settings", json={"projectFilters": {"aspectFilter": value}},
                              headers=harness.as_user(UID))


def stored_aspect(store) -> str:
    data, _ = store.inner.get_bytes(database_key(UID))
    return get_settings(open_image(data))["projectFilters"]["aspectFilter"]


def test_r3_storage_stopped_mid_request(outage):
    harness, store, server = outage
    dbs = harness.app.state.dbs
    assert put_aspect(harness, "16:9").status_code == 200
    assert UID in dbs.cached_users()

    store.armed = True
    started = time.monotonic()
    r = put_aspect(harness, "9:16")
    assert r.status_code == 503
    assert r.json() == {"detail": UNREACHABLE}
    assert time.monotonic() - started < 10  # fails fast, does not hang
    assert not server.running
    assert UID not in dbs.cached_users()  # the copy holding the unsaved change is gone

    # While storage is down: reads and writes answer 503 too (never stale or local-only data).
    assert aspect(harness) == (503, {"detail": UNREACHABLE})
    assert put_aspect(harness, "1:1").status_code == 503
    health = harness.client.get("/api/health")
    assert health.status_code == 503 and health.json()["storage"] == UNREACHABLE
    assert health.json()["detail"]

    server.start()
    assert harness.client.get("/api/health").status_code == 200
    status, body = aspect(harness)
    assert status == 200 and body["projectFilters"]["aspectFilter"] == "16:9"
    assert stored_aspect(store) == "16:9"  # the outage write never reached storage

    assert put_aspect(harness, "1:1").status_code == 200
    assert aspect(harness)[1]["projectFilters"]["aspectFilter"] == "1:1"
    assert stored_aspect(store) == "1:1"


def test_r3_storage_down_before_first_contact(outage):
    harness, store, server = outage
    server.stop()
    assert put_aspect(harness, "4:3").status_code == 503
    assert aspect(harness)[0] == 503
    assert harness.app.state.dbs.cached_users() == []
    server.start()
    assert aspect(harness)[1]["projectFilters"]["aspectFilter"] == "all"
    with pytest.raises(ObjectNotFound):
        store.inner.get_bytes(database_key(UID))  # nothing was ever stored
    assert put_aspect(harness, "4:3").status_code == 200
    assert stored_aspect(store) == "4:3"
