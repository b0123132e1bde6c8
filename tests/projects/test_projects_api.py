"""Projects #23–#30 and POST/GET/DELETE /api/projects, on both stores."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from lib.keys import Kind, database_key, object_key
from tests.conftest import SEED_DB
from tests.project_data import (
    add_game,
    add_raw_clip,
    add_to_project,
    add_working_video,
    clips,
    mark_exported,
    new_project,
    paused,
    read,
    store_clip_file,
    versions,
    write,
)

LIST_FIELDS = {
    "id": int, "name": str, "aspect_ratio": str, "clip_count": int, "clips_exported": int,
    "clips_in_progress": int, "clips_extracted": int, "clips_extracting": int,
    "clips_pending_extraction": int, "has_working_video": bool, "has_overlay_edits": bool,
    "has_final_video": bool, "is_auto_created": bool, "created_at": str, "game_dates": list,
    "clips": list,
}
CROP = '[{"frame":0,"x":1,"y":0,"width":9,"height":16,"origin":"permanent"}]'


def check_list_item(item: dict) -> None:
    for field, kind in LIST_FIELDS.items():
        assert isinstance(item[field], kind), (field, item.get(field))
    assert item["last_opened_at"] is None or isinstance(item["last_opened_at"], str)
    assert item["group_key"] is None or isinstance(item["group_key"], str)
    assert all(isinstance(d, str) for d in item["game_dates"])
    for clip in item["clips"]:
        assert isinstance(clip["name"], str) and isinstance(clip["tags"], list)
        assert isinstance(clip["is_extracted"], bool) and isinstance(clip["is_extracting"], bool)
        assert clip["rating"] is None or isinstance(clip["rating"], int)


def test_create_get_delete_as_the_e2e_tests_do(api):
    user = {"X-User-ID": "e2e_1700000000_abc123"}
    r = api.client.post("/api/projects", json={"name": "E2E Project", "aspect_ratio": "16:9"},
                        headers=user)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"id", "name", "aspect_ratio", "working_video_id", "final_video_id",
                         "created_at"}
    assert body["name"] == "E2E Project" and body["aspect_ratio"] == "16:9"
    assert body["working_video_id"] is None and body["final_video_id"] is None
    pid = body["id"]
    listed = api.client.get("/api/projects", headers=user).json()
    assert [p["id"] for p in listed] == [pid]
    check_list_item(listed[0])
    assert listed[0]["clip_count"] == 0 and listed[0]["clips"] == []
    assert api.client.get("/api/projects").json() == []  # user "a" sees nothing of it
    assert api.client.get(f"/api/projects/{pid}").status_code == 404
    assert api.client.delete(f"/api/projects/{pid}").status_code == 404
    detail = api.client.get(f"/api/projects/{pid}", headers=user).json()
    assert detail["working_video_url"] is None and detail["has_final_video"] is False
    assert api.client.get(f"/api/clips/projects/{pid}/clips", headers=user).json() == []
    assert api.client.delete(f"/api/projects/{pid}", headers=user).json()["success"] is True
    assert api.client.get(f"/api/projects/{pid}", headers=user).status_code == 404


def test_list_counts_each_clip_once_over_latest_versions(api):
    g_video = add_game(api, video_filename="game.mp4", opponent="Carlsbad")
    g_plain = add_game(api, opponent="Blaze", game_date=None, game_type="away")
    extracted = add_raw_clip(api, game_id=g_video, rating=5, tags=["Goal"], start=1, end=4,
                             filename=store_clip_file(api, b"x"))
    extracting = add_raw_clip(api, game_id=g_video, start=10, end=14, rating=4, tags=["Pass"])
    pending = add_raw_clip(api, game_id=g_plain, start=20, end=25, name="Named")
    pid = new_project(api, "Mixed")
    with paused(api):
        ids = [add_to_project(api, pid, raw) for raw in (extracted, extracting, pending)]
        api.client.put(f"/api/clips/projects/{pid}/clips/{ids[0]}", json={"crop_data": CROP})
        api.client.put(f"/api/clips/projects/{pid}/clips/{ids[1]}", json={"crop_data": CROP})
        mark_exported(api, pid)
        # a new version of clip 0 (edited after export) must not be counted twice
        r = api.client.put(f"/api/clips/projects/{pid}/clips/{ids[0]}",
                           json={"crop_data": CROP.replace('"x":1', '"x":3')}).json()
        assert r["new_version"] == 2
        assert len(versions(api, pid)) == 4
        [item] = api.client.get("/api/projects").json()
    check_list_item(item)
    assert item["clip_count"] == 3
    assert item["clips_exported"] == 2  # clip 0's latest version is a fresh, unexported one
    assert item["clips_in_progress"] == 1
    assert (item["clips_extracted"], item["clips_extracting"],
            item["clips_pending_extraction"]) == (1, 1, 1)
    assert item["game_dates"] == ["", "2025-12-06"]
    assert item["group_key"] is None  # clips from two games
    assert [c["name"] for c in item["clips"]] == ["Brilliant Goal", "Good Pass", "Named"]
    assert [c["is_extracted"] for c in item["clips"]] == [True, False, False]
    assert [c["is_extracting"] for c in item["clips"]] == [False, True, False]
    assert item["is_auto_created"] is False and item["has_working_video"] is False


def test_flags_auto_created_group_key_and_outputs(api):
    game = add_game(api, opponent="Carlsbad", game_date="2025-12-06", game_type="home")
    raw = add_raw_clip(api, game_id=game, rating=5, tags=["Goal"],
                       filename=store_clip_file(api, b"x"))

    def auto_project(conn):
        from lib.projects.projects import add_working_clip, create_project
        pid = create_project(conn, "Brilliant Goal", "9:16", is_auto_created=True)
        add_working_clip(conn, pid, raw_clip_id=raw)
        conn.execute("UPDATE raw_clips SET auto_project_id = ? WHERE id = ?", (pid, raw))
        return pid

    pid = write(api, auto_project)
    [item] = api.client.get("/api/projects").json()
    assert item["is_auto_created"] is True and item["group_key"] == "Vs Carlsbad Dec 6"
    assert item["game_dates"] == ["2025-12-06"] and item["aspect_ratio"] == "9:16"
    assert (item["has_working_video"], item["has_overlay_edits"], item["has_final_video"]) == (
        False, False, False)

    wv, wv_name = add_working_video(api, pid, b"working", overlay_version=2)
    fv = write(api, lambda c: c.execute(
        "INSERT INTO final_videos (project_id, filename, source_type) VALUES (?, ?, ?)",
        (pid, "final.mp4", "brilliant_clip")).lastrowid)
    write(api, lambda c: c.execute("UPDATE projects SET final_video_id = ? WHERE id = ?",
                                   (fv, pid)))
    [item] = api.client.get("/api/projects").json()
    assert (item["has_working_video"], item["has_overlay_edits"], item["has_final_video"]) == (
        True, True, True)
    detail = api.client.get(f"/api/projects/{pid}", params={"_t": 123}).json()
    assert detail["working_video_id"] == wv and detail["final_video_id"] == fv
    assert detail["working_video_url"] and detail["has_final_video"] is True
    assert detail["is_auto_created"] is True
    assert detail["clips"][0] | {} == {**detail["clips"][0], "name": "Brilliant Goal",
                                       "rating": 5, "tags": ["Goal"]}

    # delete: rows cascade, the project's videos go after the commit, the library clip stays
    api.store.put_bytes(object_key("a", Kind.FINAL_VIDEOS, "final.mp4"), b"f", "video/mp4")
    assert api.client.delete(f"/api/projects/{pid}").json() == {"success": True, "id": pid}
    assert api.store.head(object_key("a", Kind.WORKING_VIDEOS, wv_name)) is None
    assert api.store.head(object_key("a", Kind.FINAL_VIDEOS, "final.mp4")) is None
    left = read(api, lambda c: [c.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                                for t in ("working_clips", "working_videos", "final_videos")])
    assert left == [0, 0, 0]
    assert read(api, lambda c: c.execute(
        "SELECT auto_project_id FROM raw_clips WHERE id = ?", (raw,)).fetchone()[0]) is None
    assert api.client.get("/api/projects").json() == []


def test_from_clips_ids_win_and_keep_order(api):
    game = add_game(api, video_filename="game.mp4")
    a = add_raw_clip(api, game_id=game, start=1, end=2, rating=2)
    b = add_raw_clip(api, game_id=game, start=3, end=4, rating=5, tags=["Goal"])
    c = add_raw_clip(api, game_id=game, start=5, end=6, rating=4, tags=["Goal", "Assist"],
                     filename=store_clip_file(api, b"x"))
    with paused(api):
        r = api.client.post("/api/projects/from-clips", json={
            "name": "Picked", "aspect_ratio": "9:16", "game_ids": [game], "min_rating": 5,
            "tags": ["Goal"], "clip_ids": [c, a, b, a]})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["name"] == "Picked" and body["aspect_ratio"] == "9:16"
        assert body["clip_count"] == 3 and body["extractions_queued"] == 2
        pid = body["id"]
        listed = clips(api, pid)
        assert [x["raw_clip_id"] for x in listed] == [c, a, b]
        assert [x["is_extracting"] for x in listed] == [False, True, True]
    project = next(p for p in api.client.get("/api/projects").json() if p["id"] == pid)
    assert project["is_auto_created"] is False and project["clip_count"] == 3


def test_from_clips_filters(api):
    g1, g2 = add_game(api), add_game(api, opponent="Blaze")
    goal_assist = add_raw_clip(api, game_id=g1, start=1, end=2, rating=5,
                               tags=["Goals", "Assist"])
    goal = add_raw_clip(api, game_id=g1, start=3, end=4, rating=4, tags=["Goal"])
    add_raw_clip(api, game_id=g1, start=5, end=6, rating=3, tags=["Goal", "Assist"])
    add_raw_clip(api, game_id=g2, start=1, end=2, rating=5, tags=["Goal", "Assist"])

    def project_clips(**filters):
        r = api.client.post("/api/projects/from-clips", json={"name": "F", **filters})
        assert r.status_code == 200, r.text
        assert r.json()["aspect_ratio"] == "16:9"  # the default
        return [x["raw_clip_id"] for x in clips(api, r.json()["id"])]

    assert project_clips(game_ids=[g1], min_rating=4, tags=["Goal", "Assist"],
                         clip_ids=[]) == [goal_assist]
    assert project_clips(game_ids=[g1], min_rating=4, tags=["Goal"]) == [goal_assist, goal]
    assert len(project_clips(min_rating=0, tags=[])) == 4
    r = api.client.post("/api/projects/from-clips", json={"name": "F", "tags": ["Save"]})
    assert r.status_code == 400 and r.json()["detail"]


def test_patch_state(api):
    pid = new_project(api)
    r = api.client.patch(f"/api/projects/{pid}/state")
    assert r.status_code == 200 and r.json()["last_opened_at"] is None
    r = api.client.patch(f"/api/projects/{pid}/state?update_last_opened=true")
    opened = r.json()["last_opened_at"]
    assert opened
    [item] = api.client.get("/api/projects").json()
    assert item["last_opened_at"] == opened
    r = api.client.patch(f"/api/projects/{pid}/state?current_mode=overlay")
    assert r.json()["current_mode"] == "overlay"
    assert api.client.patch(f"/api/projects/{pid}/state?current_mode=nope").status_code == 422
    assert api.client.patch("/api/projects/999/state?update_last_opened=true").status_code == 404


def test_bad_input(api):
    c = api.client
    assert c.post("/api/projects", json={"name": "x", "aspect_ratio": "2:1"}).status_code == 422
    assert c.post("/api/projects", json={"name": 5}).status_code == 422
    assert c.post("/api/projects", json={"name": "  "}).status_code == 400
    r = c.post("/api/projects", content=b"{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["detail"]
    assert c.get("/api/projects/abc").status_code == 422
    for path in ("", "/outdated-clips"):
        assert c.get(f"/api/projects/999{path}").status_code == 404
    for path in ("/discard-uncommitted", "/refresh-outdated-clips"):
        assert c.post(f"/api/projects/999{path}").status_code == 404
    assert c.delete("/api/projects/999").status_code == 404
    r = c.post("/api/projects/from-clips", json={"name": "F", "clip_ids": [424242]})
    assert r.status_code == 404 and r.json()["detail"]
    assert c.post("/api/projects/from-clips", json={"name": "F", "clip_ids": "x"}).status_code \
        == 422
    assert c.post("/api/projects/from-clips", json={"clip_ids": []}).status_code == 422
    pid = new_project(api)
    assert c.post(f"/api/projects/{pid}/refresh-outdated-clips",
                  json={"working_clip_ids": ["a"]}).status_code == 422
    other = {"X-User-ID": "intruder"}
    assert c.get(f"/api/projects/{pid}", headers=other).status_code == 404
    assert c.post(f"/api/projects/{pid}/discard-uncommitted", headers=other).status_code == 404


@pytest.fixture
def seeded_user(local_api, tmp_path):
    """The real old-backend database, as user `seeded` (copied, never edited in place)."""
    for suffix in ("", "-wal", "-shm"):
        source = SEED_DB.with_name(SEED_DB.name + suffix)
        if source.exists():
            shutil.copy(source, tmp_path / (SEED_DB.name + suffix))
    conn = sqlite3.connect(tmp_path / SEED_DB.name)
    image = conn.serialize()
    conn.close()
    local_api.store.put_bytes(database_key("seeded"), image)
    return local_api


def test_old_backend_database(seeded_user):
    api, user = seeded_user, {"X-User-ID": "seeded"}
    listed = {p["id"]: p for p in api.client.get("/api/projects", headers=user).json()}
    assert set(listed) == {1, 2}
    for item in listed.values():
        check_list_item(item)
    great = listed[2]
    assert great["clip_count"] == 1 and great["clips_extracted"] == 1
    assert great["clips"][0]["name"] == "Great Control Pass"
    assert great["clips"][0]["tags"] == ["Possession", "Pass"]
    assert great["group_key"] == "Vs Test Opponent Nov 23"
    [clip] = api.client.get("/api/clips/projects/2/clips", headers=user).json()
    assert clip["raw_clip_id"] == 13 and clip["filename"] == "afc4be55f7df.mp4"
    assert clip["file_url"] and clip["crop_data"] is None
    r = api.client.put(f"/api/clips/projects/2/clips/{clip['id']}", headers=user,
                       json={"crop_data": CROP, "segments_data": None, "timing_data": None})
    assert r.json() == {"success": True, "refresh_required": False}
    assert api.client.get("/api/projects/2/outdated-clips", headers=user).json()[
        "has_outdated_clips"] is False
