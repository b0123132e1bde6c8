"""Gesture numbers (#21, #38): overflowing or nonsense values are refused at the gesture with
`400 {success:false, error}`, and nothing is stored."""

from __future__ import annotations

import pytest

from tests.overlay_helpers import add_clip, make_game, make_project, make_raw_clip

HUGE = int("9" * 400)
CROP = [{"frame": 0, "x": 420, "y": 0, "width": 608, "height": 1080, "origin": "permanent"},
        {"frame": 450, "x": 420, "y": 0, "width": 608, "height": 1080, "origin": "permanent"}]
KEYFRAME = {"frame": 30, "x": 1, "y": 2, "width": 300, "height": 500}

FRAMING = [
    {"action": "add_crop_keyframe", "data": {**KEYFRAME, "frame": HUGE}},
    {"action": "add_crop_keyframe", "data": {**KEYFRAME, "x": HUGE}},
    {"action": "add_crop_keyframe", "data": {**KEYFRAME, "x": 1e-320}},
    {"action": "add_crop_keyframe", "data": {**KEYFRAME, "frame": 10**70}},
    {"action": "add_crop_keyframe", "data": {**KEYFRAME, "width": 0.5}},
    {"action": "add_crop_keyframe", "data": {**KEYFRAME, "height": 1e308}},
    {"action": "update_crop_keyframe", "target": {"frame": 0}, "data": {"y": HUGE}},
    {"action": "move_crop_keyframe", "target": {"frame": HUGE}, "data": {"frame": 3}},
    {"action": "delete_crop_keyframe", "target": {"frame": HUGE}},
    {"action": "split_segment", "data": {"time": HUGE}},
    {"action": "remove_segment_split", "data": {"time": 1e308}},
    {"action": "set_segment_speed", "target": {"segment_index": HUGE}, "data": {"speed": 1}},
    {"action": "set_segment_speed", "target": {"segment_index": 0}, "data": {"speed": HUGE}},
    {"action": "set_trim_range", "data": {"start": 0, "end": 1e-320}},
    {"action": "set_trim_range", "data": {"start": 0, "end": 10**6}},
]
OVERLAY = [
    {"action": "add_keyframe", "target": {"region_id": "r"},
     "data": {"time": 1e308, "x": 1, "y": 1, "radiusX": 5, "radiusY": 5}},
    {"action": "add_keyframe", "target": {"region_id": "r"},
     "data": {"time": 1, "x": HUGE, "y": 1, "radiusX": 5, "radiusY": 5}},
    {"action": "add_keyframe", "target": {"region_id": "r"},
     "data": {"frame": HUGE, "x": 1, "y": 1, "radiusX": 5, "radiusY": 5}},
    {"action": "add_keyframe", "target": {"region_id": "r"},
     "data": {"time": 1, "x": 1e-320, "y": 1, "radiusX": 5, "radiusY": 5}},
    {"action": "add_keyframe", "target": {"region_id": "r"},
     "data": {"time": 1, "x": 1, "y": 1, "radiusX": 0, "radiusY": 5}},
    {"action": "create_region", "data": {"start_time": HUGE}},
    {"action": "create_region", "data": {"start_time": 0, "end_time": 1e308}},
    {"action": "update_region", "target": {"region_id": "r"}, "data": {"end_time": 1e-320}},
    {"action": "delete_keyframe", "target": {"region_id": "r", "frame": HUGE}},
    {"action": "update_keyframe", "target": {"region_id": "r", "keyframe_time": HUGE},
     "data": {"x": 1}},
]


@pytest.fixture
def urls(local_api):
    game = make_game(local_api, "a")
    raw = make_raw_clip(local_api, "a", game, 10.0, 25.0)
    pid, _ = make_project(local_api, "a")
    cid = add_clip(local_api, "a", pid, raw, crop=CROP, exported=False)
    return (f"/api/clips/projects/{pid}/clips/{cid}/actions",
            f"/api/export/projects/{pid}/overlay/actions", pid, cid)


def _refused(r) -> None:
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["success"] is False and body["error"].endswith(".") and len(body["error"]) < 200


@pytest.mark.parametrize("action", FRAMING, ids=lambda a: a["action"])
def test_framing_refuses_overflowing_and_nonsense_numbers(local_api, urls, action):
    framing, _, pid, _ = urls
    before = local_api.client.get(f"/api/clips/projects/{pid}/clips").json()
    _refused(local_api.client.post(framing, json=action))
    assert local_api.client.get(f"/api/clips/projects/{pid}/clips").json() == before


@pytest.mark.parametrize("action", OVERLAY, ids=lambda a: a["action"])
def test_overlay_refuses_overflowing_and_nonsense_numbers(local_api, urls, action):
    _, overlay, pid, _ = urls
    _refused(local_api.client.post(overlay, json=action))
    data = local_api.client.get(f"/api/export/projects/{pid}/overlay-data").json()
    assert data["highlights_data"] in ([], None)


def test_sane_gestures_still_apply(local_api, urls):
    framing, overlay, _, _ = urls
    for action in ({"action": "add_crop_keyframe", "data": KEYFRAME},
                   {"action": "split_segment", "data": {"time": 5.0}},
                   {"action": "set_trim_range", "data": {"start": 0, "end": 15}}):
        assert local_api.client.post(framing, json=action).status_code == 200
    r = local_api.client.post(overlay, json={
        "action": "add_keyframe", "target": {"region_id": "r"},
        "data": {"time": 0.5, "x": 0, "y": 0, "radiusX": 1, "radiusY": 40.5}})
    assert r.status_code == 200 and r.json()["success"] is True
