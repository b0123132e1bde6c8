"""Raw clips #13-#16 through the ASGI app on both stores: shapes, the 5-star rule, boundaries,
cascades, extraction queueing, bad input."""

from __future__ import annotations

import pytest

from lib.keys import Kind, object_key
from tests.annotate_support import (
    create_game,
    execute,
    expected_counts,
    rows,
    stored_counts,
    upload_multipart,
)


def save(api, game_id: int, start: float, end: float, *, rating: int = 3, tags=(),
         name: str = "", notes: str = "", headers: dict | None = None):
    return api.client.post("/api/clips/raw/save", json={
        "game_id": game_id, "start_time": start, "end_time": end, "name": name,
        "rating": rating, "tags": list(tags), "notes": notes}, headers=headers or {})


def clip_row(api, clip_id: int) -> dict:
    return rows(api, "SELECT * FROM raw_clips WHERE id = ?", (clip_id,))[0]


def projects(api) -> list[dict]:
    return rows(api, "SELECT * FROM projects ORDER BY id")


def test_save_shape_and_idempotent_upsert(api):
    gid = create_game(api)["id"]
    r = save(api, gid, 61.2, 76.2, tags=["Goal", "Assist"], notes="far post")
    assert r.status_code == 200
    body = r.json()
    assert isinstance(body["raw_clip_id"], int)
    assert body["project_created"] is False and body["project_id"] is None
    again = save(api, gid, 61.2, 76.2, tags=["Goal", "Assist"], notes="far post").json()
    assert again["raw_clip_id"] == body["raw_clip_id"] and again["created"] is False
    row = clip_row(api, body["raw_clip_id"])
    assert row["boundaries_version"] == 1 and row["filename"] == ""
    moved = save(api, gid, 60.0, 76.2, tags=["Goal"]).json()
    assert moved["raw_clip_id"] == body["raw_clip_id"]
    row = clip_row(api, body["raw_clip_id"])
    assert (row["start_time"], row["boundaries_version"]) == (60.0, 2)
    assert row["boundaries_updated_at"] is not None
    assert stored_counts(api, gid) == expected_counts(api, gid)


def test_library_is_a_bare_array_with_fields(api):
    gid = create_game(api)["id"]
    save(api, gid, 1.0, 5.0, rating=4, tags=["Passing Range"])
    save(api, gid, 7.0, 9.0, rating=2, name="My own name", tags=["Tackle"])
    library = api.client.get("/api/clips/raw").json()
    assert isinstance(library, list) and len(library) == 2
    by_end = {c["end_time"]: c for c in library}
    first = by_end[5.0]
    for key, kind in {"id": int, "name": str, "filename": str, "rating": int, "tags": list,
                      "start_time": float, "end_time": float, "game_id": int}.items():
        assert isinstance(first[key], kind), key
    assert first["name"] == "Good Pass" and first["tags"] == ["Pass"]
    assert first["file_url"] is None
    assert by_end[9.0]["name"] == "My own name"


def test_five_star_on_off_on(api):
    gid = create_game(api)["id"]
    r = save(api, gid, 10.0, 25.0, rating=5, tags=["Goal"]).json()
    clip_id = r["raw_clip_id"]
    assert r["project_created"] is True and isinstance(r["project_id"], int)
    (project,) = projects(api)
    assert (project["name"], project["aspect_ratio"], project["is_auto_created"]) == (
        "Brilliant Goal", "9:16", 1)
    wc = rows(api, "SELECT * FROM working_clips WHERE project_id = ?", (project["id"],))
    assert [w["raw_clip_id"] for w in wc] == [clip_id]
    off = api.client.put(f"/api/clips/raw/{clip_id}", json={"rating": 4}).json()
    assert off["project_created"] is False and off["project_id"] is None
    assert projects(api) == [] and clip_row(api, clip_id)["auto_project_id"] is None
    on = api.client.put(f"/api/clips/raw/{clip_id}", json={"rating": 5}).json()
    assert on["project_created"] is True and on["project_id"] != project["id"]
    assert [p["id"] for p in projects(api)] == [on["project_id"]]
    assert stored_counts(api, gid)["brilliant_count"] == 1
    # Saving the same 5-star clip again creates nothing new.
    again = save(api, gid, 10.0, 25.0, rating=5, tags=["Goal"]).json()
    assert again["project_created"] is False and again["project_id"] == on["project_id"]
    assert len(projects(api)) == 1


