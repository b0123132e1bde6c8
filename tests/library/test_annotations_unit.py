"""lib.library.annotations on a real in-memory database: the rules without HTTP, and game aggregates
checked against a from-scratch recount after every change of a random edit sequence."""

from __future__ import annotations

import json
import random

import pytest

from lib.db.connection import open_image
from lib.errors import BadRequest, NotFound
from lib.keys import Kind
from lib.library import annotations as ann
from lib.library.games import create_game, record_video
from lib.projects.projects import add_working_clip, create_project

COUNT_COLUMNS = ("clip_count", "brilliant_count", "good_count", "interesting_count",
                 "mistake_count", "blunder_count", "aggregate_score")
WEIGHTS = {5: 10, 4: 5, 3: 2, 2: -2, 1: -5}


@pytest.fixture
def conn():
    c = open_image(None)
    yield c
    c.close()


def clip(start, end, rating=3, tags=(), name="", notes="") -> ann.ClipInput:
    return ann.ClipInput(start_time=start, end_time=end, rating=rating, tags=list(tags),
                         name=name, notes=notes)


def recount(conn, game_id) -> list[int]:
    ratings = [r[0] for r in conn.execute("SELECT rating FROM raw_clips WHERE game_id = ?",
                                          (game_id,))]
    by = [sum(1 for r in ratings if r == k) for k in (5, 4, 3, 2, 1)]
    return [len(ratings), *by, sum(WEIGHTS[r] for r in ratings)]


def stored(conn, game_id) -> list[int]:
    row = conn.execute(f"SELECT {', '.join(COUNT_COLUMNS)} FROM games WHERE id = ?",
                       (game_id,)).fetchone()
    return list(row)


def auto_projects_consistent(conn) -> None:
    """Every 5-star clip has its auto project; no unworked auto project outlives a drop."""
    for row in conn.execute("SELECT * FROM raw_clips"):
        if row["rating"] == 5:
            assert row["auto_project_id"] is not None
        else:
            assert row["auto_project_id"] is None
    orphans = conn.execute("SELECT COUNT(*) FROM projects WHERE is_auto_created = 1 AND id NOT IN"
                           " (SELECT auto_project_id FROM raw_clips WHERE auto_project_id"
                           " IS NOT NULL)").fetchone()[0]
    assert orphans == 0


@pytest.mark.parametrize("seed", range(6))
def test_random_edits_keep_counts_and_projects_right(conn, seed):
    rng = random.Random(seed)
    games = [create_game(conn, "a"), create_game(conn, "b")]
    for _ in range(120):
        game_id = rng.choice(games)
        ids = [r[0] for r in conn.execute("SELECT id FROM raw_clips WHERE game_id = ?",
                                          (game_id,))]
        op = rng.choice(["save", "save", "update", "delete", "sync"])
        end = float(rng.randint(3, 30))
        if op == "save":
            ann.save_clip(conn, game_id, clip(end - rng.choice([1, 2.5]), end,
                                              rng.randint(1, 5), rng.sample(["Goal", "Pass"], 1)))
        elif op == "update" and ids:
            changes = rng.choice([{"rating": rng.randint(1, 5)}, {"notes": "n"},
                                  {"tags": ["Dribble"]}, {"start_time": end / 2}])
            ann.update_clip(conn, rng.choice(ids), changes)
        elif op == "delete" and ids:
            ann.delete_clip(conn, rng.choice(ids))
        elif op == "sync":
            rows = conn.execute("SELECT * FROM raw_clips WHERE game_id = ?", (game_id,))
            keep = [clip(r["start_time"], r["end_time"], rng.randint(1, 5),
                         ann.clip_tags(r)) for r in rows if rng.random() < 0.7]
            ann.sync_annotations(conn, game_id, keep + [clip(end, end + 3, rng.randint(1, 5))])
        for g in games:
            assert stored(conn, g) == recount(conn, g)
        auto_projects_consistent(conn)


def test_save_upserts_and_bumps_on_start_only(conn):
    gid = create_game(conn, "g")
    saved = ann.save_clip(conn, gid, clip(1.0, 5.0))
    assert saved.created and saved.project_id is None
    again = ann.save_clip(conn, gid, clip(1.0, 5.0, rating=4, notes="x"))
    assert (again.raw_clip_id, again.created) == (saved.raw_clip_id, False)
    assert ann.get_clip(conn, saved.raw_clip_id)["boundaries_version"] == 1
    ann.save_clip(conn, gid, clip(2.0, 5.0, rating=4, notes="x"))
    assert ann.get_clip(conn, saved.raw_clip_id)["boundaries_version"] == 2
    with pytest.raises(NotFound):
        ann.save_clip(conn, 999, clip(1.0, 2.0))
    with pytest.raises(BadRequest):
        ann.save_clip(conn, gid, clip(-1.0, 2.0))


def test_update_rules(conn):
    gid = create_game(conn, "g")
    cid = ann.save_clip(conn, gid, clip(1.0, 5.0, 4, ["Goal"])).raw_clip_id
    ann.update_clip(conn, cid, {"name": "Good Goal"})
    assert ann.get_clip(conn, cid)["name"] == ""
    ann.update_clip(conn, cid, {"rating": 3, "name": "Good Goal"})  # the previous derived name
    assert ann.get_clip(conn, cid)["name"] == ""
    ann.update_clip(conn, cid, {"end_time": 6.0})
    row = ann.get_clip(conn, cid)
    assert (row["start_time"], row["end_time"], row["boundaries_version"]) == (1.0, 6.0, 2)
    with pytest.raises(ValueError):
        ann.update_clip(conn, cid, {"game_id": 2})
    with pytest.raises(NotFound):
        ann.update_clip(conn, 999, {"rating": 3})


