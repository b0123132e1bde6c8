"""Migration of databases written by the old backend (user_version 0), on the real seed
database and on small hand-made old-format databases built with the old backend's own DDL."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from lib.db.connection import CorruptDatabase, open_image, snapshot
from lib.db.migrate import migrate
from lib.db.schema import SCHEMA_VERSION, TABLE_ORDER
from lib.keys import database_key
from tests.conftest import SEED_DB

SEED_BYTES = SEED_DB.read_bytes()  # a copy in memory; the shared file is never touched
# Normalized on purpose (everything else must be carried over unchanged):
RECOMPUTED = {"games": {"clip_count", "brilliant_count", "good_count", "interesting_count",
                        "mistake_count", "blunder_count", "aggregate_score"}}
RENAMED = {"modal_tasks": "extraction_tasks"}


def old_connection(data: bytes) -> sqlite3.Connection:
    """The old database as the old backend saw it: opened from a file, no migration."""
    conn = sqlite3.connect(":memory:")
    image = bytearray(data)
    image[18] = image[19] = 1  # WAL header flag: read the same pages in rollback mode
    conn.deserialize(bytes(image))
    return conn


def rows(conn: sqlite3.Connection, table: str) -> dict:
    cur = conn.execute(f'SELECT * FROM "{table}"')
    names = [d[0] for d in cur.description]
    pk = "id"
    return {r[names.index(pk)]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}


def user_tables(conn: sqlite3.Connection) -> set[str]:
    found = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    return {r[0] for r in found} - {"sqlite_sequence"}


def schema_shape(conn: sqlite3.Connection) -> dict:
    """Columns, foreign keys and indexes of every table (independent of quoting)."""
    shape = {}
    for table in sorted(user_tables(conn)):
        shape[table] = (
            [tuple(r) for r in conn.execute(f'PRAGMA table_info("{table}")')],
            sorted(tuple(r) for r in conn.execute(f'PRAGMA foreign_key_list("{table}")')),
            sorted((r[1], r[2]) for r in conn.execute(f'PRAGMA index_list("{table}")')),
        )
    return shape


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


# -- hand-made old-format databases -------------------------------------------------------

OLD_DDL = [r[0] for r in old_connection(SEED_BYTES).execute(
    "SELECT sql FROM sqlite_master WHERE type='table' AND name != 'sqlite_sequence'")]


def old_db(*statements: tuple[str, tuple]) -> sqlite3.Connection:
    """An empty database with the old backend's exact DDL, plus the given rows."""
    conn = sqlite3.connect(":memory:")
    for ddl in OLD_DDL:
        conn.execute(ddl)
    for sql, params in statements:
        conn.execute(sql, params)
    conn.commit()
    return conn


def migrated(conn: sqlite3.Connection) -> sqlite3.Connection:
    return open_image(conn.serialize())


GAME = ("INSERT INTO games (id, name) VALUES (?, ?)", (1, "g"))
PROJECT = ("INSERT INTO projects (id, name, aspect_ratio) VALUES (?, ?, ?)", (1, "p", "9:16"))


