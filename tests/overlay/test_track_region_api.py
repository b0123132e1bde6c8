"""The `track_region` overlay gesture over HTTP: the region's spotlight keyframes follow the
player over the region's span (working-video pixels, editor ellipse: centre + radii), the
overlay version bumps once; bad input is a 400 with one sentence and writes nothing."""

from __future__ import annotations

import numpy as np
import pytest

from lib.timeline.keyframes import HighlightRegion
from tests.project_data import USER, add_working_video, new_project
from tests.vision.synthetic import Scene, render

SCENE = Scene(width=640, height=360, fps=30, seconds=8.0)
REGION = {"id": "region-1", "start_time": 1.0, "end_time": 3.0, "enabled": True,
          "keyframes": [{"time": 0.2, "x": 10, "y": 10, "radiusX": 5, "radiusY": 9,
                         "opacity": 0.3, "color": "#00FFFF"}]}
DATA_URL = "/api/export/projects/{}/overlay-data"
ACTIONS = "/api/export/projects/{}/overlay/actions"


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    path = tmp_path_factory.mktemp("track-region") / "scene.mp4"
    return path, render(path, SCENE)


def _setup(api, video: bytes):
    pid = new_project(api)
    add_working_video(api, pid, video)
    r = api.client.put(DATA_URL.format(pid), json={"highlights_data": [REGION]},
                       headers=api.as_user(USER))
    assert r.status_code == 200, r.text
    return pid


def _overlay(api, pid) -> dict:
    return api.client.get(DATA_URL.format(pid), headers=api.as_user(USER)).json()


def _track(api, pid, time, box, region_id="region-1"):
    return api.client.post(ACTIONS.format(pid), headers=api.as_user(USER), json={
        "action": "track_region", "target": {"region_id": region_id},
        "data": {"time": time, "box": box}})


def test_spotlight_follows_the_player_over_the_span(local_api, scene):
    path, truth = scene
    pid = _setup(local_api, path.read_bytes())
    before = _overlay(local_api, pid)["version"]
    x, y, w, h = truth.boxes["A"][30]
    r = _track(local_api, pid, 1.0, {"x": x, "y": y, "width": w, "height": h})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == before + 1
    [region] = _overlay(local_api, pid)["highlights_data"]
    keyframes = region["keyframes"]
    tracked = [k for k in keyframes if k.get("fromDetection")]
    assert [k["time"] for k in keyframes if not k.get("fromDetection")] == [0.2]  # outside span
    assert tracked[0]["time"] >= 1.0 and tracked[-1]["time"] <= 3.0
    assert 2 <= len(tracked) <= 2 * 3  # sparse: the editor's curve does the rest
    assert all(k["frame"] == round(k["time"] * 30) for k in tracked)
    assert all(k["opacity"] == 0.3 and k["color"] == "#00FFFF" for k in tracked)
    spot = HighlightRegion({**region, "keyframes": tracked})
    errors = []
    for i in range(30, 90):
        e = spot.ellipse_at(i / 30, 640, 360)
        cx, cy = truth.centre("A", i)
        errors.append(np.hypot(e.x - cx, e.y - cy))
        assert e.radius_y >= 0.4 * h and e.radius_x >= 0.4 * w
    assert np.median(errors) < 0.15 * h and max(errors) < 0.5 * h


@pytest.mark.parametrize("case", ["box_outside", "time_outside", "unknown_region"])
def test_bad_input_is_one_sentence_and_writes_nothing(local_api, scene, case):
    path, truth = scene
    pid = _setup(local_api, path.read_bytes())
    before = _overlay(local_api, pid)
    x, y, w, h = truth.boxes["A"][30]
    box, time, region = {"x": x, "y": y, "width": w, "height": h}, 1.0, "region-1"
    if case == "box_outside":
        box = {"x": 620, "y": 330, "width": 40, "height": 90}
    elif case == "time_outside":
        time = 3.6
    else:
        region = "region-9"
    r = _track(local_api, pid, time, box, region)
    assert r.status_code in (400, 404), r.text
    assert r.status_code == (404 if case == "unknown_region" else 400)
    message = r.json()["error"]
    assert message.endswith(".") and message.count(". ") == 0
    assert _overlay(local_api, pid) == before
