"""Contract §5 flows (1) add a game with upload and (2) annotate, replayed as the editor sends
them: concurrent real-time saves, debounced full-state saves, an end-time-only edit, a delete."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.annotate_support import expected_counts, rows, stored_counts, upload_direct


def _region(start, end, rating=3, tags=(), name="", notes="") -> dict:
    return {"start_time": start, "end_time": end, "name": name, "tags": list(tags),
            "notes": notes, "rating": rating}


def test_add_game_and_annotate(api, small_video):
    c = api.client
    # (1) Add game: tournaments, create, list, upload (clips made meanwhile only go through #9).
    assert c.get("/api/games/tournaments").json() == {"tournaments": []}
    game = c.post("/api/games", data={
        "name": "wcfc-carlsbad-trimmed", "video_duration": "2.0", "video_width": "320",
        "video_height": "180", "video_size": str(small_video.stat().st_size),
        "opponent_name": "Carlsbad SC", "game_date": "2025-12-06", "game_type": "home"},
    ).json()["game"]
    gid = game["id"]
    assert game["name"] == "Vs Carlsbad SC Dec 6"
    assert [g["id"] for g in c.get("/api/games").json()["games"]] == [gid]
    regions = [_region(0.0, 0.4, 5, ["Goal"])]  # annotated while uploading
    assert c.put(f"/api/games/{gid}/annotations", json=regions).status_code == 200
    api.runner.pause()
    try:
        landed = upload_direct(api, gid, small_video)
        assert landed["pending_clips_extracted"] == 1

        # (2) Annotate: several clips created quickly, each saved at once (#14) while the
        # debounced full-state save (#9) follows with every region in creation order.
        new = [_region(0.5, 0.9, 3, ["Pass"]), _region(0.6, 1.1, 4, ["Dribble"]),
               _region(0.7, 1.3, 2, ["Tackle"], notes="late"), _region(0.9, 1.5, 1),
               _region(1.0, 1.7, 5, ["Assist", "Goals"]), _region(1.2, 1.9, 3, ["Save"])]
        regions += new

        def realtime(r):
            return c.post("/api/clips/raw/save", json={"game_id": gid, **r}).json()

        with ThreadPoolExecutor(max_workers=6) as pool:
            saved = list(pool.map(realtime, new))
        assert all(isinstance(s["raw_clip_id"], int) for s in saved)
        assert [s["project_created"] for s in saved] == [False, False, False, False, True, False]
        ids = [s["raw_clip_id"] for s in saved]
        with ThreadPoolExecutor(max_workers=2) as pool:  # two debounced #9s racing
            outs = list(pool.map(lambda _: c.put(f"/api/games/{gid}/annotations",
                                                 json=regions).json(), range(2)))
        assert all(o["clip_count"] == 7 for o in outs)
        loaded = c.get(f"/api/games/{gid}").json()["annotations"]
        assert sorted(a["id"] for a in loaded if a["end_time"] != 0.4) == sorted(ids)
        first_id = next(a["id"] for a in loaded if a["end_time"] == 0.4)

        # End-time edit: only end_time is sent; the UI also shifts start, which the next #9
        # rewrites (matched by the new end time) without another bump.
        pass_id = ids[0]
        assert c.put(f"/api/clips/raw/{pass_id}", json={"end_time": 1.05}).status_code == 200
        regions[1] = _region(0.65, 1.05, 3, ["Pass"])
        # A rating raised to 5 in the sidebar (#15), then the 4-star goes to 5 and back.
        c.put(f"/api/clips/raw/{ids[2]}", json={"rating": 5})
        regions[3] = _region(0.7, 1.3, 5, ["Tackle"], notes="late")
        c.put(f"/api/clips/raw/{ids[1]}", json={"rating": 5})
        c.put(f"/api/clips/raw/{ids[1]}", json={"rating": 4})
        # Delete: #16 for the clip, then #9 without it.
        assert c.delete(f"/api/clips/raw/{ids[3]}").status_code == 200
        del regions[4]
        out = c.put(f"/api/games/{gid}/annotations", json=regions).json()
        assert out["clip_count"] == 6 and out["deleted"] == 0
        assert c.post(f"/api/games/{gid}/finish-annotation").json()["success"] is True
        tasks = rows(api, "SELECT raw_clip_id, status FROM extraction_tasks ORDER BY id")
        assert {t["status"] for t in tasks} == {"pending"}
        # 5-star clips only: the 5->4 clip's queued extraction went with its project.
        assert sorted(t["raw_clip_id"] for t in tasks) == sorted([first_id, ids[4], ids[2]])
    finally:
        api.runner.resume()
    api.runner.wait_idle()

    got = rows(api, "SELECT id, start_time, end_time, rating, tags, name, notes,"
                    " boundaries_version, auto_project_id FROM raw_clips ORDER BY end_time")
    assert [(r["start_time"], r["end_time"], r["rating"], r["tags"], r["notes"],
             r["boundaries_version"]) for r in got] == [
        (0.0, 0.4, 5, '["Goal"]', "", 1),
        (0.65, 1.05, 3, '["Pass"]', "", 2),
        (0.6, 1.1, 4, '["Dribble"]', "", 1),
        (0.7, 1.3, 5, '["Tackle"]', "late", 1),
        (1.0, 1.7, 5, '["Assist", "Goal"]', "", 1),
        (1.2, 1.9, 3, '["Save"]', "", 1),
    ]
    assert all(r["name"] == "" for r in got)
    assert got[1]["id"] == pass_id
    projects = rows(api, "SELECT id, name, aspect_ratio, is_auto_created FROM projects")
    assert sorted(p["name"] for p in projects) == [
        "Brilliant Assist and Goal", "Brilliant Goal", "Brilliant Tackle"]
    assert {(p["aspect_ratio"], p["is_auto_created"]) for p in projects} == {("9:16", 1)}
    by_project = {r["auto_project_id"] for r in got if r["rating"] == 5}
    assert by_project == {p["id"] for p in projects}
    assert all(r["auto_project_id"] is None for r in got if r["rating"] < 5)
    assert stored_counts(api, gid) == expected_counts(api, gid) == {
        "clip_count": 6, "brilliant_count": 3, "good_count": 1, "interesting_count": 2,
        "mistake_count": 0, "blunder_count": 0, "aggregate_score": 39}
    statuses = {t["status"] for t in rows(api, "SELECT status FROM extraction_tasks")}
    assert statuses <= {"complete", "error"}  # every queued task was dispatched
    listed = c.get("/api/games").json()["games"][0]
    assert listed["clip_count"] == 6 and listed["video_url"]


def test_two_containers_saving_at_once(api):
    """Two app instances on one store (two web containers): concurrent real-time saves and a
    full-state save converge; every unit of work re-runs cleanly on a lost compare-and-swap."""
    from tests.conftest import Api

    other = Api(api.store, api.settings.data_dir)
    try:
        gid = api.client.post("/api/games", data={"name": "g"}).json()["game"]["id"]
        regions = [_region(i * 2.0, i * 2.0 + 1.5, 5 if i % 3 == 0 else 3, ["Pass"])
                   for i in range(12)]

        def realtime(pair):
            i, r = pair
            client = (api if i % 2 else other).client
            return client.post("/api/clips/raw/save", json={"game_id": gid, **r}).json()

        with ThreadPoolExecutor(max_workers=6) as pool:
            saved = list(pool.map(realtime, enumerate(regions)))
        assert all("raw_clip_id" in s for s in saved)
        out = other.client.put(f"/api/games/{gid}/annotations", json=regions).json()
        assert (out["clip_count"], out["created"], out["deleted"]) == (12, 0, 0)
        assert len(rows(api, "SELECT id FROM projects")) == 4
        assert stored_counts(api, gid) == expected_counts(api, gid)
    finally:
        other.close()
