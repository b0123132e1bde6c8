"""Per-user SQLite ⇄ storage compare-and-swap (design.md §3), on both stores.

Two `UserDatabases` instances on one store are two containers. Competing writers are real
writes through the real store (tests/stores.py), never patches of the sync code.
"""

from __future__ import annotations

import sqlite3
import threading

import pytest

from lib.db.sync import UserDatabases
from lib.errors import NotFound, VersionConflict
from lib.keys import database_key
from tests.db.games import insert, stored_names
from tests.stores import BeforePut, SlowPut

UID = "u1"


def names(conn: sqlite3.Connection) -> set[str]:
    return {r["name"] for r in conn.execute("SELECT name FROM games")}


def remote_names(store, uid: str = UID) -> set[str]:
    """What storage holds, read without any container's cache."""
    return set(stored_names(store, uid))


def container(store, **kwargs) -> UserDatabases:
    return UserDatabases(store, backoff_base=0.001, backoff_cap=0.01, **kwargs)


def test_first_write_creates_the_database(store):
    a = container(store)
    assert a.read(UID, names) == set()
    assert store.head(database_key(UID)) is None  # reading a new user stores nothing
    assert a.write(UID, insert("x")) == 1
    assert remote_names(store) == {"x"}
    assert a.stats.uploads == 1


def test_two_containers_interleaved_writes_all_present(store):
    a, b = container(store), container(store)
    for i in range(5):
        a.write(UID, insert(f"a{i}"))
        b.write(UID, insert(f"b{i}"))
    expected = {f"a{i}" for i in range(5)} | {f"b{i}" for i in range(5)}
    assert remote_names(store) == expected
    assert a.read(UID, names) == b.read(UID, names) == expected
    # Each write revalidated first (conditional GET), so none had to be retried.
    assert a.stats.conflicts == b.stats.conflicts == 0


def test_stale_etag_is_retried_and_both_writes_survive(store):
    b = container(store)
    b.write(UID, insert("seed"))
    # Container A loads the database, then B writes between A's revalidation and A's PUT:
    # A's PUT carries a stale If-Match, fails, and A re-downloads and re-runs its unit.
    a = container(BeforePut(store, lambda: b.write(UID, insert("from-b"))))
    runs = []

    def fn(conn):
        runs.append(names(conn))
        return insert("from-a")(conn)

    a.write(UID, fn)
    assert a.stats.conflicts == 1 and a.stats.uploads == 1
    assert len(runs) == 2 and "from-b" not in runs[0] and "from-b" in runs[1]
    assert remote_names(store) == {"seed", "from-b", "from-a"}
    assert a.read(UID, names) == b.read(UID, names) == {"seed", "from-b", "from-a"}


def test_two_containers_create_the_same_new_user(store):
    """If-None-Match: * — only one creation wins; the other retries on top of it."""
    b = container(store)
    a = container(BeforePut(store, lambda: b.write(UID, insert("b-first"))))
    a.write(UID, insert("a-second"))
    assert a.stats.conflicts == 1
    assert remote_names(store) == {"b-first", "a-second"}


def test_version_conflict_after_bounded_retries(store):
    b = container(store)
    b.write(UID, insert("seed"))
    counter = iter(range(1000))
    rival = BeforePut(store, lambda: b.write(UID, insert(f"rival{next(counter)}")), times=None)
    a = container(rival, max_attempts=2)
    with pytest.raises(VersionConflict) as err:
        a.write(UID, insert("loser"))
    assert err.value.status == 409 and "retry" in err.value.message
    assert rival.puts == 2 and a.stats.conflicts == 2 and a.stats.uploads == 0
    assert remote_names(store) == {"seed", "rival0", "rival1"}
    assert UID not in a.cached_users()  # the losing copy is not kept
    assert "loser" not in a.read(UID, names)


def test_version_conflict_is_a_409_through_http(tmp_path, store):
    from tests.conftest import Api

    other = container(store)
    other.write(UID, insert("seed"))
    counter = iter(range(1000))
    rival = BeforePut(store, lambda: other.write(UID, insert(f"r{next(counter)}")), times=None)
    harness = Api(rival, tmp_path, db_write_attempts=3)
    try:
        r = harness.client.put("/api/settings", json={"projectFilters": {"aspectFilter": "1:1"}},
                               headers=harness.as_user(UID))
        assert r.status_code == 409
        assert r.json() == {"detail": "Your changes collided with other changes too many times;"
                                      " please retry."}
        assert harness.client.get("/api/settings", headers=harness.as_user(UID)).json()[
            "projectFilters"]["aspectFilter"] == "all"
    finally:
        harness.close()


