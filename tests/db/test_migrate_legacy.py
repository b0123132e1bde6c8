"""Migration of small hand-made databases in the old backend's format (its own DDL)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from lib.db.connection import CorruptDatabase, open_image, snapshot
from lib.db.schema import SCHEMA_VERSION, TABLE_ORDER
from lib.keys import database_key
from tests.migrate_helpers import SEED_BYTES, old_connection, schema_shape, user_tables

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


def test_version_1_database_gains_clip_starts():
    """Schema steps run in order from the stored version (v1 → v2 adds a column)."""
    conn = open_image(None)
    conn.execute("INSERT INTO projects (id, name) VALUES (1, 'p')")
    conn.execute("INSERT INTO working_videos (project_id, filename) VALUES (1, 'w.mp4')")
    conn.execute("ALTER TABLE working_videos DROP COLUMN clip_starts")
    conn.execute("PRAGMA user_version = 1")
    upgraded = open_image(snapshot(conn))
    assert upgraded.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    row = upgraded.execute("SELECT filename, clip_starts FROM working_videos").fetchone()
    assert tuple(row) == ("w.mp4", None)
    assert schema_shape(upgraded) == schema_shape(open_image(None))
