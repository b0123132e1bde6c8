"""R2: a writer process SIGKILLed at random points during sync, ≥ 20 trials → the remote
database always passes PRAGMA integrity_check and holds every acknowledged write.

The child reports a write as acknowledged only after `write()` returned. Half the trials kill
at a uniformly random moment of the child's life, half aim at the inside of an upload (a
random few milliseconds after the child announced a PUT), so kills land in every phase:
revalidation, the transaction, the snapshot, the upload itself and between writes.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import signal
import sqlite3
import time

from lib.db.connection import open_image
from lib.db.sync import UserDatabases
from lib.keys import database_key
from tests.conftest import make_s3_store

TRIALS = 24
UID = "r2user"
PAD_BYTES = 400_000  # an upload of ~0.5 MB takes long enough to be cut in the middle


def remote_state(store) -> tuple[str, set[str]]:
    data, _ = store.get_bytes(database_key(UID))
    raw = sqlite3.connect(":memory:")
    raw.deserialize(data)
    integrity = raw.execute("PRAGMA integrity_check").fetchone()[0]
    names = {r["name"] for r in open_image(data).execute("SELECT name FROM games")}
    return integrity, names


def drain(conn) -> list[bytes]:
    """Every message the dead child sent."""
    out = []
    try:
        while conn.poll(0.5):
            out.append(conn.recv_bytes())
    except EOFError:
        pass
    return out


def test_r2_sigkill_during_sync_never_loses_acknowledged_writes(s3_server):
    store = make_s3_store(s3_server)
    UserDatabases(store).write(UID, lambda c: c.execute(
        "INSERT INTO games (name, tournament_name) VALUES ('padding', ?)",
        (os.urandom(PAD_BYTES // 2).hex(),)))
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["tests.reliability_workers"])
    from tests.reliability_workers import crash_writer

    rng = random.Random(20261123)
    acknowledged: set[str] = set()
    killed_mid_upload = 0
    for trial in range(TRIALS):
        reader, writer = ctx.Pipe(duplex=False)
        child = ctx.Process(target=crash_writer,
                            args=(s3_server.endpoint, store.bucket, UID, trial * 10_000, writer))
        child.start()
        writer.close()
        assert reader.poll(30) and reader.recv_bytes() == b"R"
        if trial % 2 == 0:
            time.sleep(rng.uniform(0, 0.2))
            early = []
        else:  # aim inside an upload: the k-th PUT, a few milliseconds in
            k, early = rng.randint(1, 3), []
            while sum(m == b"P" for m in early) < k:
                assert reader.poll(30)
                early.append(reader.recv_bytes())
            time.sleep(rng.uniform(0, 0.004))
        os.kill(child.pid, signal.SIGKILL)
        child.join(10)
        assert child.exitcode == -signal.SIGKILL
        messages = early + drain(reader)
        reader.close()
        acked = {f"ack-{m[1:].decode()}" for m in messages if m.startswith(b"A")}
        if messages and messages[-1] == b"P":
            killed_mid_upload += 1
        acknowledged |= acked

        integrity, names = remote_state(store)
        assert integrity == "ok", f"trial {trial}: {integrity}"
        assert acknowledged <= names, f"trial {trial}: lost {sorted(acknowledged - names)}"

    # The kills really landed inside uploads, and the writer made progress in between.
    assert killed_mid_upload >= TRIALS // 4
    assert len(acknowledged) >= TRIALS
    # The database is still writable by a fresh container after all that.
    UserDatabases(store).write(UID, lambda c: c.execute("INSERT INTO games (name) VALUES ('z')"))
    integrity, names = remote_state(store)
    assert integrity == "ok" and "z" in names and acknowledged <= names
    print(f"R2: {TRIALS} kills, {killed_mid_upload} inside an upload, "
          f"{len(acknowledged)} acknowledged writes all present")