def clip(cid: int, game_id: int | None, end: float, **extra) -> tuple[str, tuple]:
    cols = {"id": cid, "filename": "", "rating": 3, "tags": "[]", "game_id": game_id,
            "start_time": end - 1, "end_time": end, **extra}
    return (f"INSERT INTO raw_clips ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            tuple(cols.values()))


def working(wid: int, **extra) -> tuple[str, tuple]:
    cols = {"id": wid, "project_id": 1, **extra}
    return (f"INSERT INTO working_clips ({', '.join(cols)}) "
            f"VALUES ({', '.join('?' * len(cols))})", tuple(cols.values()))


def test_tuple_trim_range_becomes_an_object():
    conn = migrated(old_db(
        GAME, PROJECT, clip(1, 1, 5.0),
        working(1, raw_clip_id=1,
                segments_data=json.dumps({"trimRange": [1.5, 4.0], "segmentSpeeds": {0: 0.5},
                                          "boundaries": [0, 5]}),
                timing_data=json.dumps({"trimRange": [1, 2]})),
        working(2, raw_clip_id=1, version=2,
                segments_data=json.dumps({"trimRange": {"start": 0, "end": 3, "x": 1}})),
        working(3, raw_clip_id=1, version=3, segments_data=json.dumps({"trimRange": None})),
    ))
    seg = {r["id"]: json.loads(r["segments_data"]) for r in conn.execute(
        "SELECT id, segments_data FROM working_clips")}
    assert seg[1] == {"trimRange": {"start": 1.5, "end": 4.0}, "segmentSpeeds": {"0": 0.5},
                      "boundaries": [0, 5]}
    assert seg[2]["trimRange"] == {"start": 0, "end": 3}
    assert seg[3]["trimRange"] is None
    timing = conn.execute("SELECT timing_data FROM working_clips WHERE id = 1").fetchone()[0]
    assert json.loads(timing) == {"trimRange": {"start": 1, "end": 2}}
    # Three versions of one clip share an identity.
    assert len({r[0] for r in conn.execute("SELECT identity FROM working_clips")}) == 1


def test_camel_case_region_times_become_snake_case():
    regions = [{"id": "r1", "startTime": 1.0, "endTime": 3.0, "keyframes": []},
               {"id": "r2", "start_time": 4.0, "end_time": 6.0, "enabled": True}]
    conn = migrated(old_db(
        GAME, PROJECT, clip(1, 1, 5.0, default_highlight_regions=json.dumps(regions)),
        ("INSERT INTO working_videos (id, project_id, filename, highlights_data) "
         "VALUES (1, 1, 'w.mp4', ?)", (json.dumps(regions),)),
    ))
    expected = [{"id": "r1", "start_time": 1.0, "end_time": 3.0, "keyframes": []},
                {"id": "r2", "start_time": 4.0, "end_time": 6.0, "enabled": True}]
    got = conn.execute("SELECT default_highlight_regions FROM raw_clips").fetchone()[0]
    assert json.loads(got) == expected
    got = conn.execute("SELECT highlights_data FROM working_videos").fetchone()[0]
    assert json.loads(got) == expected


def test_duplicate_game_end_time_keeps_both_clips():
    conn = migrated(old_db(GAME, clip(1, 1, 9.0), clip(2, 1, 9.0), clip(3, 1, 9.0),
                           clip(4, None, 9.0), clip(5, None, 9.0)))
    ends = dict(conn.execute("SELECT id, end_time FROM raw_clips").fetchall())
    assert set(ends) == {1, 2, 3, 4, 5}
    assert len({ends[1], ends[2], ends[3]}) == 3
    assert all(abs(ends[i] - 9.0) < 1e-3 for i in ends)
    assert conn.execute("SELECT clip_count FROM games").fetchone()[0] == 3
    # The unique index holds from now on.
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO raw_clips (game_id, end_time) VALUES (1, ?)", (ends[1],))


def test_orphan_rows_are_repaired_as_cascades_would_have():
    conn = migrated(old_db(
        GAME, PROJECT,
        clip(1, 1, 1.0), clip(2, 99, 2.0),                      # clip 2: its game is gone
        working(4, project_id=77, raw_clip_id=None),            # its project is gone
        clip(3, 1, 3.0, auto_project_id=42),                    # dangling optional link
        working(1, raw_clip_id=1), working(2, project_id=77, raw_clip_id=1),
        working(3, raw_clip_id=2),                              # child of the orphan clip
        ("UPDATE projects SET working_video_id = 55 WHERE id = 1", ()),
        ("INSERT INTO before_after_tracks (id, final_video_id, source_path, start_frame,"
         " end_frame) VALUES (1, 404, '/tmp/u/raw_clips/x.mp4', 0, 10)", ()),
        ("INSERT INTO export_jobs (id, project_id, type, status, input_data) VALUES"
         " ('j1', 0, 'annotate', 'completed', '{}')", ()),
    ))
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    # A clip whose game is gone stays, as a library clip (game_id is optional).
    assert dict(conn.execute("SELECT id, game_id FROM raw_clips").fetchall()) == {
        1: 1, 2: None, 3: 1}
    assert conn.execute("SELECT auto_project_id FROM raw_clips WHERE id = 3").fetchone()[0] is None
    # Working clips need their project: those of project 77 go, as a cascade would do.
    assert [r[0] for r in conn.execute("SELECT id FROM working_clips ORDER BY id")] == [1, 3]
    assert conn.execute("SELECT working_video_id FROM projects").fetchone()[0] is None
    assert conn.execute("SELECT COUNT(*) FROM before_after_tracks").fetchone()[0] == 0
    job = conn.execute("SELECT project_id, status FROM export_jobs").fetchone()
    assert tuple(job) == (0, "complete")  # project_id 0 = annotate export, not a reference


def test_legacy_values_are_normalized():
    conn = migrated(old_db(
        ("INSERT INTO games (id, name, game_type) VALUES (1, 'g', 'friendly')", ()),
        ("INSERT INTO projects (id, name, aspect_ratio, current_mode) VALUES"
         " (1, 'p', '21:9', 'bogus')", ()),
        clip(1, 1, 1.0, rating=9, tags='["Goal", 7]', name=None, notes=None),
        ("INSERT INTO before_after_tracks (id, final_video_id, source_path, start_frame,"
         " end_frame) VALUES (1, 1, 'C:\\data\\u\\final_videos\\f.mp4', 0, 10)", ()),
        ("INSERT INTO final_videos (id, project_id, filename, source_type) VALUES"
         " (1, 1, 'f.mp4', 'weird')", ()),
        ("INSERT INTO modal_tasks (id, task_type, status, params) VALUES"
         " (1, 'clip_extraction', 'processing', '{}'), (2, 'x', 'failed', 'not json')", ()),
    ))
    assert conn.execute("SELECT game_type FROM games").fetchone()[0] is None
    assert tuple(conn.execute("SELECT aspect_ratio, current_mode FROM projects").fetchone()) == (
        "9:16", "framing")
    row = conn.execute("SELECT rating, tags, name, notes FROM raw_clips").fetchone()
    assert tuple(row) == (5, '["Goal", "7"]', "", "")
    assert conn.execute("SELECT source_type FROM final_videos").fetchone()[0] is None
    assert conn.execute("SELECT source_key FROM before_after_tracks").fetchone()[0] == (
        "u/final_videos/f.mp4")
    tasks = conn.execute("SELECT status, params FROM extraction_tasks ORDER BY id").fetchall()
    assert [(t[0], json.loads(t[1])) for t in tasks] == [
        ("running", {"task_type": "clip_extraction"}), ("error", {"task_type": "x"})]


def test_tables_the_old_backend_never_had_are_created_and_unknown_ones_kept():
    conn = old_db(GAME)
    conn.execute("DROP TABLE before_after_tracks")
    conn.execute("CREATE TABLE notes_of_a_later_version (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes_of_a_later_version VALUES (1, 'keep me')")
    conn.commit()
    new = migrated(conn)
    assert set(TABLE_ORDER) <= user_tables(new)
    assert new.execute("SELECT body FROM notes_of_a_later_version").fetchone()[0] == "keep me"


def test_wal_mode_file_image(tmp_path: Path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    for ddl in OLD_DDL:
        conn.execute(ddl)
    conn.execute(*GAME)
    conn.execute(*clip(1, 1, 4.0, rating=5))
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = path.read_bytes()
    conn.close()
    assert data[18] == data[19] == 2
    new = open_image(data)
    assert new.execute("SELECT brilliant_count FROM games").fetchone()[0] == 1
    assert new.execute("PRAGMA journal_mode").fetchone()[0] == "memory"
    assert open_image(snapshot(new)).execute("SELECT COUNT(*) FROM raw_clips").fetchone()[0] == 1


def test_empty_file_is_a_fresh_database():
    conn = open_image(b"")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert user_tables(conn) == set(TABLE_ORDER)
    assert schema_shape(conn) == schema_shape(open_image(None))


@pytest.mark.parametrize(
    "blob,message",
    [
        (b"this is not a database at all, just some text" * 50, "not a SQLite file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(5000), "not a SQLite file"),
        (SEED_BYTES[:19], "not a SQLite file"),  # not even a whole header
        (SEED_BYTES[:5000], "cannot"),  # a truncated SQLite file
        (SEED_BYTES[:100] + bytes(len(SEED_BYTES) - 100), "cannot"),  # pages zeroed
    ],
)
def test_non_sqlite_blobs_raise_a_clear_error(blob, message):
    with pytest.raises(CorruptDatabase) as err:
        open_image(blob)
    assert message in str(err.value)


def test_database_from_a_newer_version_is_refused():
    conn = open_image(None)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(CorruptDatabase) as err:
        open_image(snapshot(conn))
    assert "newer" in str(err.value)


def test_corrupt_stored_database_answers_a_clear_error_not_a_traceback(api):
    uid = "broken"
    api.store.put_bytes(database_key(uid), b"garbage" * 100)
    r = api.client.get("/api/settings", headers=api.as_user(uid))
    assert r.status_code == 503
    assert r.json() == {"detail": "The stored database is not a SQLite file."}
    r = api.client.put("/api/settings", json={}, headers=api.as_user(uid))
    assert r.status_code == 503
    assert api.store.get_bytes(database_key(uid))[0] == b"garbage" * 100  # never overwritten
