"""The whole editor pipeline through the API, with the local runner, on a generated game
video, in the order the client sends its calls (contract §5 flows 1–6)."""

from __future__ import annotations

import json
import threading
import time

import pytest

from lib.media.probe import probe
from tests.videos import make_video


def _wait(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def _export_with_ws(client, export_id: str, post) -> tuple[dict, list[dict]]:
    """Connect the WS first (as the client does), run the blocking POST, collect frames."""
    frames: list[dict] = []
    result: dict = {}
    with client.websocket_connect(f"/ws/export/{export_id}") as ws:
        worker = threading.Thread(target=lambda: result.update(response=post()))
        worker.start()
        while True:
            frame = json.loads(ws.receive_text())
            frames.append(frame)
            if frame.get("status") in ("complete", "error"):
                break
        worker.join(timeout=300)
    return result["response"], frames


@pytest.mark.timeout(600)
def test_editor_pipeline(local_api, tmp_path):
    client = local_api.client  # the editor never sends X-User-ID: default user "a"
    game_file = make_video(tmp_path / "wcfc-carlsbad.mp4", seconds=8, fps=30, size=(640, 360))

    # (1) Add a game, upload its video (the direct-upload path), confirm.
    assert client.get("/api/games/tournaments").json()["tournaments"] == []
    game = client.post("/api/games", data={
        "name": "wcfc-carlsbad", "video_duration": "8.0", "video_width": "640",
        "video_height": "360", "video_size": str(game_file.stat().st_size),
        "opponent_name": "Carlsbad SC", "game_date": "2025-12-06", "game_type": "home",
    }).json()["game"]
    assert game["name"] == "Vs Carlsbad SC Dec 6"
    up = client.get(f"/api/games/{game['id']}/upload-url",
                    params={"filename": "wcfc-carlsbad.mp4"}).json()
    assert up["r2_enabled"] and up["upload_url"]
    put = client.put(up["upload_url"], content=game_file.read_bytes(),
                     headers={"Content-Type": "video/mp4"})
    assert put.status_code in (200, 201, 204)
    confirmed = client.post(f"/api/games/{game['id']}/confirm-video", data={
        "video_filename": up["video_filename"], "video_size": str(game_file.stat().st_size)})
    assert confirmed.status_code == 200, confirmed.text

    # (2) Annotate: real-time saves, then the debounced full-state save.
    saves = [
        {"game_id": game["id"], "start_time": 0.5, "end_time": 3.5, "name": "",
         "rating": 5, "tags": ["Goal"], "notes": "far post"},
        {"game_id": game["id"], "start_time": 4.0, "end_time": 7.0, "name": "",
         "rating": 4, "tags": ["Pass"], "notes": ""},
    ]
    saved = [client.post("/api/clips/raw/save", json=s).json() for s in saves]
    assert saved[0]["project_created"] is True  # the 5★ clip made an auto project
    sync = client.put(f"/api/games/{game['id']}/annotations", json=[
        {k: s[k] for k in ("start_time", "end_time", "name", "tags", "notes", "rating")}
        for s in saves])
    assert sync.status_code == 200
    annotations = client.get(f"/api/games/{game['id']}").json()["annotations"]
    assert [a["raw_clip_id"] for a in annotations] == [s["raw_clip_id"] for s in saved]

    # (3) A project from both clips; their extraction runs and /ws/extractions tells us.
    with client.websocket_connect("/ws/extractions") as events:
        r = client.post("/api/projects/from-clips", json={
            "name": "Carlsbad highlights", "aspect_ratio": "9:16", "game_ids": [game["id"]],
            "min_rating": 0, "tags": [], "clip_ids": [s["raw_clip_id"] for s in saved]})
        assert r.status_code in (200, 201), r.text
        seen = set()
        while len(seen) < 2:
            event = json.loads(events.receive_text())
            assert event["type"] == "extraction_complete", event
            seen.add(event["clip_id"])
    project = next(p for p in client.get("/api/projects").json()
                   if p["name"] == "Carlsbad highlights")
    assert project["clips_extracted"] == 2

    # (4) Framing: open, gestures, save, export (single clip: the first one only).
    pid = project["id"]
    assert client.patch(f"/api/projects/{pid}/state",
                        params={"update_last_opened": "true"}).status_code == 200
    clips = client.get(f"/api/clips/projects/{pid}/clips").json()
    assert all(c["is_extracted"] for c in clips)
    first = clips[0]
    crop = [{"frame": 0, "x": 200, "y": 0, "width": 202, "height": 360, "origin": "permanent"},
            {"frame": 90, "x": 300, "y": 0, "width": 202, "height": 360, "origin": "permanent"}]
    segments = {"boundaries": [0, 3.0], "segmentSpeeds": {}, "trimRange": None}
    body = {"crop_data": json.dumps(crop), "segments_data": json.dumps(segments),
            "timing_data": json.dumps({"trimRange": None})}
    assert client.put(f"/api/clips/projects/{pid}/clips/{first['id']}", json=body).json()[
        "refresh_required"] is False
    action = {"action": "add_crop_keyframe",
              "data": {"frame": 45, "x": 250, "y": 0, "width": 202, "height": 360,
                       "origin": "user"}}
    assert client.post(f"/api/clips/projects/{pid}/clips/{first['id']}/actions",
                       json=action).json()["success"] is True
    # Keep one clip: the editor decides single vs multi-clip from its local list.
    second = clips[1]
    assert client.delete(f"/api/clips/projects/{pid}/clips/{second['id']}").status_code == 200

    assert client.get("/api/health").status_code == 200
    response, frames = _export_with_ws(client, "export_1_abc", lambda: client.post(
        "/api/export/render", json={"project_id": pid, "export_id": "export_1_abc",
                                    "export_mode": "fast", "target_fps": 30,
                                    "include_audio": True}))
    assert response.status_code == 200, response.text
    working_video_id = response.json()["working_video_id"]
    progress = [f["progress"] for f in frames]
    assert progress == sorted(progress), "progress must be monotonic"
    assert frames[-1]["status"] == "complete" and frames[-1]["outputVideoId"] == working_video_id
    assert all(f.get("projectId") == pid and f.get("type") == "framing" for f in frames)
    # The post-export save of the unchanged local state (incl. the gesture) makes no version.
    crop.insert(1, action["data"])
    body["crop_data"] = json.dumps(crop)
    again = client.put(f"/api/clips/projects/{pid}/clips/{first['id']}", json=body).json()
    assert again["refresh_required"] is False
    detail = client.get(f"/api/projects/{pid}", params={"_t": "1"}).json()
    assert detail["working_video_id"] == working_video_id and detail["working_video_url"]

    # (5) Overlay: the automatic region is there; gestures; export; final video bytes play.
    overlay = client.get(f"/api/export/projects/{pid}/overlay-data").json()
    assert overlay["has_data"] is True
    region = overlay["highlights_data"][0]
    assert region["id"].startswith("region-auto-") and region["start_time"] == 0
    actions = [
        {"action": "add_keyframe", "target": {"region_id": region["id"]},
         "data": {"time": 0.5, "x": 405.0, "y": 700.0, "radiusX": 60.0, "radiusY": 120.0,
                  "opacity": 0.2, "color": "#FFFF00"}},
        {"action": "add_keyframe", "target": {"region_id": "region-1-abcdefghi"},
         "data": {"time": 2.2, "x": 300.0, "y": 650.0, "radiusX": 50.0, "radiusY": 100.0,
                  "opacity": 0.2, "color": "#FFFF00"}},
        {"action": "set_effect_type", "data": {"effect_type": "dark_overlay"}},
    ]
    for a in actions:
        assert client.post(f"/api/export/projects/{pid}/overlay/actions", json=a).json()[
            "success"] is True
    response, frames = _export_with_ws(client, "export_2_def", lambda: client.post(
        "/api/export/render-overlay", json={"project_id": pid, "export_id": "export_2_def",
                                            "effect_type": "dark_overlay"}))
    assert response.status_code == 200, response.text
    final_id = response.json()["final_video_id"]
    assert frames[-1]["status"] == "complete" and frames[-1]["outputVideoId"] == final_id
    video = client.get(f"/api/export/projects/{pid}/final-video")
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    out = tmp_path / "final.mp4"
    out.write_bytes(video.content)
    info = probe(out)
    assert (info.width, info.height) == (810, 1440) and abs(info.duration - 3.0) < 0.15
    assert info.has_audio

    # (6) Gallery: the final video is listed and downloadable with Range.
    gallery = client.get("/api/downloads").json()
    entry = next(d for d in gallery["downloads"] if d["id"] == final_id)
    assert entry["project_name"] == "Carlsbad highlights" and entry["project_id"] == pid
    assert client.get("/api/downloads/count").json()["count"] == gallery["total_count"]
    part = client.get(f"/api/downloads/{final_id}/file", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == video.content[:100]

    # (8) Recovery on the next page load: both exports are known and complete.
    unack = client.get("/api/exports/unacknowledged").json()["exports"]
    assert {e["job_id"]: e["status"] for e in unack} == {
        "export_1_abc": "complete", "export_2_def": "complete"}
    assert client.get("/api/exports/export_2_def/modal-status").json()["status"] == "complete"
