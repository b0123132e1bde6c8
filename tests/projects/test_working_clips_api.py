"""Project clips #17–#22 (+ reorder, delete) through the ASGI app, on both stores."""

from __future__ import annotations

import json
import threading

import httpx

from lib.keys import Kind, object_key
from tests.project_data import (
    add_game,
    add_raw_clip,
    add_to_project,
    clips,
    fetch_url,
    mark_exported,
    new_project,
    paused,
    read,
    store_clip_file,
    versions,
    write,
)

CLIP_FIELDS = {
    "id": int, "raw_clip_id": int, "filename": str, "name": str, "notes": str,
    "tags": list, "rating": int, "is_extracted": bool, "is_extracting": bool,
}


def test_list_contract_fields_and_json_strings(api, small_video):
    game = add_game(api)
    data = small_video.read_bytes()
    with_file = add_raw_clip(api, game_id=game, rating=5, tags=["Goals", "Assist"],
                             filename=store_clip_file(api, data), notes="far post")
    without = add_raw_clip(api, game_id=game, start=10, end=14, rating=4, tags=["Pass"],
                           name="Great Pass")
    pid = new_project(api)
    first = add_to_project(api, pid, with_file)
    second = add_to_project(api, pid, without)
    segments = ('{"boundaries":[0,6.5,15],"segmentSpeeds":{"1":0.5},'
                '"trimRange":{"start":1.2,"end":15}}')
    r = api.client.put(f"/api/clips/projects/{pid}/clips/{first}", json={
        "crop_data": '[{"frame":0,"x":420,"y":0,"width":608,"height":1080,"origin":"permanent"}]',
        "segments_data": segments, "timing_data": '{"trimRange":{"start":1.2,"end":15}}'})
    assert r.json() == {"success": True, "refresh_required": False}

    items = clips(api, pid)
    assert [c["id"] for c in items] == [first, second]
    for item in items:
        for field, kind in CLIP_FIELDS.items():
            assert isinstance(item[field], kind), (field, item[field])
        for field in ("crop_data", "segments_data", "timing_data"):
            assert item[field] is None or isinstance(item[field], str)
        assert item["game_id"] == game
        assert isinstance(item["start_time"], float) and isinstance(item["end_time"], float)
        assert "extraction_status" in item
    a, b = items
    assert a["name"] == "Brilliant Goal and Assist" and a["tags"] == ["Goal", "Assist"]
    assert a["notes"] == "far post" and a["is_extracted"] is True
    assert json.loads(a["segments_data"])["trimRange"] == {"start": 1.2, "end": 15}
    assert json.loads(a["segments_data"])["segmentSpeeds"] == {"1": 0.5}
    assert json.loads(a["timing_data"]) == {"trimRange": {"start": 1.2, "end": 15}}
    assert a["file_url"]
    played = fetch_url(api, a["file_url"])
    assert played == data
    assert b["name"] == "Great Pass" and b["file_url"] is None and b["filename"] == ""
    assert b["crop_data"] is None and b["is_extracted"] is False
    assert b["is_extracting"] is False  # the game has no video yet: nothing to extract


def test_add_from_library_queues_extraction(api):
    game = add_game(api, video_filename="game.mp4")
    raw = add_raw_clip(api, game_id=game)
    pid = new_project(api)
    with paused(api):
        r = api.client.post(f"/api/clips/projects/{pid}/clips", data={"raw_clip_id": str(raw)})
        assert r.status_code == 200 and r.json()["extraction_queued"] is True
        [item] = clips(api, pid)
        assert item["is_extracted"] is False and item["is_extracting"] is True
        assert item["extraction_status"] == "pending"
        tasks = read(api, lambda c: c.execute(
            "SELECT raw_clip_id, project_id, status FROM extraction_tasks").fetchall())
        assert [tuple(t) for t in tasks] == [(raw, pid, "pending")]
        project = api.client.get("/api/projects").json()[0]
        assert project["clips_extracting"] == 1 and project["clips_extracted"] == 0
        assert project["clips"][0]["is_extracting"] is True
    api.runner.wait_idle()  # the task ran (the game video object does not exist: it fails)
    [item] = clips(api, pid)
    assert item["is_extracting"] is False and item["is_extracted"] is False
    # once the clip's file is set (what a finished extraction does), the project can open
    write(api, lambda c: c.execute("UPDATE raw_clips SET filename = 'done.mp4' WHERE id = ?",
                                   (raw,)))
    project = api.client.get("/api/projects").json()[0]
    assert project["clips_extracted"] == 1 and project["clips"][0]["is_extracted"] is True
    assert clips(api, pid)[0]["filename"] == "done.mp4"


