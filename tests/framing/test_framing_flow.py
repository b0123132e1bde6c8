"""The Framing flow of contract §5 (4), replayed as the editor sends it, plus versions,
discard, outdated clips and "Use Latest"."""

from __future__ import annotations

import json
import threading

from tests.project_data import (
    add_game,
    add_raw_clip,
    add_to_project,
    add_working_video,
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

CROP = [{"frame": 0, "x": 420, "y": 0, "width": 608, "height": 1080, "origin": "permanent"},
        {"frame": 450, "x": 420, "y": 0, "width": 608, "height": 1080, "origin": "permanent"}]
SEGMENTS = {"boundaries": [0, 6.5, 15], "segmentSpeeds": {"1": 0.5},
            "trimRange": {"start": 1.2, "end": 15}}
TIMING = {"trimRange": {"start": 1.2, "end": 15}}


def state(crop=CROP, segments=SEGMENTS, timing=TIMING, **dumps):
    return {"crop_data": json.dumps(crop, **dumps), "segments_data": json.dumps(segments, **dumps),
            "timing_data": json.dumps(timing, **dumps)}


def open_project(api, pid):
    """Step (4).1 as the client sends it."""
    for _ in range(2):
        assert api.client.get(f"/api/projects/{pid}", params={"_t": "1700000000000"}).status_code \
            == 200
    r = api.client.patch(f"/api/projects/{pid}/state", params={"update_last_opened": "true"})
    assert r.status_code == 200 and r.json()["last_opened_at"]
    return clips(api, pid)


def test_framing_flow_single_clip_export(api):
    game = add_game(api)
    raw = add_raw_clip(api, game_id=game, start=60.0, end=75.0, rating=5, tags=["Goal"],
                       filename=store_clip_file(api, b"clip"))
    pid = new_project(api)
    cid = add_to_project(api, pid, raw)
    [clip] = open_project(api, pid)
    assert clip["segments_data"] is None and clip["is_extracted"] is True
    url = f"/api/clips/projects/{pid}/clips/{cid}"

    # edits: one gesture each (the first segment spans the clip, as in the client) ...
    for action in ({"action": "split_segment", "data": {"time": 6.5}},
                   {"action": "set_segment_speed", "target": {"segment_index": 1},
                    "data": {"speed": 0.5}},
                   {"action": "set_trim_range", "data": {"start": 1.2, "end": 15}}):
        r = api.client.post(url + "/actions", json=action)
        assert r.json() == {"success": True, "refresh_required": False}
    [edited] = clips(api, pid)
    assert json.loads(edited["segments_data"]) == SEGMENTS
    assert json.loads(edited["timing_data"]) == TIMING
    # ... then the full save before the export: converges, in place
    assert api.client.put(url, json=state()).json() == {"success": True,
                                                        "refresh_required": False}
    assert api.client.put(url, json=state()).json()["refresh_required"] is False
    assert len(versions(api, pid)) == 1
    assert json.loads(clips(api, pid)[0]["crop_data"]) == CROP

    # export (the lead's issue) marks the clips exported and links a working video
    mark_exported(api, pid)
    wv_id, _ = add_working_video(api, pid, b"working video bytes")
    # handleProceedToOverlay re-sends the same state, formatted differently: no new version
    again = state(indent=2, sort_keys=True)
    assert api.client.put(url, json=again).json() == {"success": True, "refresh_required": False}
    tuple_trim = {**SEGMENTS, "trimRange": [1.2, 15], "segmentSpeeds": {"1": 0.5}}
    assert api.client.put(url, json=state(segments=tuple_trim)).json()["refresh_required"] is False
    assert len(versions(api, pid)) == 1

    project = api.client.get(f"/api/projects/{pid}").json()
    assert project["working_video_id"] == wv_id and project["working_video_url"]
    assert fetch_url(api, project["working_video_url"]) == b"working video bytes"
    assert api.client.get(f"/api/projects/{pid}/outdated-clips").json() == {
        "project_id": pid, "has_outdated_clips": False, "outdated_clips": []}

    # gestures fired after the export at the OLD clip id converge on ONE new version
    kf = {"frame": 200, "x": 300, "y": 0, "width": 608, "height": 1080, "origin": "user"}
    responses = [api.client.post(url + "/actions", json=a).json() for a in (
        {"action": "add_crop_keyframe", "data": kf},
        {"action": "split_segment", "data": {"time": 10.0}},
        {"action": "set_segment_speed", "target": {"segment_index": 2}, "data": {"speed": 0.5}},
        {"action": "set_trim_range", "data": {"start": 2.0, "end": 14.0}},
    )]
    rows = versions(api, pid)
    assert [r["version"] for r in rows] == [1, 2]
    new_id = rows[1]["id"]
    assert all(r == {"success": True, "refresh_required": True, "new_clip_id": new_id,
                     "new_version": 2} for r in responses)
    assert rows[1]["exported_at"] is None and rows[0]["exported_at"] is not None
    assert json.loads(rows[0]["crop_data"]) == CROP  # the exported framing is untouched
    [current] = clips(api, pid)
    assert current["id"] == new_id and current["raw_clip_id"] == raw
    assert [k["frame"] for k in json.loads(current["crop_data"])] == [0, 200, 450]
    seg = json.loads(current["segments_data"])
    assert seg["boundaries"] == [0, 6.5, 10.0, 15]
    assert seg["segmentSpeeds"] == {"1": 0.5, "2": 0.5}
    assert seg["trimRange"] == {"start": 2.0, "end": 14.0}
    assert json.loads(current["timing_data"]) == {"trimRange": {"start": 2.0, "end": 14.0}}

    # the clip switch re-sends the full state to the old id: no third version, new id adopted
    r = api.client.put(url, json={k: current[k] for k in
                                  ("crop_data", "segments_data", "timing_data")}).json()
    assert r == {"success": True, "refresh_required": True, "new_clip_id": new_id,
                 "new_version": 2}
    assert len(versions(api, pid)) == 2
    listed = api.client.get("/api/projects").json()[0]
    assert listed["clip_count"] == 1 and listed["clips_exported"] == 0
    assert listed["clips_in_progress"] == 1

    # Discard (leaving Framing): back to the exported framing
    r = api.client.post(f"/api/projects/{pid}/discard-uncommitted")
    assert r.json() == {"success": True, "discarded_count": 1}
    [restored] = clips(api, pid)
    assert restored["id"] == cid and json.loads(restored["crop_data"]) == CROP
    assert api.client.post(f"/api/projects/{pid}/discard-uncommitted").json()[
        "discarded_count"] == 0


def test_a_real_change_on_an_exported_clip_makes_one_version_per_export(api):
    raw = add_raw_clip(api, game_id=add_game(api))
    pid = new_project(api)
    cid = add_to_project(api, pid, raw)
    url = f"/api/clips/projects/{pid}/clips/{cid}"
    api.client.put(url, json=state())
    mark_exported(api, pid)
    moved = [dict(CROP[0], x=500), CROP[1]]
    r = api.client.put(url, json=state(crop=moved)).json()
    assert r["refresh_required"] is True and r["new_version"] == 2
    v2 = r["new_clip_id"]
    # the client adopts new_clip_id; later saves update v2 in place
    assert api.client.put(f"/api/clips/projects/{pid}/clips/{v2}",
                          json=state(crop=CROP)).json()["refresh_required"] is False
    mark_exported(api, pid)
    r = api.client.put(f"/api/clips/projects/{pid}/clips/{v2}", json=state(crop=moved)).json()
    assert r["new_version"] == 3
    assert [row["version"] for row in versions(api, pid)] == [1, 2, 3]
    assert api.client.post(f"/api/projects/{pid}/discard-uncommitted").json()[
        "discarded_count"] == 1
    assert clips(api, pid)[0]["id"] == v2


def test_identity_never_collides_for_equal_or_missing_end_times(api):
    g1, g2 = add_game(api), add_game(api, opponent="Blaze")
    same_end = [add_raw_clip(api, game_id=g, start=3.0, end=9.0) for g in (g1, g2)]
    no_end = [add_raw_clip(api, game_id=None, start=None, end=None) for _ in range(2)]
    pid = new_project(api)
    ids = [add_to_project(api, pid, raw) for raw in same_end + no_end]
    assert len({r["identity"] for r in versions(api, pid)}) == 4
    for cid in ids:
        api.client.put(f"/api/clips/projects/{pid}/clips/{cid}", json=state())
    mark_exported(api, pid)
    new_ids = []
    for n, cid in enumerate(ids):
        crop = [dict(CROP[0], x=n), CROP[1]]
        r = api.client.put(f"/api/clips/projects/{pid}/clips/{cid}", json=state(crop=crop)).json()
        assert r["new_version"] == 2
        new_ids.append(r["new_clip_id"])
    listed = clips(api, pid)
    assert [c["id"] for c in listed] == new_ids
    assert [json.loads(c["crop_data"])[0]["x"] for c in listed] == [0, 1, 2, 3]
    summary = api.client.get(f"/api/projects/{pid}").json()
    assert summary["clip_count"] == 4 and len(summary["clips"]) == 4


def change_boundaries(api, raw_id, start, end):
    """What PUT /api/clips/raw/{id} does (another helper's endpoint)."""
    write(api, lambda c: c.execute(
        "UPDATE raw_clips SET start_time = ?, end_time = ?,"
        " boundaries_version = boundaries_version + 1,"
        " boundaries_updated_at = CURRENT_TIMESTAMP WHERE id = ?", (start, end, raw_id)))


def test_outdated_clips_and_use_latest(api):
    game = add_game(api, video_filename="game.mp4")
    raw = add_raw_clip(api, game_id=game, start=60.0, end=75.0, rating=5, tags=["Goal"],
                       filename=store_clip_file(api, b"old range"))
    other = add_raw_clip(api, game_id=game, start=100.0, end=110.0,
                         filename=store_clip_file(api, b"other"))
    pid = new_project(api)
    cid = add_to_project(api, pid, raw)
    keep = add_to_project(api, pid, other)
    api.client.put(f"/api/clips/projects/{pid}/clips/{cid}", json=state())
    mark_exported(api, pid)
    add_working_video(api, pid)
    change_boundaries(api, raw, 58.0, 75.0)

    body = api.client.get(f"/api/projects/{pid}/outdated-clips").json()
    assert body["has_outdated_clips"] is True
    assert body["outdated_clips"] == [{
        "working_clip_id": cid, "raw_clip_id": raw, "clip_name": "Brilliant Goal",
        "raw_clip_version": 1, "boundaries_version": 2, "start_time": 58.0, "end_time": 75.0}]

    with paused(api):
        r = api.client.post(f"/api/projects/{pid}/refresh-outdated-clips",
                            json={"working_clip_ids": [cid, keep]})
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["success"] is True and out["refreshed_count"] == 1
        assert out["extractions_queued"] == 1
        refreshed = out["clips"][0]
        assert refreshed["refreshed"] is True and refreshed["new_version"] == 2
        assert out["clips"][1]["refreshed"] is False
        first = clips(api, pid)[0]
        assert first["id"] == refreshed["new_clip_id"]
        assert first["raw_clip_version"] == 2 and first["crop_data"] is None
        assert first["is_extracting"] is True and first["is_extracted"] is True
        task = read(api, lambda c: dict(c.execute(
            "SELECT params, status FROM extraction_tasks").fetchone()))
        params = json.loads(task["params"])
        assert task["status"] == "pending"
        assert (params["start_time"], params["end_time"], params["boundaries_version"]) == (
            58.0, 75.0, 2)
    assert api.client.get(f"/api/projects/{pid}/outdated-clips").json()[
        "has_outdated_clips"] is False
    assert api.client.post(f"/api/projects/{pid}/refresh-outdated-clips",
                           json={"working_clip_ids": [999]}).status_code == 404


def test_outdated_clip_not_exported_refreshes_in_place(api):
    raw = add_raw_clip(api, game_id=add_game(api), start=1.0, end=4.0)
    pid = new_project(api)
    cid = add_to_project(api, pid, raw)
    api.client.put(f"/api/clips/projects/{pid}/clips/{cid}", json=state())
    change_boundaries(api, raw, 1.0, 6.0)
    [item] = api.client.get(f"/api/projects/{pid}/outdated-clips").json()["outdated_clips"]
    assert item["working_clip_id"] == cid
    r = api.client.post(f"/api/projects/{pid}/refresh-outdated-clips",
                        json={"working_clip_ids": [cid]}).json()
    assert r["clips"][0]["new_clip_id"] == cid and r["extractions_queued"] == 0  # no game video
    assert [v["raw_clip_version"] for v in versions(api, pid)] == [2]


def test_concurrent_actions_from_two_containers_make_one_version(s3_store, tmp_path):
    """Two web containers on one bucket (compare-and-swap retries re-run the unit of work):
    gestures racing at the exported clip's old id still converge on ONE new version."""
    from tests.conftest import Api

    first, second = Api(s3_store, tmp_path / "one"), Api(s3_store, tmp_path / "two")
    try:
        raw = add_raw_clip(first, game_id=add_game(first), start=0.0, end=15.0)
        pid = new_project(first)
        cid = add_to_project(first, pid, raw)
        first.client.put(f"/api/clips/projects/{pid}/clips/{cid}", json=state())
        mark_exported(first, pid)
        url = f"/api/clips/projects/{pid}/clips/{cid}/actions"
        frames = list(range(10, 170, 20))
        results = []

        def send(api, frame):
            kf = {"frame": frame, "x": frame, "y": 0, "width": 608, "height": 1080}
            results.append(api.client.post(url, json={"action": "add_crop_keyframe",
                                                      "data": kf}).json())

        threads = [threading.Thread(target=send, args=((first, second)[i % 2], f))
                   for i, f in enumerate(frames)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rows = versions(second, pid)
        assert [r["version"] for r in rows] == [1, 2]
        assert {r.get("new_clip_id") for r in results} == {rows[1]["id"]}
        saved = [k["frame"] for k in json.loads(rows[1]["crop_data"])]
        assert saved == [0, *frames, 450]
    finally:
        first.close()
        second.close()