def test_worked_on_auto_project_survives_rating_drop(api):
    gid = create_game(api)["id"]
    r = save(api, gid, 10.0, 25.0, rating=5, tags=["Goal"]).json()
    execute(api, "UPDATE working_clips SET crop_data = ? WHERE project_id = ?",
            ('[{"frame":0,"x":1,"y":0,"width":10,"height":20,"origin":"user"}]',
             r["project_id"]))
    api.client.put(f"/api/clips/raw/{r['raw_clip_id']}", json={"rating": 3})
    assert [p["id"] for p in projects(api)] == [r["project_id"]]
    back = api.client.put(f"/api/clips/raw/{r['raw_clip_id']}", json={"rating": 5}).json()
    assert back["project_created"] is False and back["project_id"] == r["project_id"]
    assert len(projects(api)) == 1


def test_partial_update_fields_and_boundaries(api):
    gid = create_game(api)["id"]
    clip_id = save(api, gid, 30.0, 45.0, rating=4, tags=["Pass"]).json()["raw_clip_id"]
    api.client.put(f"/api/clips/raw/{clip_id}", json={"notes": "first touch"})
    api.client.put(f"/api/clips/raw/{clip_id}", json={"tags": ["Dribbling", "Goals"]})
    row = clip_row(api, clip_id)
    assert (row["notes"], row["tags"], row["boundaries_version"]) == (
        "first touch", '["Dribble", "Goal"]', 1)
    api.client.put(f"/api/clips/raw/{clip_id}", json={"end_time": 50.5})
    row = clip_row(api, clip_id)
    assert (row["start_time"], row["end_time"], row["boundaries_version"]) == (30.0, 50.5, 2)
    api.client.put(f"/api/clips/raw/{clip_id}", json={"start_time": 35.5})
    assert clip_row(api, clip_id)["boundaries_version"] == 3
    api.client.put(f"/api/clips/raw/{clip_id}", json={"start_time": 35.5, "notes": "same"})
    assert clip_row(api, clip_id)["boundaries_version"] == 3
    # A name typed equal to the derived one is stored empty and keeps following the rating.
    api.client.put(f"/api/clips/raw/{clip_id}", json={"name": "Good Dribble and Goal"})
    assert clip_row(api, clip_id)["name"] == ""
    api.client.put(f"/api/clips/raw/{clip_id}", json={"rating": 2})
    (a,) = api.client.get(f"/api/games/{gid}").json()["annotations"]
    assert a["name"] == "Unfortunate Dribble and Goal"
    api.client.put(f"/api/clips/raw/{clip_id}", json={"name": "Keeper"})
    api.client.put(f"/api/clips/raw/{clip_id}", json={"rating": 1})
    assert api.client.get(f"/api/games/{gid}").json()["annotations"][0]["name"] == "Keeper"
    assert stored_counts(api, gid) == expected_counts(api, gid)


def test_end_time_clash_is_refused(api):
    gid = create_game(api)["id"]
    save(api, gid, 1.0, 5.0)
    other = save(api, gid, 2.0, 8.0).json()["raw_clip_id"]
    r = api.client.put(f"/api/clips/raw/{other}", json={"end_time": 5.0})
    assert r.status_code == 400 and "already ends" in r.json()["detail"]


def test_delete_cascades_and_removes_file(api):
    gid = create_game(api)["id"]
    five = save(api, gid, 10.0, 25.0, rating=5, tags=["Goal"]).json()
    kept = save(api, gid, 30.0, 40.0, rating=5, tags=["Pass"]).json()
    execute(api, "INSERT INTO working_videos (project_id, filename) VALUES (?, 'w.mp4')",
            (kept["project_id"],))
    name = "c" * 32 + ".mp4"
    api.store.put_bytes(object_key("a", Kind.RAW_CLIPS, name), b"clip bytes")
    execute(api, "UPDATE raw_clips SET filename = ? WHERE id = ?", (name, five["raw_clip_id"]))
    r = api.client.delete(f"/api/clips/raw/{five['raw_clip_id']}")
    assert r.status_code == 200 and r.json()["success"] is True
    assert api.store.head(object_key("a", Kind.RAW_CLIPS, name)) is None
    assert [p["id"] for p in projects(api)] == [kept["project_id"]]
    api.client.delete(f"/api/clips/raw/{kept['raw_clip_id']}")
    assert [p["id"] for p in projects(api)] == [kept["project_id"]]  # worked on: kept
    assert rows(api, "SELECT COUNT(*) AS n FROM working_clips")[0]["n"] == 0
    assert stored_counts(api, gid) == expected_counts(api, gid)
    assert stored_counts(api, gid)["clip_count"] == 0
    assert api.client.delete(f"/api/clips/raw/{five['raw_clip_id']}").status_code == 404


