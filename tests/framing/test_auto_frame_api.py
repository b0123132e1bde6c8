"""The `auto_frame` framing gesture over HTTP: one new version of the crop keyframes (undone by
restoring `previous_crop_data`), inside the trim; the real framing job then keeps the player in
the rendered frame; bad input is a 400 with one sentence and writes nothing."""

from __future__ import annotations

import json

import av
import pytest

from functions import framing
from lib.keys import Kind, new_name, object_key
from lib.timeline.segments import parse_segments
from tests.project_data import (
    USER,
    add_raw_clip,
    add_to_project,
    mark_exported,
    new_project,
    store_clip_file,
    versions,
)
from tests.vision.synthetic import Scene, render

SCENE = Scene(width=480, height=270, fps=30, seconds=4.0)
SEGMENTS = {"boundaries": [0, 2.0, 4.0], "segmentSpeeds": {"1": 1.5},
            "trimRange": {"start": 0.5, "end": 3.8}}


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    path = tmp_path_factory.mktemp("auto-frame") / "scene.mp4"
    return path, render(path, SCENE)


def _project(api, video: bytes | None):
    filename = store_clip_file(api, video) if video is not None else ""
    raw = add_raw_clip(api, start=0.0, end=SCENE.seconds, filename=filename)
    pid = new_project(api)
    cid = add_to_project(api, pid, raw)
    url = f"/api/clips/projects/{pid}/clips/{cid}"
    r = api.client.put(url, json={"segments_data": json.dumps(SEGMENTS)},
                       headers=api.as_user(USER))
    assert r.status_code == 200, r.text
    mark_exported(api, pid)
    return pid, cid, url


def _auto_frame(api, url, frame, box):
    return api.client.post(f"{url}/actions", headers=api.as_user(USER),
                           json={"action": "auto_frame", "data": {"frame": frame, "box": box}})


def _box(truth, i):
    x, y, w, h = truth.boxes["A"][i]
    return {"x": x, "y": y, "width": w, "height": h}


def test_auto_frame_one_version_undoable_and_rendered_in_frame(local_api, scene):
    path, truth = scene
    pid, cid, url = _project(local_api, path.read_bytes())
    before = versions(local_api, pid)
    r = _auto_frame(local_api, url, 30, _box(truth, 30))
    assert r.status_code == 200, r.text
    body = r.json()
    after = versions(local_api, pid)
    assert len(after) == len(before) + 1 and body["new_clip_id"] == after[-1]["id"]
    crop = json.loads(after[-1]["crop_data"])
    assert crop == json.loads(body["crop_data"]) and 2 <= len(crop) <= SCENE.seconds
    assert min(k["frame"] for k in crop) >= 15 and max(k["frame"] for k in crop) <= 114
    assert json.loads(after[-1]["segments_data"]) == SEGMENTS  # segments untouched
    assert all(k["height"] == 270 and abs(k["width"] - 270 * 9 / 16) < 0.01 for k in crop)

    # the real framing job renders the crop: the (grey) chosen player stays in the frame
    out_key = object_key(USER, Kind.WORKING_VIDEOS, new_name(".mp4"))
    result = framing.run({"clips": [{"source_key": object_key(USER, Kind.RAW_CLIPS, _name(
        local_api, pid)), "crop_keyframes": crop, "segments": SEGMENTS}],
        "output_key": out_key, "output_width": 270, "output_height": 480,
        "upscaler": "lanczos", "include_audio": False}, local_api.store, None)
    assert result.status == "complete", result.error
    rendered = local_api.store.local_path(out_key)
    shown = _grey_player_share(rendered)
    plan = parse_segments(SEGMENTS, SCENE.seconds)
    clear = [_in_clear_view(truth, plan.to_source(n / SCENE.fps)) for n in range(len(shown))]
    assert sum(clear) > 0.4 * len(shown)
    assert all(s for s, c in zip(shown, clear, strict=True) if c)

    # undo: restoring the previous keyframes in one full-state save
    r = local_api.client.put(f"/api/clips/projects/{pid}/clips/{body['new_clip_id']}",
                             json={"crop_data": body["previous_crop_data"]},
                             headers=local_api.as_user(USER))
    assert r.status_code == 200
    assert versions(local_api, pid)[-1]["crop_data"] == before[-1]["crop_data"]


def _in_clear_view(truth, t: float) -> bool:
    """A is neither behind the board nor overlapped by B at source time t."""
    i = min(len(truth.a_visible) - 1, int(round(t * truth.fps)))
    ax, _, aw, _ = truth.boxes["A"][i]
    bx, _, bw, _ = truth.boxes["B"][i]
    return truth.a_visible[i] == 1.0 and (bx > ax + aw or bx + bw < ax)


def _name(api, pid) -> str:
    from tests.project_data import clips

    return clips(api, pid)[0]["filename"]


def _grey_player_share(path) -> list[bool]:
    """Per output frame: does the grey (chroma-neutral, mid-luma) player show, at least a
    quarter of his area? The pitch, board and red look-alike all carry strong chroma."""
    seen = []
    player_area = 0.3 * 480 * 0.3 * 480 * (121 / 397) * (480 / 270)  # his box, scaled to output
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            yuv = frame.to_ndarray(format="yuv444p")
            y, u, v = yuv[0].astype(int), yuv[1].astype(int), yuv[2].astype(int)
            grey = (abs(u - 128) < 10) & (abs(v - 128) < 10) & (y > 25) & (y < 200)
            seen.append(grey.sum() >= 0.25 * player_area)
    return seen


@pytest.mark.parametrize("case", ["box_outside", "frame_outside", "no_video"])
def test_bad_input_is_one_sentence_and_writes_nothing(local_api, scene, case):
    path, truth = scene
    pid, cid, url = _project(local_api, None if case == "no_video" else path.read_bytes())
    before = versions(local_api, pid)
    box, frame = _box(truth, 0), 0
    if case == "box_outside":
        box = {"x": 600, "y": 40, "width": 40, "height": 90}
    if case == "frame_outside":
        frame = 30 * 60
    r = _auto_frame(local_api, url, frame, box)
    assert r.status_code == 400, r.text
    message = r.json()["error"]
    assert message.endswith(".") and message.count(". ") == 0
    assert {"box_outside": "outside the 480x270", "frame_outside": "outside the clip",
            "no_video": "no video"}[case] in message
    assert versions(local_api, pid) == before
