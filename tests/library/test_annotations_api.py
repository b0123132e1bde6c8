"""#9 full-state annotation sync through the ASGI app on both stores."""

from __future__ import annotations

import json

import pytest

from tests.annotate_support import (
    create_game,
    expected_counts,
    rows,
    stored_counts,
    upload_direct,
    upload_multipart,
)


def region(start, end, *, name="", tags=(), notes="", rating=3) -> dict:
    return {"start_time": start, "end_time": end, "name": name, "tags": list(tags),
            "notes": notes, "rating": rating}


def sync(api, game_id: int, regions: list[dict], headers: dict | None = None):
    return api.client.put(f"/api/games/{game_id}/annotations", json=regions,
                          headers=headers or {})


def annotations(api, game_id: int) -> list[dict]:
    return api.client.get(f"/api/games/{game_id}").json()["annotations"]


def test_sync_upserts_keeps_ids_and_deletes_missing(api):
    gid = create_game(api)["id"]
    r = sync(api, gid, [region(75, 90, tags=["Goal"], rating=5), region(10, 20)])
    assert r.status_code == 200
    body = r.json()
    assert body["success"] is True and body["clip_count"] == 2
    assert (body["created"], body["updated"], body["deleted"]) == (2, 0, 0)
    ids = {a["end_time"]: a["id"] for a in annotations(api, gid)}
    body = sync(api, gid, [region(75, 90, tags=["Goal"], rating=5, notes="top bins"),
                           region(30, 40)]).json()
    assert (body["created"], body["updated"], body["deleted"]) == (1, 1, 1)
    now = {a["end_time"]: a for a in annotations(api, gid)}
    assert set(now) == {90.0, 40.0}
    assert now[90.0]["id"] == ids[90.0] and now[90.0]["notes"] == "top bins"
    assert rows(api, "SELECT filename FROM raw_clips") == [{"filename": ""}] * 2
    assert stored_counts(api, gid) == expected_counts(api, gid)


def test_start_rewrite_does_not_bump_boundaries(api):
    gid = create_game(api)["id"]
    sync(api, gid, [region(75, 90)])
    sync(api, gid, [region(70.5, 90)])
    (row,) = rows(api, "SELECT start_time, boundaries_version FROM raw_clips")
    assert row == {"start_time": 70.5, "boundaries_version": 1}


def test_unchanged_sync_writes_nothing(api):
    gid = create_game(api)["id"]
    sync(api, gid, [region(75, 90, tags=["Goal"], rating=5)])
    uploads = api.app.state.dbs.stats.uploads
    body = sync(api, gid, [region(75, 90, name="Brilliant Goal", tags=["Goal"], rating=5)]).json()
    assert (body["created"], body["updated"], body["deleted"]) == (0, 0, 0)
    assert api.app.state.dbs.stats.uploads == uploads


def test_derived_names_never_freeze(api):
    gid = create_game(api)["id"]
    sync(api, gid, [region(75, 90, tags=["Goal"], rating=4)])
    (a,) = annotations(api, gid)
    assert a["name"] == "Good Goal"
    # The client sends the derived name back as if typed, with a new rating.
    sync(api, gid, [region(75, 90, name=a["name"], tags=["Goal"], rating=5)])
    (a,) = annotations(api, gid)
    assert a["name"] == "Brilliant Goal"
    assert rows(api, "SELECT name FROM raw_clips")[0]["name"] == ""
    sync(api, gid, [region(75, 90, name=a["name"], tags=["Goal", "Assist"], rating=5)])
    assert annotations(api, gid)[0]["name"] == "Brilliant Goal and Assist"
    sync(api, gid, [region(75, 90, name="Worldie", tags=["Goal"], rating=5)])
    sync(api, gid, [region(75, 90, name="Worldie", tags=["Goal"], rating=3)])
    assert annotations(api, gid)[0]["name"] == "Worldie"


def test_exact_doubles_round_trip(api):
    gid = create_game(api)["id"]
    end = 0.1 + 0.2  # 0.30000000000000004
    sync(api, gid, [region(0.1, end), region(1 / 3, 2 / 3)])
    body = sync(api, gid, [region(0.1, end, rating=4), region(1 / 3, 2 / 3)]).json()
    assert (body["created"], body["updated"]) == (0, 1)
    raw = api.client.get(f"/api/games/{gid}").content
    ends = sorted(a["end_time"] for a in json.loads(raw)["annotations"])
    assert ends == [end, 2 / 3]