def test_concurrent_adds_keep_distinct_identities_and_order(api):
    game = add_game(api)
    raws = [add_raw_clip(api, game_id=game, start=i, end=i + 1.0) for i in range(6)]
    pid = new_project(api)
    errors = []

    def add(raw):
        r = api.client.post(f"/api/clips/projects/{pid}/clips", data={"raw_clip_id": str(raw)})
        if r.status_code != 200:
            errors.append(r.text)

    threads = [threading.Thread(target=add, args=(raw,)) for raw in raws]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    rows = versions(api, pid)
    assert len({r["identity"] for r in rows}) == 6
    orders = read(api, lambda c: [r[0] for r in c.execute(
        "SELECT sort_order FROM working_clips WHERE project_id = ?", (pid,))])
    assert sorted(orders) == list(range(6))
    assert sorted(c["raw_clip_id"] for c in clips(api, pid)) == raws


def test_same_clip_twice_is_two_clips(api):
    game = add_game(api)
    raw = add_raw_clip(api, game_id=game)
    pid = new_project(api)
    a, b = add_to_project(api, pid, raw), add_to_project(api, pid, raw)
    assert [c["id"] for c in clips(api, pid)] == [a, b]
    assert len({r["identity"] for r in versions(api, pid)}) == 2


def test_upload_with_metadata(api, small_video):
    pid = new_project(api)
    data = small_video.read_bytes()
    r = api.client.post(
        f"/api/clips/projects/{pid}/clips/upload-with-metadata",
        files={"file": ("my clip.mp4", data, "video/mp4")},
        data={"name": "Brilliant Goal", "rating": "5", "tags": '["Goal"]', "notes": "top bin"})
    assert r.status_code == 200, r.text
    [item] = clips(api, pid)
    assert item["id"] == r.json()["id"]
    assert item["name"] == "Brilliant Goal" and item["tags"] == ["Goal"] and item["rating"] == 5
    assert item["notes"] == "top bin" and item["game_id"] is None
    assert item["is_extracted"] is True and item["file_url"]
    assert fetch_url(api, item["file_url"]) == data
    stored = read(api, lambda c: dict(c.execute(
        "SELECT name, filename, game_id FROM raw_clips WHERE id = ?",
        (item["raw_clip_id"],)).fetchone()))
    assert stored["name"] == ""  # the derived name is not frozen
    assert api.store.head(object_key("a", Kind.RAW_CLIPS, stored["filename"])).size == len(data)


def test_upload_bad_input_stores_nothing(api):
    pid = new_project(api)
    url = f"/api/clips/projects/{pid}/clips/upload-with-metadata"
    r = api.client.post(url, files={"file": ("c.mp4", b"x", "video/mp4")},
                        data={"tags": "[not json"})
    assert r.status_code == 400 and r.json()["detail"]
    r = api.client.post(url, files={"file": ("c.mp4", b"x", "video/mp4")},
                        data={"tags": '{"Goal": 1}'})
    assert r.status_code == 400
    r = api.client.post(url, files={"file": ("c.mp4", b"x", "video/mp4")},
                        data={"rating": "five"})
    assert r.status_code == 422
    r = api.client.post("/api/clips/projects/999/clips/upload-with-metadata",
                        files={"file": ("c.mp4", b"x", "video/mp4")})
    assert r.status_code == 404
    assert api.store.list("a/raw_clips/") == []


