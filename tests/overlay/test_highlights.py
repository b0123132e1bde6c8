"""Highlight reuse: working-video space ⇄ raw-clip space, saved per clip and restored."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.db.connection import open_image
from lib.overlay.actions import editor_frame
from lib.overlay.highlights import clip_layout, default_crop, restore_into, save_clip_defaults
from lib.projects.projects import add_working_clip, create_project
from tests.overlay_helpers import add_clip, make_game, make_project, make_raw_clip, read

SOURCE = (1920, 1080)
WORKING = (810, 1440)
FRAME = 1 / 30


# -- the round trip property ---------------------------------------------------------------

@st.composite
def clips(draw) -> dict:
    duration = draw(st.floats(2.0, 12.0)).__round__(3)
    cuts = sorted(draw(st.lists(st.floats(0.3, duration - 0.3), max_size=3, unique=True)))
    boundaries = [0.0, *[round(c, 3) for c in cuts], duration]
    speeds = {str(i): draw(st.sampled_from([0.5, 1.0, 1.5, 2.0, 0.75]))
              for i in range(len(boundaries) - 1) if draw(st.booleans())}
    trim = None
    if draw(st.booleans()):
        a = round(draw(st.floats(0.0, duration - 1.0)), 3)
        b = round(draw(st.floats(a + 1.0, duration)), 3)
        trim = {"start": a, "end": b}
    crop = []
    for frame in sorted(draw(st.lists(st.integers(0, int(duration * 30)), min_size=1,
                                      max_size=4, unique=True))):
        h = draw(st.integers(400, 1080))
        w = round(h * 9 / 16)
        crop.append({"frame": frame, "x": draw(st.integers(0, SOURCE[0] - w)),
                     "y": draw(st.integers(0, SOURCE[1] - h)), "width": w, "height": h,
                     "origin": "user"})
    return {"duration": duration, "crop": crop,
            "segments": {"boundaries": boundaries, "segmentSpeeds": speeds, "trimRange": trim}}


def build_project(conn, specs: list[dict]) -> tuple[int, dict]:
    conn.execute("INSERT INTO games (id, name, video_width, video_height) VALUES (1, 'G', ?, ?)",
                 SOURCE)
    pid = create_project(conn, "P", "9:16")
    start = 0.0
    for spec in specs:
        rid = conn.execute("INSERT INTO raw_clips (game_id, start_time, end_time) VALUES"
                           " (1, ?, ?)", (start, start + spec["duration"])).lastrowid
        start += 100
        cid = add_working_clip(conn, pid, raw_clip_id=rid)
        conn.execute("UPDATE working_clips SET crop_data = ?, segments_data = ?,"
                     " exported_at = 'x' WHERE id = ?",
                     (json.dumps(spec["crop"]), json.dumps(spec["segments"]), cid))
    wid = conn.execute("INSERT INTO working_videos (project_id, filename, width, height)"
                       " VALUES (?, 'w.mp4', ?, ?)", (pid, *WORKING)).lastrowid
    conn.execute("UPDATE projects SET working_video_id = ? WHERE id = ?", (wid, pid))
    video = conn.execute("SELECT * FROM working_videos WHERE id = ?", (wid,)).fetchone()
    return pid, video


@st.composite
def regions_in(draw, layout) -> list[dict]:
    out = []
    for clip in layout:
        for n in range(draw(st.integers(0, 2))):
            a = draw(st.floats(clip.start, clip.end - 0.2))
            b = draw(st.floats(a + 0.1, clip.end))
            times = sorted(draw(st.lists(st.floats(a, b), max_size=4, unique=True)))
            out.append({
                "id": f"r-{clip.clip_index}-{n}", "start_time": a, "end_time": b,
                "enabled": draw(st.booleans()),
                "keyframes": [{"time": t, "frame": round(t * 30),
                               "x": draw(st.floats(0, WORKING[0])),
                               "y": draw(st.floats(0, WORKING[1])),
                               "radiusX": draw(st.floats(5, 200)),
                               "radiusY": draw(st.floats(5, 300)), "opacity": 0.15,
                               "color": "#FFFF00"} for t in times]})
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(clips(), min_size=1, max_size=3), st.data())
def test_working_to_raw_to_working_round_trip(specs, data):
    conn = open_image(None)
    pid, video = build_project(conn, specs)
    layout = clip_layout(conn, pid)
    assert len(layout) == len(specs)
    regions = data.draw(regions_in(layout))
    save_clip_defaults(conn, pid, video, regions)
    restored = restore_into(conn, pid, video, []) or []
    by_id = {r["id"]: r for r in restored}
    assert set(by_id) == {r["id"] for r in regions}
    for original in regions:
        back = by_id[original["id"]]
        assert back["start_time"] == pytest.approx(original["start_time"], abs=FRAME)
        assert back["end_time"] == pytest.approx(original["end_time"], abs=FRAME)
        assert back["enabled"] == original["enabled"]
        assert len(back["keyframes"]) == len(original["keyframes"])
        for k0, k1 in zip(original["keyframes"], back["keyframes"], strict=True):
            assert k1["time"] == pytest.approx(k0["time"], abs=FRAME)
            for key in ("x", "y", "radiusX", "radiusY"):
                assert k1[key] == pytest.approx(k0[key], abs=1.0), key
            assert k1["frame"] == editor_frame(k1["time"])
    conn.close()


def test_default_crop_matches_the_editor():
    assert default_crop((1920, 1080), "9:16") == [
        {"frame": 0, "x": 656, "y": 0, "width": 608, "height": 1080, "origin": "permanent"}]
    assert default_crop((1080, 1920), "16:9")[0]["height"] == 608


# -- reuse through the API -----------------------------------------------------------------

CROP_A = [{"frame": 0, "x": 656, "y": 0, "width": 608, "height": 1080, "origin": "permanent"}]
CROP_B = [{"frame": 0, "x": 500, "y": 0, "width": 608, "height": 1080, "origin": "permanent"}]


def _keyframe(t, x, y):
    return {"time": t, "x": x, "y": y, "radiusX": 81.0, "radiusY": 144.0, "opacity": 0.15,
            "color": "#FFFF00"}


def test_highlights_follow_the_clip_into_another_project(api):
    gid = make_game(api, "a")
    raw = make_raw_clip(api, "a", gid, 100.0, 110.0)
    pid_a, wid_a = make_project(api, "a", "A")
    add_clip(api, "a", pid_a, raw, crop=CROP_A,
             segments={"boundaries": [0, 10], "segmentSpeeds": {}, "trimRange": None})
    url = "/api/export/projects/{}/overlay/actions"
    res = api.client.post(url.format(pid_a), json={
        "action": "add_keyframe", "target": {"region_id": "mine"},
        "data": _keyframe(2.0, 405.0, 720.0)})
    assert res.status_code == 200, res.text

    saved = read(api, "a", lambda c: json.loads(c.execute(
        "SELECT default_highlight_regions FROM raw_clips WHERE id = ?", (raw,)).fetchone()[0]))
    (region,) = saved
    (k,) = region["keyframes"]
    # working → source: x = 656 + 405·608/810 = 960, y = 720·1080/1440 = 540
    assert (k["time"], k["x"], k["y"]) == (2.0, pytest.approx(960.0), pytest.approx(540.0))
    assert k["radiusX"] == pytest.approx(81.0 * 608 / 810)
    assert "span_inferred" not in region

    auto = {"id": "region-auto-0-0", "start_time": 0, "end_time": 2, "enabled": True,
            "keyframes": [], "detections": []}
    pid_b, _ = make_project(api, "a", "B", highlights=[auto])
    add_clip(api, "a", pid_b, raw, crop=CROP_B,
             segments={"boundaries": [0, 10], "segmentSpeeds": {"0": 0.5},
                       "trimRange": {"start": 1.0, "end": 10.0}})
    body = api.client.get(f"/api/export/projects/{pid_b}/overlay-data").json()
    assert body["has_data"] is True
    (restored,) = body["highlights_data"]  # the clip's saved highlight replaced the auto one
    assert restored["id"] == "mine" and restored["videoWidth"] == 810
    (k,) = restored["keyframes"]
    # source 2.0 s → trimmed at 1.0 and played at 0.5× → 2.0 s; x = (960 − 500)·810/608
    assert k["time"] == pytest.approx(2.0)
    assert k["x"] == pytest.approx((960 - 500) * 810 / 608)
    assert k["y"] == pytest.approx(720.0)
    # the span inferred in A, [2, 4], is [2, 6] in B
    assert (restored["start_time"], restored["end_time"]) == (pytest.approx(2.0),
                                                              pytest.approx(6.0))
    # ... and it was stored: an export of B renders what the editor shows
    stored = read(api, "a", lambda c: c.execute(
        "SELECT w.highlights_data FROM working_videos w JOIN projects p"
        " ON p.working_video_id = w.id WHERE p.id = ?", (pid_b,)).fetchone()[0])
    assert [r["id"] for r in json.loads(stored)] == ["mine"]
    assert api.client.get(f"/api/export/projects/{pid_b}/overlay-data").json() == body


def test_no_restore_once_the_overlay_was_edited(api):
    gid = make_game(api, "a")
    raw = make_raw_clip(api, "a", gid, 0.0, 5.0)

    def saved(conn):
        conn.execute("UPDATE raw_clips SET default_highlight_regions = ? WHERE id = ?",
                     (json.dumps([{"id": "old", "start_time": 0.5, "end_time": 2.0,
                                   "keyframes": [_keyframe(1.0, 960.0, 540.0)]}]), raw))
    api.app.state.dbs.write("a", saved)
    pid, _ = make_project(api, "a", "P")
    add_clip(api, "a", pid, raw, crop=CROP_A)
    body = api.client.get(f"/api/export/projects/{pid}/overlay-data").json()
    assert [r["id"] for r in body["highlights_data"]] == ["old"] and body["version"] == 0
    url = f"/api/export/projects/{pid}/overlay/actions"
    res = api.client.post(url, json={"action": "delete_region",
                                     "target": {"region_id": "old"}})
    assert res.status_code == 200
    api.app.state.dbs.write("a", saved)  # another project saves highlights for the clip
    body = api.client.get(f"/api/export/projects/{pid}/overlay-data").json()
    assert body["highlights_data"] == [] and body["version"] == 1


def test_junk_in_old_regions_never_breaks_an_action(api):
    gid = make_game(api, "a")
    raw = make_raw_clip(api, "a", gid, 0.0, 5.0)
    junk = {"id": "old", "start_time": 0.5, "end_time": 2.0,
            "keyframes": [{"time": 1.0, "x": 5, "y": "top", "radiusX": 1, "radiusY": 1}]}
    pid, _ = make_project(api, "a", "P", highlights=[junk])
    add_clip(api, "a", pid, raw, crop=CROP_A)
    res = api.client.post(f"/api/export/projects/{pid}/overlay/actions", json={
        "action": "add_keyframe", "target": {"region_id": "new"},
        "data": _keyframe(3.0, 400.0, 700.0)})
    assert res.status_code == 200, res.text
    saved = read(api, "a", lambda c: json.loads(c.execute(
        "SELECT default_highlight_regions FROM raw_clips WHERE id = ?", (raw,)).fetchone()[0]))
    assert [r["id"] for r in saved] == ["new"]


def test_clip_layout_follows_the_rendered_clip_starts():
    """After a dissolve join, clip 2 starts where the render put it, not end to end."""
    crop = [{"frame": 0, "x": 0, "y": 0, "width": 608, "height": 1080, "origin": "user"}]
    spec = {"duration": 4.0, "crop": crop,
            "segments": {"boundaries": [0, 4.0], "segmentSpeeds": {}, "trimRange": None}}
    conn = open_image(None)
    pid, video = build_project(conn, [spec, spec])
    assert [p.start for p in clip_layout(conn, pid)] == [0.0, 4.0]  # nothing recorded: abut
    conn.execute("UPDATE working_videos SET clip_starts = ? WHERE id = ?",
                 (json.dumps([0.0, 3.5]), video["id"]))
    assert [(p.start, p.end) for p in clip_layout(conn, pid)] == [(0.0, 4.0), (3.5, 7.5)]
    conn.execute("UPDATE working_videos SET clip_starts = ? WHERE id = ?",
                 (json.dumps([0.0]), video["id"]))  # not this list of clips: ignored
    assert [p.start for p in clip_layout(conn, pid)] == [0.0, 4.0]