def test_repeated_end_time_last_wins(api):
    gid = create_game(api)["id"]
    body = sync(api, gid, [region(1, 5, rating=2), region(2, 5, rating=4)]).json()
    assert body["clip_count"] == 1
    (a,) = annotations(api, gid)
    assert (a["start_time"], a["rating"]) == (2.0, 4)


def test_defaults_and_long_tags(api):
    gid = create_game(api)["id"]
    r = sync(api, gid, [{"start_time": 1, "end_time": 5},
                        {"start_time": 6, "end_time": 9, "tags": ["Passing Range", "1v1 Attack"],
                         "name": None, "notes": None, "rating": None}])
    assert r.status_code == 200
    first, second = annotations(api, gid)
    assert (first["rating"], first["tags"], first["notes"], first["name"]) == (3, [], "", "")
    assert second["tags"] == ["Pass", "1v1 Attack"]
    assert second["name"] == "Interesting Pass and 1v1 Attack"


def test_five_star_during_upload_then_video_lands(api, small_video):
    """#9 is the only save while the video uploads: it creates the auto project; the upload
    then queues the clip's extraction (pending_clips_extracted) and dispatches it."""
    gid = create_game(api)["id"]
    body = sync(api, gid, [region(0.2, 1.6, tags=["Goal"], rating=5), region(0.5, 1.9)]).json()
    assert body["projects_created"] == 1
    (project,) = rows(api, "SELECT * FROM projects")
    assert project["is_auto_created"] == 1 and project["name"] == "Brilliant Goal"
    assert rows(api, "SELECT * FROM extraction_tasks") == []
    api.runner.pause()
    try:
        landed = upload_direct(api, gid, small_video)
        assert landed["pending_clips_extracted"] == 1
        (task,) = rows(api, "SELECT * FROM extraction_tasks")
        assert task["status"] == "pending" and task["project_id"] == project["id"]
        states = {c["end_time"]: c for c in api.client.get("/api/clips/raw").json()}
        assert states[1.6]["filename"] == ""
    finally:
        api.runner.resume()
    api.runner.wait_idle()
    assert rows(api, "SELECT status FROM extraction_tasks")[0]["status"] in ("complete", "error")
    # A later #14 for the same clip finds the project and creates no second one.
    r = api.client.post("/api/clips/raw/save", json={
        "game_id": gid, "start_time": 0.2, "end_time": 1.6, "name": "", "rating": 5,
        "tags": ["Goal"], "notes": ""}).json()
    assert r["project_created"] is False and r["project_id"] == project["id"]


def test_multipart_upload_also_queues_waiting_clips(local_api, small_video):
    gid = create_game(local_api)["id"]
    sync(local_api, gid, [region(0.2, 1.6, tags=["Goal"], rating=5)])
    local_api.runner.pause()
    try:
        assert upload_multipart(local_api, gid, small_video)["pending_clips_extracted"] == 1
    finally:
        local_api.runner.resume()


def test_rating_drop_in_sync_removes_auto_project(api):
    gid = create_game(api)["id"]
    sync(api, gid, [region(75, 90, tags=["Goal"], rating=5)])
    assert len(rows(api, "SELECT id FROM projects")) == 1
    sync(api, gid, [region(75, 90, tags=["Goal"], rating=4)])
    assert rows(api, "SELECT id FROM projects") == []
    sync(api, gid, [])
    assert rows(api, "SELECT id FROM raw_clips") == []
    assert stored_counts(api, gid) == expected_counts(api, gid)


def test_sync_bad_input(api):
    gid = create_game(api)["id"]
    assert sync(api, 999, [region(1, 2)]).status_code == 404
    r = api.client.put(f"/api/games/{gid}/annotations", content=b'[{"start_time": 1,',
                       headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    for bad in ({"start_time": 1, "end_time": 2}, [{"start_time": "x", "end_time": 2}],
                [{"start_time": 1, "end_time": 2, "tags": "Goal"}],
                [{"start_time": 1, "end_time": 2, "rating": 0}], [{"end_time": 2}]):
        r = api.client.put(f"/api/games/{gid}/annotations", json=bad)
        assert r.status_code == 422, bad
        assert isinstance(r.json()["detail"], str)
    assert annotations(api, gid) == []


@pytest.mark.parametrize("count", [40])
def test_many_clips_keep_counts(local_api, count):
    gid = create_game(local_api)["id"]
    regions = [region(i * 10.0, i * 10.0 + 7.5, rating=1 + i % 5, tags=["Pass"])
               for i in range(count)]
    sync(local_api, gid, regions)
    assert stored_counts(local_api, gid) == expected_counts(local_api, gid)
    assert stored_counts(local_api, gid)["clip_count"] == count
    assert len(rows(local_api, "SELECT id FROM projects")) == count // 5