def test_file_redirect_or_range_and_stream(api, small_video):
    data = small_video.read_bytes()
    game = add_game(api)
    raw = add_raw_clip(api, game_id=game, filename=store_clip_file(api, data))
    pid = new_project(api)
    cid = add_to_project(api, pid, raw)
    url = f"/api/clips/projects/{pid}/clips/{cid}/file"
    r = api.client.get(url, headers={"Range": "bytes=0-99"}, follow_redirects=False)
    if api.store.kind == "s3":
        assert r.status_code == 302
        assert httpx.get(r.headers["location"], headers={"Range": "bytes=0-99"}).content \
            == data[:100]
    else:
        assert r.status_code == 206 and r.content == data[:100]
        assert r.headers["content-range"] == f"bytes 0-99/{len(data)}"
    s = api.client.get(url + "?stream=true", follow_redirects=False,
                       headers={"Range": "bytes=0-9"})
    assert s.status_code == 200 and s.content == data
    assert s.headers["content-type"] == "video/mp4"


def test_file_of_an_unextracted_clip_is_404(api):
    raw = add_raw_clip(api, game_id=add_game(api))
    pid = new_project(api)
    cid = add_to_project(api, pid, raw)
    r = api.client.get(f"/api/clips/projects/{pid}/clips/{cid}/file")
    assert r.status_code == 404 and r.json()["detail"]


def test_reorder_and_delete_all_versions(api):
    game = add_game(api)
    raws = [add_raw_clip(api, game_id=game, start=i, end=i + 2.0) for i in range(3)]
    pid = new_project(api)
    ids = [add_to_project(api, pid, raw) for raw in raws]
    body = {"crop_data": '[{"frame":0,"x":1,"y":0,"width":9,"height":16,"origin":"permanent"}]'}
    api.client.put(f"/api/clips/projects/{pid}/clips/{ids[0]}", json=body)
    mark_exported(api, pid)
    changed = {"crop_data": body["crop_data"].replace('"x":1', '"x":2')}
    r = api.client.put(f"/api/clips/projects/{pid}/clips/{ids[0]}", json=changed).json()
    assert r["refresh_required"] is True and r["new_version"] == 2
    new_first = r["new_clip_id"]

    r = api.client.put(f"/api/clips/projects/{pid}/clips/reorder",
                       json={"clip_ids": [ids[2], ids[0]]})
    assert r.status_code == 200 and r.json()["clip_count"] == 3
    assert [c["id"] for c in clips(api, pid)] == [ids[2], new_first, ids[1]]

    r = api.client.delete(f"/api/clips/projects/{pid}/clips/{ids[0]}")
    assert r.status_code == 200 and r.json()["deleted_versions"] == 2
    assert [c["id"] for c in clips(api, pid)] == [ids[2], ids[1]]
    assert api.client.delete(f"/api/clips/projects/{pid}/clips/{ids[0]}").status_code == 404


