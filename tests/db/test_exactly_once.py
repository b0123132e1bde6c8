"""Exactly-once commits (issue 11): a conditional PUT that reached storage but whose answer
was lost (connection reset, read timeout) or that answered 412 against our own write is
recognised by its commit id and never re-applied; one that never arrived is re-run once.

The HTTP tests drive the real app over S3Store → tests/faultproxy.py → the moto server."""

from __future__ import annotations

import pytest

from lib.db.connection import open_image
from lib.db.sync import UserDatabases
from lib.keys import database_key
from lib.storage.base import StorageOutcomeUnknown
from lib.storage.s3 import S3Store
from tests.conftest import Api, make_s3_store
from tests.db.games import insert, stored_names
from tests.faultproxy import FaultProxy
from tests.s3server import ACCESS_KEY, SECRET_KEY
from tests.stores import DelegatingStore

UID = "once"
READ_TIMEOUT = 1.0


@pytest.fixture
def proxied(s3_server, tmp_path):
    """(app harness over the proxy, the proxy, a direct store on the same bucket)."""
    direct = make_s3_store(s3_server)
    proxy = FaultProxy(s3_server.endpoint, delay_s=READ_TIMEOUT + 1.5)
    store = S3Store(direct.bucket, endpoint_url=proxy.endpoint, access_key_id=ACCESS_KEY,
                    secret_access_key=SECRET_KEY, region="us-east-1",
                    db_connect_timeout=1.0, db_read_timeout=READ_TIMEOUT)
    harness = Api(store, tmp_path)
    yield harness, proxy, direct
    harness.close()
    proxy.close()


def stored_projects(direct, uid: str = UID) -> list[tuple[int, str]]:
    data, _ = direct.get_bytes(database_key(uid))
    return [tuple(r) for r in open_image(data).execute("SELECT id, name FROM projects")]


def db_puts(proxy: FaultProxy) -> int:
    return sum(1 for method, path in proxy.forwarded
               if method == "PUT" and path.endswith("database.sqlite"))


def create(harness: Api, name: str, uid: str = UID):
    return harness.client.post("/api/projects", json={"name": name}, headers=harness.as_user(uid))


@pytest.mark.parametrize("fault", ["reset", "delay"])
def test_lost_put_response_is_applied_exactly_once(proxied, fault):
    harness, proxy, direct = proxied
    assert create(harness, "seed").status_code == 200
    puts = db_puts(proxy)

    proxy.arm(fault)
    r = create(harness, "x")
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "x"
    assert proxy.faulted == [(fault, "PUT", f"/{direct.bucket}/{UID}/database.sqlite")]
    assert db_puts(proxy) == puts + 1  # one PUT reached storage: no blind retry, no re-run
    projects = stored_projects(direct)
    assert [name for _, name in projects] == ["seed", "x"]  # applied once
    assert (r.json()["id"], "x") in projects  # and the caller got that project's id
    stats = harness.app.state.dbs.stats
    assert stats.unknown_outcomes == 1 and stats.landed_after_all == 1
    # The container goes on from the landed version without a conflict.
    assert create(harness, "y").status_code == 200
    assert [name for _, name in stored_projects(direct)] == ["seed", "x", "y"]
    assert stats.conflicts == 0


def test_first_write_of_a_new_user_with_lost_response(proxied):
    """If-None-Match: * — the creation landed; its lost answer must not create it twice."""
    harness, proxy, direct = proxied
    proxy.arm("reset")
    r = create(harness, "first", uid="newbie")
    assert r.status_code == 200, r.text
    assert stored_projects(direct, "newbie") == [(r.json()["id"], "first")]


def test_put_that_never_arrived_is_run_again_once(proxied):
    harness, proxy, direct = proxied
    assert create(harness, "seed").status_code == 200
    puts = db_puts(proxy)
    proxy.arm("drop")
    r = create(harness, "x")
    assert r.status_code == 200, r.text
    assert db_puts(proxy) == puts + 1  # the dropped one never reached storage
    assert [name for _, name in stored_projects(direct)] == ["seed", "x"]
    assert harness.app.state.dbs.stats.landed_after_all == 0


# -- the sync layer on both stores ------------------------------------------------------------

def remote_names(store) -> list[str]:
    return stored_names(store, UID)


class RetriedPut(DelegatingStore):
    """What botocore's automatic retry did: the PUT lands, its answer is lost, the same
    If-Match PUT is sent again and storage answers 412 (the etag is now our own write)."""

    def put_if(self, key, data, **kwargs):
        self.inner.put_if(key, data, **kwargs)
        return self.inner.put_if(key, data, **kwargs)


class LostThenOvertaken(DelegatingStore):
    """The PUT lands, its answer is lost, and before we read again other containers commit
    on top of it: the stored image's latest commit is not ours, an older one is."""

    def __init__(self, inner, rival: UserDatabases, rival_writes: int):
        super().__init__(inner)
        self.rival, self.rival_writes, self.armed = rival, rival_writes, True

    def put_if(self, key, data, **kwargs):
        etag = self.inner.put_if(key, data, **kwargs)
        if not self.armed:
            return etag
        self.armed = False
        for i in range(self.rival_writes):
            self.rival.write(UID, insert(f"rival{i}"))
        raise StorageOutcomeUnknown("Storage did not answer in time; please try again shortly.")


def container(store, **kwargs) -> UserDatabases:
    return UserDatabases(store, backoff_base=0.001, backoff_cap=0.01, **kwargs)


def test_412_against_our_own_write_is_not_a_conflict(store):
    container(store).write(UID, insert("seed"))
    a = container(RetriedPut(store))
    assert a.write(UID, insert("once")) == 2
    assert remote_names(store) == ["seed", "once"]
    assert a.stats.conflicts == 1 and a.stats.landed_after_all == 1


def test_landed_write_recognised_under_later_commits(store):
    container(store).write(UID, insert("seed"))
    rival = container(store)
    a = container(LostThenOvertaken(store, rival, rival_writes=5))
    assert a.write(UID, insert("mine")) == 2  # the id it got when it landed
    assert remote_names(store) == ["seed", "mine"] + [f"rival{i}" for i in range(5)]
    assert a.stats.unknown_outcomes == 1 and a.stats.landed_after_all == 1


def test_commit_log_stays_small(store):
    a = container(store, commit_log_keep_s=0)
    for i in range(24):
        a.write(UID, insert(f"g{i}"))
    data, _ = store.get_bytes(database_key(UID))
    conn = open_image(data)
    assert conn.execute("SELECT COUNT(*) FROM commit_log").fetchone()[0] == 16
    # Reads and no-op writes leave no commit behind.
    a.write(UID, lambda c: c.execute("SELECT 1").fetchone())
    assert store.get_bytes(database_key(UID))[0] == data