def test_revalidate_on_read_sees_another_containers_write(store):
    a, b = container(store), container(store)
    a.write(UID, insert("one"))
    assert b.read(UID, names) == {"one"}
    downloads = b.stats.downloads
    assert b.read(UID, names) == {"one"}  # unchanged: answered 304, no download
    assert b.stats.downloads == downloads and b.stats.not_modified >= 1
    a.write(UID, insert("two"))
    assert b.read(UID, names) == {"one", "two"}
    assert b.stats.downloads == downloads + 1


def test_group_commit_shares_uploads_and_isolates_errors(store):
    slow = SlowPut(store, 0.1)
    a = container(slow)
    a.write(UID, insert("seed"))
    n = 24
    barrier = threading.Barrier(n)
    results: dict[int, object] = {}

    def work(i: int) -> None:
        def fn(conn):
            conn.execute("INSERT INTO games (name) VALUES (?)", (f"bad{i}" if i % 6 == 0
                                                                 else f"w{i}",))
            if i % 6 == 0:
                raise NotFound(f"op {i} fails alone")
            return i

        barrier.wait()
        try:
            results[i] = a.write(UID, fn)
        except NotFound as err:
            results[i] = err

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for i in range(n):
        if i % 6 == 0:
            assert isinstance(results[i], NotFound) and results[i].message == f"op {i} fails alone"
        else:
            assert results[i] == i
    expected = {"seed"} | {f"w{i}" for i in range(n) if i % 6}
    assert remote_names(store) == expected  # the failing ops' inserts were rolled back
    assert slow.puts - 1 < n - 4  # fewer uploads than successful writes
    assert slow.puts - 1 <= 4
    assert a.stats.batched_ops == n + 1


def test_no_op_writes_upload_nothing(store):
    a = container(store)
    a.write(UID, insert("x"))
    etag = store.head(database_key(UID)).etag
    uploads = a.stats.uploads
    assert a.write(UID, lambda conn: conn.execute("SELECT COUNT(*) FROM games").fetchone()[0]) == 1
    assert a.write(UID, lambda c: c.execute("UPDATE games SET name = 'y' WHERE 0").rowcount) == 0

    def fails_after_writing(conn):
        conn.execute("INSERT INTO games (name) VALUES ('never')")
        raise NotFound("nope")

    with pytest.raises(NotFound):
        a.write(UID, fails_after_writing)
    assert a.stats.uploads == uploads
    assert store.head(database_key(UID)).etag == etag
    assert a.read(UID, names) == {"x"}


def test_domain_errors_abort_just_that_unit(store):
    a = container(store)
    a.write(UID, insert("kept"))
    with pytest.raises(sqlite3.IntegrityError):
        a.write(UID, lambda c: c.execute("INSERT INTO raw_clips (game_id) VALUES (424242)"))
    assert a.read(UID, lambda c: c.execute("SELECT COUNT(*) FROM raw_clips").fetchone()[0]) == 0
    assert a.write(UID, insert("after")) == 2
    assert remote_names(store) == {"kept", "after"}


def test_lru_cache_bound(store):
    a = container(store, cache_size=3)
    users = [f"user{i}" for i in range(7)]
    for uid in users:
        a.write(uid, insert(uid))
        assert len(a.cached_users()) <= 3
    assert a.cached_users() == users[-3:]
    a.read(users[0], names)  # evicted earlier: downloaded again, becomes most recent
    assert a.cached_users() == users[-2:] + users[:1]
    for uid in users:
        assert a.read(uid, names) == {uid}
        assert len(a.cached_users()) <= 3


def test_many_threads_two_containers_no_lost_writes(store):
    a, b = container(store, max_attempts=50), container(store, max_attempts=50)
    errors: list[BaseException] = []

    def run(db: UserDatabases, prefix: str) -> None:
        try:
            for i in range(10):
                db.write(UID, insert(f"{prefix}{i}"))
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(db, f"{name}{t}-"))
               for db, name in ((a, "a"), (b, "b")) for t in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    expected = {f"{n}{t}-{i}" for n in "ab" for t in range(3) for i in range(10)}
    assert remote_names(store) == expected


def test_invalid_user_id_is_rejected_before_storage(store):
    from lib.errors import BadRequest

    a = container(store)
    with pytest.raises(BadRequest):
        a.write("../x", insert("x"))
    with pytest.raises(BadRequest):
        a.read("a/b", names)
    assert a.cached_users() == []


def test_user_deleted_by_another_container(store):
    a, b = container(store), container(store)
    a.write(UID, insert("old"))
    assert b.read(UID, names) == {"old"}
    assert b.delete_user(UID) == 1
    assert a.read(UID, names) == set()  # revalidation sees the object is gone
    a.write(UID, insert("new"))
    assert remote_names(store) == {"new"}
    assert b.read(UID, names) == {"new"}