def test_bad_input(api):
    raw = add_raw_clip(api, game_id=add_game(api))
    pid = new_project(api)
    cid = add_to_project(api, pid, raw)
    base = f"/api/clips/projects/{pid}/clips"
    c = api.client
    assert c.get("/api/clips/projects/999/clips").status_code == 404
    assert c.post(base, data={"raw_clip_id": "999"}).status_code == 404
    assert c.post(base, data={"raw_clip_id": "abc"}).status_code == 422
    assert c.post(base, data={}).status_code == 422
    assert c.put(f"{base}/999", json={"crop_data": None}).status_code == 404
    assert c.put(f"{base}/{cid}", json={"crop_data": 5}).status_code == 422
    r = c.put(f"{base}/{cid}", json={"crop_data": "[{broken"})
    assert r.status_code == 400 and "crop_data" in r.json()["detail"]
    r = c.put(f"{base}/{cid}", json={"segments_data": "[1, 2]"})
    assert r.status_code == 400
    r = c.put(f"{base}/{cid}", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["detail"]
    assert c.put(f"{base}/reorder", json={"clip_ids": [999]}).status_code == 404
    assert c.put(f"{base}/reorder", json={"clip_ids": "x"}).status_code == 422

    # another user's project and clip do not exist for this user
    other = {"X-User-ID": "someone_else"}
    assert c.get(base, headers=other).status_code == 404
    assert c.put(f"{base}/{cid}", json={"crop_data": None}, headers=other).status_code == 404
    assert c.post(f"{base}/{cid}/actions", json={"action": "clear_trim_range"},
                  headers=other).status_code == 404
    assert c.get(f"{base}/{cid}/file", headers=other).status_code == 404


def test_action_errors_carry_success_false_and_error(api):
    raw = add_raw_clip(api, game_id=add_game(api))
    pid = new_project(api)
    cid = add_to_project(api, pid, raw)
    url = f"/api/clips/projects/{pid}/clips/{cid}/actions"
    c = api.client
    cases = [
        (c.post(url, json={"action": "explode"}), 400),
        (c.post(url, json={"action": "delete_crop_keyframe"}), 400),
        (c.post(url, json={"target": {}}), 422),
        (c.post(url, json={"action": "split_segment", "data": "soon"}), 422),
        (c.post(url, content=b"{oops", headers={"Content-Type": "application/json"}), 400),
        (c.post(f"/api/clips/projects/{pid}/clips/999/actions",
                json={"action": "clear_trim_range"}), 404),
        (c.post(f"/api/clips/projects/999/clips/{cid}/actions",
                json={"action": "clear_trim_range"}), 404),
    ]
    for response, status in cases:
        assert response.status_code == status, response.text
        body = response.json()
        assert body["success"] is False and body["error"] and body["detail"] == body["error"]
    assert versions(api, pid)[0]["crop_data"] is None


def test_actions_update_the_clip_in_place(api):
    raw = add_raw_clip(api, game_id=add_game(api))
    pid = new_project(api)
    cid = add_to_project(api, pid, raw)
    url = f"/api/clips/projects/{pid}/clips/{cid}/actions"
    kf = {"frame": 30, "x": 10, "y": 0, "width": 608, "height": 1080, "origin": "user"}
    assert api.client.post(url, json={"action": "add_crop_keyframe", "data": kf}).json() == {
        "success": True, "refresh_required": False}
    api.client.post(url, json={"action": "set_trim_range", "data": {"start": 1, "end": 3}})
    [item] = clips(api, pid)
    assert json.loads(item["crop_data"]) == [kf]
    assert json.loads(item["segments_data"])["trimRange"] == {"start": 1, "end": 3}
    assert json.loads(item["timing_data"]) == {"trimRange": {"start": 1, "end": 3}}
    assert len(versions(api, pid)) == 1


def test_legacy_upload_rows_are_served(api):
    """Rows of the old backend can point at an uploads/ object with no library clip."""
    pid = new_project(api)
    name = "legacyupload.mp4"
    api.store.put_bytes(object_key("a", Kind.UPLOADS, name), b"old upload", "video/mp4")
    cid = write(api, lambda c: c.execute(
        "INSERT INTO working_clips (project_id, identity, uploaded_filename) VALUES (?, ?, ?)",
        (pid, "legacy-identity", name)).lastrowid)
    [item] = clips(api, pid)
    assert item["is_extracted"] is True and item["filename"] == name and item["tags"] == []
    s = api.client.get(f"/api/clips/projects/{pid}/clips/{cid}/file?stream=true")
    assert s.content == b"old upload"
    api.client.delete(f"/api/clips/projects/{pid}/clips/{cid}")
    assert api.store.head(object_key("a", Kind.UPLOADS, name)) is None


def test_queued_extraction_reports_on_the_users_socket(local_api):
    """The task #18 queues runs through the runner and its outcome reaches /ws/extractions
    (here it fails: the game's video object was never uploaded)."""
    api = local_api
    raw = add_raw_clip(api, game_id=add_game(api, video_filename="missing.mp4"))
    pid = new_project(api)
    with api.client.websocket_connect("/ws/extractions") as ws:
        add_to_project(api, pid, raw)
        event = json.loads(ws.receive_text())
    assert event["type"] == "extraction_failed" and event["error"]
    assert (event["clip_id"], event["project_id"]) == (raw, pid)
    [item] = clips(api, pid)
    assert item["is_extracting"] is False and item["extraction_status"] == "error"
    assert api.client.get("/api/projects").json()[0]["clips_pending_extraction"] == 1