def test_five_star_with_video_queues_extraction_after_commit(api, small_video):
    gid = create_game(api)["id"]
    upload_multipart(api, gid, small_video)
    api.runner.pause()
    try:
        r = save(api, gid, 0.2, 1.5, rating=5, tags=["Goal"]).json()
        (task,) = rows(api, "SELECT * FROM extraction_tasks")
        assert task["status"] == "pending"
        assert (task["raw_clip_id"], task["project_id"], task["game_id"]) == (
            r["raw_clip_id"], r["project_id"], gid)
        state = api.client.get("/api/clips/raw").json()[0]
        assert state["filename"] == ""
    finally:
        api.runner.resume()
    api.runner.wait_idle()
    (task,) = rows(api, "SELECT * FROM extraction_tasks")
    assert task["status"] in ("complete", "error")  # dispatched and run by the worker


def test_unknown_and_foreign_ids_are_404(api):
    gid = create_game(api)["id"]
    clip_id = save(api, gid, 1.0, 2.0).json()["raw_clip_id"]
    other = api.as_user("e2e_someone")
    assert save(api, 999, 1.0, 2.0).status_code == 404
    assert save(api, gid, 1.0, 2.0, headers=other).status_code == 404
    assert api.client.put(f"/api/clips/raw/{clip_id}", json={"rating": 4},
                          headers=other).status_code == 404
    assert api.client.delete(f"/api/clips/raw/{clip_id}", headers=other).status_code == 404
    assert api.client.put("/api/clips/raw/999", json={"rating": 4}).status_code == 404
    assert api.client.delete("/api/clips/raw/999").status_code == 404
    assert api.client.get("/api/clips/raw", headers=other).json() == []
    assert clip_row(api, clip_id)["rating"] == 3


@pytest.mark.parametrize("body", [
    {"game_id": "one", "start_time": 1, "end_time": 2},
    {"game_id": 1, "start_time": "soon", "end_time": 2},
    {"game_id": 1, "start_time": 1, "end_time": 2, "tags": "Goal"},
    {"game_id": 1, "start_time": 1, "end_time": 2, "rating": 6},
    {"game_id": 1, "start_time": 1, "end_time": 2, "rating": 4.5},
    {"game_id": 1, "start_time": -1, "end_time": 2},
    {"start_time": 1, "end_time": 2},
])
def test_save_wrong_types_are_422(api, body):
    create_game(api)
    r = api.client.post("/api/clips/raw/save", json=body)
    assert r.status_code == 422 and isinstance(r.json()["detail"], str)


def test_malformed_json_is_400(api):
    gid = create_game(api)["id"]
    clip_id = save(api, gid, 1.0, 2.0).json()["raw_clip_id"]
    for method, path in [("POST", "/api/clips/raw/save"), ("PUT", f"/api/clips/raw/{clip_id}")]:
        r = api.client.request(method, path, content=b'{"rating": 5,',
                               headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["detail"] == "Request body is not valid JSON."
    for body in ({"rating": "five"}, {"tags": [1, {}]}, {"end_time": "later"}):
        assert api.client.put(f"/api/clips/raw/{clip_id}", json=body).status_code == 422
    assert api.client.put("/api/clips/raw/abc", json={}).status_code == 422


def test_concurrent_identical_saves_make_one_clip_and_one_project(api):
    from concurrent.futures import ThreadPoolExecutor

    gid = create_game(api)["id"]
    with ThreadPoolExecutor(max_workers=5) as pool:
        results = list(pool.map(lambda _: save(api, gid, 3.0, 9.0, rating=5, tags=["Goal"]).json(),
                                range(5)))
    assert len({r["raw_clip_id"] for r in results}) == 1
    assert sum(r["project_created"] for r in results) == 1
    assert len(projects(api)) == 1
    assert stored_counts(api, gid) == expected_counts(api, gid)


def test_out_of_range_numbers_are_422(api):
    gid = create_game(api)["id"]
    huge = 10**20
    assert api.client.get(f"/api/games/{huge}").status_code == 422
    assert api.client.delete(f"/api/clips/raw/{huge}").status_code == 422
    assert save(api, huge, 1.0, 2.0).status_code == 422
    for literal in (b"Infinity", b"NaN", b"-Infinity"):
        body = b'{"game_id": %d, "start_time": 1, "end_time": %s}' % (gid, literal)
        r = api.client.post("/api/clips/raw/save", content=body,
                            headers={"Content-Type": "application/json"})
        assert r.status_code in (400, 422), literal
    assert rows(api, "SELECT id FROM raw_clips") == []