def test_uploaded_clip_without_game_can_be_rated(conn):
    conn.execute("INSERT INTO raw_clips (filename, rating) VALUES ('up.mp4', 3)")
    cid = conn.execute("SELECT id FROM raw_clips").fetchone()[0]
    saved = ann.update_clip(conn, cid, {"rating": 5, "name": "Upload"})
    assert saved.project_created and saved.outcome.task_ids == []
    name = conn.execute("SELECT name FROM projects WHERE id = ?",
                        (saved.project_id,)).fetchone()[0]
    assert name == "Upload"


def test_auto_project_name_without_tags(conn):
    gid = create_game(conn, "g")
    saved = ann.save_clip(conn, gid, clip(1.0, 5.0, 5))
    name = conn.execute("SELECT name FROM projects WHERE id = ?",
                        (saved.project_id,)).fetchone()[0]
    assert name == "Brilliant Clip"


def test_extraction_queue_and_refresh(conn):
    gid = create_game(conn, "g")
    plain = ann.save_clip(conn, gid, clip(1.0, 5.0, 3)).raw_clip_id
    five = ann.save_clip(conn, gid, clip(2.0, 8.0, 5, ["Goal"]))
    assert five.outcome.task_ids == []  # no video yet
    custom = create_project(conn, "mine", "16:9")
    used = ann.save_clip(conn, gid, clip(3.0, 9.0, 2)).raw_clip_id
    add_working_clip(conn, custom, raw_clip_id=used)
    outcome = ann.attach_video(conn, gid, "d" * 32 + ".mp4", 100)
    tasks = conn.execute("SELECT raw_clip_id, project_id, params FROM extraction_tasks"
                         " ORDER BY id").fetchall()
    assert [(t[0], t[1]) for t in tasks] == [(five.raw_clip_id, five.project_id),
                                            (used, custom)]
    assert len(outcome.task_ids) == 2 and plain not in [t[0] for t in tasks]
    assert ann.queue_game_extractions(conn, gid) == []  # already queued
    # An extracted clip whose end moves is cut again; the queued one for a moved clip too.
    conn.execute("UPDATE extraction_tasks SET status = 'complete'")
    conn.execute("UPDATE raw_clips SET filename = 'e.mp4' WHERE id = ?", (five.raw_clip_id,))
    moved = ann.update_clip(conn, five.raw_clip_id, {"end_time": 8.5})
    (task_id,) = moved.outcome.task_ids
    params = json.loads(conn.execute("SELECT params FROM extraction_tasks WHERE id = ?",
                                     (task_id,)).fetchone()[0])
    assert (params["end_time"], params["boundaries_version"]) == (8.5, 2)
    version = "SELECT raw_clip_version FROM working_clips WHERE raw_clip_id = ?"
    assert conn.execute(version, (five.raw_clip_id,)).fetchone()[0] == 2  # follows the clip
    assert ann.update_clip(conn, plain, {"end_time": 5.5}).outcome.task_ids == []
    # Once a project using the clip has framing, the cut stays and the clip becomes outdated.
    conn.execute("UPDATE extraction_tasks SET status = 'complete'")
    conn.execute("UPDATE raw_clips SET filename = 'u.mp4' WHERE id = ?", (used,))
    conn.execute("UPDATE working_clips SET crop_data = '[{\"frame\":0}]' WHERE raw_clip_id = ?",
                 (used,))
    assert ann.update_clip(conn, used, {"start_time": 3.5}).outcome.task_ids == []
    assert conn.execute(version, (used,)).fetchone()[0] == 1
    assert ann.get_clip(conn, used)["boundaries_version"] == 2


def test_delete_clip_objects(conn):
    gid = create_game(conn, "g")
    record_video(conn, gid, "d" * 32 + ".mp4", 100)
    five = ann.save_clip(conn, gid, clip(2.0, 8.0, 5, ["Goal"]))
    conn.execute("UPDATE raw_clips SET filename = 'f.mp4' WHERE id = ?", (five.raw_clip_id,))
    outcome = ann.delete_clip(conn, five.raw_clip_id)
    assert outcome.objects == [(Kind.RAW_CLIPS, "f.mp4")]
    assert conn.execute("SELECT COUNT(*) FROM projects").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM extraction_tasks").fetchone()[0] == 0
    with pytest.raises(NotFound):
        ann.delete_clip(conn, five.raw_clip_id)


def test_after_commit_deletes_and_dispatches(local_store):
    spawned = []

    class Recorder:
        def spawn(self, job_name, payload):
            spawned.append((job_name, payload))
            return "call"

    key = "u/raw_clips/x.mp4"
    local_store.put_bytes(key, b"x")
    ann.after_commit(local_store, Recorder(), "u",
                     ann.Outcome(task_ids=[7], objects=[(Kind.RAW_CLIPS, "x.mp4"),
                                                       (Kind.GAMES, "missing.mp4")]))
    assert local_store.head(key) is None
    assert spawned == [("extract", {"user_id": "u", "task_id": 7})]
