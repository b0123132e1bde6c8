"""Player detection through the API: the automatic regions of a framing export, and
POST /api/detect/players (media.md §6)."""

from __future__ import annotations

import subprocess

import pytest

from lib.media.tools import ffmpeg_exe
from lib.vision.region_detect import sample_frames
from tests.conftest import VISION_DIR
from tests.jobs_helpers import make_game_with_clip, make_project

USER = "scout"
OVERLAY = "/api/export/projects/{}/overlay-data"


@pytest.fixture(scope="module")
def walkers(tmp_path_factory):
    """2 s of the pedestrians video from t = 2 s (walkers near the centre of the frame)."""
    out = tmp_path_factory.mktemp("walkers") / "walkers.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-ss", "2", "-i",
                    str(VISION_DIR / "pedestrians-a.mp4"), "-t", "2", "-c:v", "libx264",
                    "-preset", "veryfast", "-pix_fmt", "yuv420p", str(out)], check=True)
    return out


def export_regions(api, video, export_id, **clip):
    ids = make_game_with_clip(api, USER, video, **clip)
    project_id = make_project(api, USER, [ids["raw_clip_id"]])
    r = api.client.post("/api/export/render", headers=api.as_user(USER), json={
        "project_id": project_id, "export_id": export_id, "export_mode": "fast",
        "include_audio": False})
    assert r.status_code == 200, r.text
    data = api.client.get(OVERLAY.format(project_id), headers=api.as_user(USER)).json()
    return data["highlights_data"]


def test_sample_frames_cover_the_region_evenly():
    assert sample_frames([0, 90], [90, 60], 30) == [[0, 15, 30, 45], [90, 105, 120, 135]]
    assert sample_frames([0], [12], 30) == [[]]  # 0.4 s: no region, no detection
    assert sample_frames([0], [20], 30) == [[0, 5, 10, 15]]  # the whole clip under 2 s


def test_framing_export_puts_players_in_the_auto_region(local_api, walkers):
    (region,) = export_regions(local_api, walkers, "det_1")
    assert (region["videoWidth"], region["videoHeight"]) == (810, 1440)
    detections = region["detections"]
    assert [d["timestamp"] for d in detections] == [0.0, 0.5, 1.0, 1.5]
    for entry in detections:
        assert entry["boxes"], entry
        for box in entry["boxes"]:
            b = box["bbox"]
            assert 0 <= b["x"] <= 810 and 0 <= b["y"] <= 1440
            assert box["class_name"] == "person" and 0.5 <= box["confidence"] <= 1
    # The walker labelled at source (363, 193, 37, 84) at t = 2 s, seen through the default
    # centred 9:16 crop (324 x 576 from x = 222) scaled x2.5: centre (397, 587), ~93 x 210.
    first = [b["bbox"] for b in detections[0]["boxes"]]
    assert any(abs(b["x"] - 397) < 40 and abs(b["y"] - 587) < 60 and 120 < b["height"] < 320
               for b in first), first


def test_a_detector_failure_leaves_the_region_empty(local_api, walkers, tmp_path,
                                                    monkeypatch):
    junk = tmp_path / "model.onnx"
    junk.write_bytes(b"not a model")
    monkeypatch.setenv("DETECT_MODEL", str(junk))
    monkeypatch.setattr("lib.vision.detect._shared", None)
    (region,) = export_regions(local_api, walkers, "det_2")
    assert region["detections"] == []
    assert region["keyframes"] == [] and region["enabled"] is True


DETECT = "/api/detect/players"


def test_detect_players_on_a_raw_clip(local_api, walkers):
    ids = make_game_with_clip(local_api, USER, walkers)
    r = local_api.client.post(DETECT, headers=local_api.as_user(USER), json={
        "raw_clip_id": ids["raw_clip_id"], "timestamps": [0.0, 1.0]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["video_width"], body["video_height"]) == (768, 576)
    assert body["fps"] == 10 and abs(body["duration"] - 2.0) < 0.15
    assert [d["timestamp"] for d in body["detections"]] == [0.0, 1.0]
    assert [d["frame_number"] for d in body["detections"]] == [0, 10]
    boxes = body["detections"][0]["boxes"]
    # the walker labelled at (363, 193, 37, 84) at t = 2 s of the full video: centre (381, 235)
    assert any(abs(b["bbox"]["x"] - 381) < 15 and abs(b["bbox"]["y"] - 235) < 20
               for b in boxes), boxes
    assert set(boxes[0]) == {"bbox", "confidence", "class_name", "class_id"}
    one = local_api.client.post(DETECT, headers=local_api.as_user(USER), json={
        "raw_clip_id": ids["raw_clip_id"], "frame_number": 10, "confidence": 0.9}).json()
    assert [d["frame_number"] for d in one["detections"]] == [10]
    assert all(b["confidence"] >= 0.9 for b in one["detections"][0]["boxes"])


def test_detect_players_bad_requests(local_api, walkers):
    ids = make_game_with_clip(local_api, USER, walkers)
    project_id = make_project(local_api, USER, [ids["raw_clip_id"]])
    post = lambda body, user=USER: local_api.client.post(  # noqa: E731
        DETECT, headers=local_api.as_user(user), json=body)
    clip = ids["raw_clip_id"]
    cases = [
        ({"raw_clip_id": clip + 99, "timestamps": [0]}, 404),  # unknown id
        ({"raw_clip_id": clip, "timestamps": [0]}, 404, "intruder"),  # another user's id
        ({"project_id": project_id, "timestamps": [0]}, 400),  # no working video yet
        ({"raw_clip_id": clip, "timestamps": [30.0]}, 400),  # outside the 2 s video
        ({"raw_clip_id": clip}, 400),  # neither timestamps nor frame_number
        ({"raw_clip_id": clip, "project_id": project_id, "timestamps": [0]}, 400),
        ({"raw_clip_id": clip, "timestamps": [0], "confidence": 0}, 422),
        ({"raw_clip_id": 99999999999999999999, "timestamps": [0]}, 422),
    ]
    for body, status, *user in cases:
        r = post(body, *user)
        assert r.status_code == status, (body, r.text)
        detail = r.json()["detail"]
        assert detail and (status == 422 or isinstance(detail, str)), detail
