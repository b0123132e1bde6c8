"""Retries end by time, not by count (DB_WRITE_BUDGET_S), and a unit of work, waiting for the
user's lock included, ends by its deadline (DB_DEADLINE_S): 503, not a queue of minutes."""

from __future__ import annotations

import threading
import time

import pytest

from lib.config import Settings
from lib.db.sync import UserDatabases
from lib.errors import StorageUnavailable, VersionConflict
from tests.db.games import insert, stored_names
from tests.stores import BeforePut, SlowPut

UID = "budget"


def remote_names(store) -> set[str]:
    return set(stored_names(store, UID))


def test_settings_bound_retries_by_time_by_default():
    dbs = UserDatabases.from_settings(object(), Settings())
    assert dbs.max_attempts is None  # DB_WRITE_ATTEMPTS=0: no count limit
    assert (dbs.write_budget_s, dbs.deadline_s) == (15.0, 8.0)


def test_conflicts_retried_until_the_budget_then_409(store):
    rival = UserDatabases(store)
    rival.write(UID, insert("seed"))
    counter = iter(range(10_000))
    always = BeforePut(store, lambda: rival.write(UID, insert(f"r{next(counter)}")), times=None)
    a = UserDatabases(always, write_budget_s=0.6, backoff_base=0.005, backoff_cap=0.05)
    started = time.monotonic()
    with pytest.raises(VersionConflict):
        a.write(UID, insert("loser"))
    elapsed = time.monotonic() - started
    assert 0.5 < elapsed < 3.0
    assert a.stats.conflicts > 3  # many more tries than a small count would allow
    assert "loser" not in remote_names(store)


def test_lock_waiters_answer_503_by_their_deadline(store):
    slow = SlowPut(store, 1.5)
    UserDatabases(store).write(UID, insert("seed"))
    a = UserDatabases(slow, deadline_s=5.0, storage_call_s=0.1)
    holder = threading.Thread(target=a.write, args=(UID, insert("slow")))
    holder.start()
    time.sleep(0.2)  # the holder is inside its 1.5 s PUT
    a.deadline_s = 0.4
    outcomes = {}
    for name, call in (("write", lambda: a.write(UID, insert("queued"))),
                       ("read", lambda: a.read(UID, lambda c: 1))):
        started = time.monotonic()
        with pytest.raises(StorageUnavailable) as err:
            call()
        outcomes[name] = time.monotonic() - started
        assert err.value.status == 503 and err.value.message.endswith("shortly.")
    holder.join(10)
    assert all(0.3 < t < 1.0 for t in outcomes.values()), outcomes
    assert remote_names(store) == {"seed", "slow"}  # the timed-out write never ran
