"""Migration of the real database the old backend wrote (tests/data/seed-db)."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from lib.db.connection import open_image, snapshot
from lib.db.migrate import migrate
from lib.db.schema import SCHEMA_VERSION, TABLE_ORDER
from lib.keys import database_key
from tests.conftest import SEED_DB
from tests.migrate_helpers import SEED_BYTES, old_connection, schema_shape, user_tables

# Normalized on purpose (everything else must be carried over unchanged):
RECOMPUTED = {"games": {"clip_count", "brilliant_count", "good_count", "interesting_count",
                        "mistake_count", "blunder_count", "aggregate_score"}}
RENAMED = {"modal_tasks": "extraction_tasks"}


def rows(conn: sqlite3.Connection, table: str) -> dict:
    cur = conn.execute(f'SELECT * FROM "{table}"')
    names = [d[0] for d in cur.description]
    pk = "id"
    return {r[names.index(pk)]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}


@pytest.fixture(scope="module")
def seed() -> tuple[sqlite3.Connection, sqlite3.Connection]:
    return old_connection(SEED_BYTES), open_image(SEED_BYTES)


# -- the real seed database ---------------------------------------------------------------

def test_seed_is_an_old_backend_database(seed):
    old, _ = seed
    assert SEED_BYTES[18] == SEED_BYTES[19] == 2  # written in WAL mode
    assert old.execute("PRAGMA user_version").fetchone()[0] == 0
    assert "modal_tasks" in user_tables(old)
    assert "identity" not in [r[1] for r in old.execute("PRAGMA table_info(working_clips)")]


def test_seed_every_row_of_every_table_survives(seed):
    old, new = seed
    assert user_tables(new) == set(TABLE_ORDER)
    checked = 0
    for old_table in sorted(user_tables(old)):
        table = RENAMED.get(old_table, old_table)
        before, after = rows(old, old_table), rows(new, table)
        assert set(after) == set(before), f"{table}: rows lost or invented"
        new_cols = set(next(iter(after.values()))) if after else set()
        for rid, old_row in before.items():
            for col, value in old_row.items():
                if col in new_cols and col not in RECOMPUTED.get(table, ()) and not (
                        table == "extraction_tasks" and col in ("status", "params")):
                    assert after[rid][col] == value, f"{table}[{rid}].{col}"
                    checked += 1
    assert checked > 400


def test_seed_modal_tasks_become_extraction_tasks(seed):
    old, new = seed
    assert "modal_tasks" not in user_tables(new)
    (task,) = new.execute("SELECT * FROM extraction_tasks").fetchall()
    (legacy,) = old.execute("SELECT task_type, params FROM modal_tasks").fetchall()
    assert task["status"] == "complete"  # the old backend wrote 'completed'
    params = json.loads(task["params"])
    assert params == {**json.loads(legacy[1]), "task_type": legacy[0]}
    assert (task["raw_clip_id"], task["project_id"], task["game_id"]) == (13, 2, 5)


def test_seed_identities_assigned(seed):
    _, new = seed
    for clip in new.execute("SELECT * FROM working_clips"):
        assert re.fullmatch(r"[0-9a-f]{32}", clip["identity"])
        assert clip["version"] == 1


def test_seed_aggregates_recomputed(seed):
    old, new = seed
    # The old backend left games 1-3 at zero although each has three clips.
    assert old.execute("SELECT clip_count FROM games WHERE id = 1").fetchone()[0] == 0
    for game in new.execute("SELECT * FROM games"):
        ratings = [r[0] for r in new.execute(
            "SELECT rating FROM raw_clips WHERE game_id = ?", (game["id"],))]
        by = {n: ratings.count(n) for n in range(1, 6)}
        assert game["clip_count"] == len(ratings) == 3
        assert (game["brilliant_count"], game["good_count"], game["interesting_count"],
                game["mistake_count"], game["blunder_count"]) == (by[5], by[4], by[3], by[2], by[1])
        assert game["aggregate_score"] == 10 * by[5] + 5 * by[4] + 2 * by[3] - 2 * by[2] - 5 * by[1]


def test_seed_schema_is_the_current_one(seed):
    _, new = seed
    assert new.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert new.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert schema_shape(new) == schema_shape(open_image(None))
    assert new.execute("PRAGMA foreign_key_check").fetchall() == []
    assert new.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_seed_autoincrement_counters_kept():
    conn = open_image(SEED_BYTES)
    seq = dict(conn.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
    assert seq == {"games": 8, "raw_clips": 24, "projects": 4, "working_clips": 1,
                   "extraction_tasks": 1}
    # Projects 3 and 4 were deleted by the old backend: their ids are never reused.
    cur = conn.execute("INSERT INTO projects (name) VALUES ('new')")
    assert cur.lastrowid == 5
    assert conn.execute("INSERT INTO games (name) VALUES ('g')").lastrowid == 9


def test_seed_cascades_are_real_afterwards():
    conn = open_image(SEED_BYTES)
    assert conn.execute("SELECT COUNT(*) FROM raw_clips WHERE game_id = 5").fetchone()[0] == 3
    conn.execute("DELETE FROM games WHERE id = 5")
    assert conn.execute("SELECT COUNT(*) FROM raw_clips WHERE game_id = 5").fetchone()[0] == 0
    # raw clip 13 (game 5) carried working clip 1 and extraction task 1: both cascade.
    assert conn.execute("SELECT COUNT(*) FROM working_clips").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM extraction_tasks").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM raw_clips").fetchone()[0] == 21
    # A project: deleting it takes its working clips; raw clips pointing at it are unlinked.
    conn2 = open_image(SEED_BYTES)
    conn2.execute("DELETE FROM projects WHERE id = 2")
    assert conn2.execute("SELECT COUNT(*) FROM working_clips").fetchone()[0] == 0
    unlinked = conn2.execute("SELECT auto_project_id FROM raw_clips WHERE id = 13").fetchone()
    assert unlinked[0] is None
    with pytest.raises(sqlite3.IntegrityError):
        conn2.execute("INSERT INTO raw_clips (game_id, end_time) VALUES (999, 1.0)")


def test_seed_migration_is_idempotent():
    conn = open_image(SEED_BYTES)
    dump = list(conn.iterdump())
    migrate(conn)
    assert list(conn.iterdump()) == dump
    image = snapshot(conn)
    again = open_image(image)
    assert list(again.iterdump()) == dump
    assert snapshot(again) == image  # re-opening a migrated image changes nothing


def test_seed_is_not_modified_on_disk():
    assert SEED_DB.read_bytes() == SEED_BYTES


# -- the API reads it ---------------------------------------------------------------------

def test_api_reads_the_seed_database(api):
    """The old backend's file, put as is at the user's key, is served by the API."""
    uid = "seeded"
    api.store.put_bytes(database_key(uid), SEED_BYTES)
    r = api.client.get("/api/settings", headers=api.as_user(uid))
    assert r.status_code == 200
    assert r.json()["projectFilters"]["statusFilter"] == "uncompleted"

    dbs = api.app.state.dbs
    counts = dbs.read(uid, lambda c: {t: c.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
                                      for t in ("games", "raw_clips", "projects",
                                                "working_clips", "extraction_tasks")})
    assert counts == {"games": 8, "raw_clips": 24, "projects": 2, "working_clips": 1,
                      "extraction_tasks": 1}
    names = dbs.read(uid, lambda c: [r["name"] for r in c.execute(
        "SELECT name FROM raw_clips WHERE id IN (16, 3) ORDER BY id")])
    assert names == ["Good Pass", "Edited Clip Name"]

    # The first write stores the migrated database; every row is still there.
    r = api.client.put("/api/settings", json={"projectFilters": {"aspectFilter": "9:16"}},
                       headers=api.as_user(uid))
    assert r.status_code == 200
    stored, _ = api.store.get_bytes(database_key(uid))
    conn = sqlite3.connect(":memory:")
    conn.deserialize(stored)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM raw_clips").fetchone()[0] == 24
    assert api.client.get("/api/settings", headers=api.as_user(uid)).json()[
        "projectFilters"]["aspectFilter"] == "9:16"


def test_api_reads_the_migrated_seed_database(api):
    uid = "migrated"
    api.store.put_bytes(database_key(uid), snapshot(open_image(SEED_BYTES)))
    assert api.client.get("/api/settings", headers=api.as_user(uid)).status_code == 200
    games = api.app.state.dbs.read(uid, lambda c: c.execute(
        "SELECT id, clip_count FROM games ORDER BY id").fetchall())
    assert [tuple(g) for g in games] == [(i, 3) for i in range(1, 9)]


