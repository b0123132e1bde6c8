"""Overlay data (#37, PUT) and actions (#38) over HTTP, on both stores."""

from __future__ import annotations

import json
import threading

import pytest

from tests.conftest import Api
from tests.overlay_helpers import make_project

URL = "/api/export/projects/{}/overlay-data"
_KF = {"x": 405.0, "y": 720.0, "radiusX": 86.4, "radiusY": 172.8, "opacity": 0.15,
       "color": "#FFFF00"}
ACTIONS = "/api/export/projects/{}/overlay/actions"

AUTO_REGION = {
    "id": "region-auto-0-0", "start_time": 0, "end_time": 2, "enabled": True, "keyframes": [],
    "detections": [{"timestamp": 0.0, "boxes": [
        {"x": 405, "y": 720, "width": 80, "height": 220, "confidence": 0.91}]}],
    "videoWidth": 810, "videoHeight": 1440,
}


def overlay(api, pid, headers=None) -> dict:
    res = api.client.get(URL.format(pid), headers=headers)
    assert res.status_code == 200, res.text
    return res.json()


def act(api, pid, body, headers=None):
    return api.client.post(ACTIONS.format(pid), json=body, headers=headers)


def assert_overlay_shape(body: dict) -> None:
    assert isinstance(body["has_data"], bool)
    assert isinstance(body["highlights_data"], list)
    assert body["effect_type"] in ("original", "brightness_boost", "dark_overlay")
    assert isinstance(body["text_overlays"], list)
    for region in body["highlights_data"]:
        assert isinstance(region["id"], str)
        assert isinstance(region["start_time"], int | float)
        assert isinstance(region["end_time"], int | float)
        assert "startTime" not in region and "endTime" not in region
        assert isinstance(region["keyframes"], list)


def assert_ok(res, region_id=None) -> dict:
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["success"] is True and isinstance(body["version"], int)
    assert body["region_id"] == region_id
    return body


def test_overlay_data_without_regions(api):
    pid, _ = make_project(api, "a")
    body = overlay(api, pid)
    assert_overlay_shape(body)
    assert body["has_data"] is False and body["highlights_data"] == []
    assert body["effect_type"] == "original"
    pid2, _ = make_project(api, "a", "No video", working_video=False)
    assert overlay(api, pid2)["has_data"] is False


def test_overlay_flow_as_the_editor_sends_it(api):
    """Contract §5 (5): enter, edit (regions the server never saw included), re-enter."""
    pid, _ = make_project(api, "a", highlights=[AUTO_REGION])
    body = overlay(api, pid)
    assert_overlay_shape(body)
    assert body["has_data"] is True and body["highlights_data"][0]["id"] == "region-auto-0-0"
    assert body["highlights_data"][0]["detections"] == AUTO_REGION["detections"]

    versions = []
    # click a detection box on the server's region
    versions.append(assert_ok(act(api, pid, {
        "action": "add_keyframe", "target": {"region_id": "region-auto-0-0"},
        "data": {"time": 0.4671, "x": 405.0, "y": 720.0, "radiusX": 86.4, "radiusY": 172.8,
                 "opacity": 0.15, "color": "#FFFF00", "fromDetection": True}}),
        "region-auto-0-0")["version"])
    # the user's own region: created locally, never synced (create_region is not sent)
    local = "region-1736240000123-k3j2h1a9x"
    for t, x in ((5.0333, 300.125), (6.9, 310.5), (5.04, 299.0)):  # the last upserts
        versions.append(assert_ok(act(api, pid, {
            "action": "add_keyframe", "target": {"region_id": local},
            "data": {"time": t, "x": x, "y": 700.0, "radiusX": 86.4, "radiusY": 172.8,
                     "opacity": 0.15, "color": "#FFFF00"}}), local)["version"])
    versions.append(assert_ok(act(api, pid, {
        "action": "update_region", "target": {"region_id": local},
        "data": {"start_time": 4.5}}), local)["version"])
    versions.append(assert_ok(act(api, pid, {
        "action": "update_region", "target": {"region_id": local},
        "data": {"end_time": 8.25}}), local)["version"])
    # another never-synced region, toggled off, then its span dragged
    other = "region-1736240009999-zzzzzzzzz"
    versions.append(assert_ok(act(api, pid, {
        "action": "toggle_region", "target": {"region_id": other},
        "data": {"enabled": False}}), other)["version"])
    versions.append(assert_ok(act(api, pid, {
        "action": "delete_keyframe",
        "target": {"region_id": "region-auto-0-0", "keyframe_time": 0.48}}),
        "region-auto-0-0")["version"])
    # a default keyframe the editor never synced: deleting it is harmless
    versions.append(assert_ok(act(api, pid, {
        "action": "delete_keyframe", "target": {"region_id": local, "keyframe_time": 8.2}}),
        local)["version"])
    versions.append(assert_ok(act(api, pid, {
        "action": "set_effect_type", "data": {"effect_type": "dark_overlay"}}))["version"])
    assert versions == list(range(1, len(versions) + 1))

    body = overlay(api, pid)  # re-enter (or the fresh-export reload)
    assert_overlay_shape(body)
    assert body["effect_type"] == "dark_overlay" and body["version"] == versions[-1]
    regions = {r["id"]: r for r in body["highlights_data"]}
    assert set(regions) == {"region-auto-0-0", local, other}
    assert regions["region-auto-0-0"]["keyframes"] == []
    mine = regions[local]
    assert (mine["start_time"], mine["end_time"]) == (4.5, 8.25)
    assert [(k["time"], k["frame"], k["x"]) for k in mine["keyframes"]] == [
        (5.04, 151, 299.0), (6.9, 207, 310.5)]
    assert regions[other]["enabled"] is False
    assert "span_inferred" not in mine


def test_delete_region_and_put_full_state(api):
    pid, _ = make_project(api, "a", highlights=[AUTO_REGION])
    assert_ok(act(api, pid, {"action": "delete_region",
                             "target": {"region_id": "region-auto-0-0"}}), "region-auto-0-0")
    assert overlay(api, pid)["highlights_data"] == []
    res = api.client.put(URL.format(pid), json={
        "highlights_data": [{"id": "r", "startTime": 1.0, "endTime": 3.0, "keyframes": []}],
        "effect_type": "brightness_boost", "text_overlays": []})
    assert res.status_code == 200, res.text
    assert res.json() == {"success": True, "version": 2}
    body = overlay(api, pid)
    assert body["effect_type"] == "brightness_boost"
    assert body["highlights_data"] == [
        {"id": "r", "start_time": 1.0, "end_time": 3.0, "keyframes": []}]


def test_action_errors_carry_error_and_version(api):
    pid, _ = make_project(api, "a")
    assert_ok(act(api, pid, {"action": "toggle_region", "target": {"region_id": "r"}}), "r")

    res = act(api, pid, {"action": "set_effect_type", "data": {"effect_type": "sparkles"}})
    assert res.status_code == 400
    body = res.json()
    assert body["success"] is False and body["version"] == 1
    assert "effect type" in body["error"] and body["detail"] == body["error"]

    res = act(api, pid, {"action": "explode", "target": {"region_id": "r"}})
    assert res.status_code == 400 and "Unknown overlay action" in res.json()["error"]

    res = act(api, 9999, {"action": "toggle_region", "target": {"region_id": "r"}})
    assert res.status_code == 404
    assert res.json()["success"] is False and res.json()["version"] is None
    assert res.json()["error"]

    res = api.client.post(ACTIONS.format(pid), content=b'{"action": "add_keyframe",',
                          headers={"Content-Type": "application/json"})
    assert res.status_code == 400 and res.json()["error"] and res.json()["success"] is False

    for bad in ({"action": 5}, {"action": "add_keyframe", "data": "x"},
                {"action": "add_keyframe", "target": {"region_id": "r"},
                 "data": {"time": 1, "x": "left", "y": 1, "radiusX": 1, "radiusY": 1}}):
        res = act(api, pid, bad)
        assert res.status_code == 422, (bad, res.text)
        assert res.json()["success"] is False and res.json()["error"]

    assert overlay(api, pid)["version"] == 1  # nothing failed changed anything


def test_bad_input_on_overlay_data(api):
    res = api.client.get(URL.format(424242))
    assert res.status_code == 404 and res.json()["detail"]
    assert api.client.get(URL.format("abc")).status_code == 422
    pid, _ = make_project(api, "a")
    res = api.client.put(URL.format(pid), content=b"{nope",
                         headers={"Content-Type": "application/json"})
    assert res.status_code == 400 and res.json()["detail"]
    res = api.client.put(URL.format(pid), json={"highlights_data": 7})
    assert res.status_code == 422
    res = api.client.put(URL.format(pid), json={"highlights_data": [], "effect_type": "neon"})
    assert res.status_code == 400


def test_other_users_project_is_not_found(api):
    pid, _ = make_project(api, "alice")
    assert api.client.get(URL.format(pid), headers=api.as_user("alice")).status_code == 200
    res = api.client.get(URL.format(pid), headers=api.as_user("bob"))
    assert res.status_code == 404
    res = act(api, pid, {"action": "toggle_region", "target": {"region_id": "r"}},
              headers=api.as_user("bob"))
    assert res.status_code == 404 and res.json()["success"] is False


def _fire(api, pid, region_id, times, errors):
    for t in times:
        res = act(api, pid, {"action": "add_keyframe", "target": {"region_id": region_id},
                             "data": {"time": t, "x": 1, "y": 2, "radiusX": 3,
                                      "radiusY": 4, "opacity": 0.5, "color": "#fff"}})
        if res.status_code != 200:
            errors.append(res.text)


def test_concurrent_actions_from_two_clients_are_all_applied(api):
    pid, _ = make_project(api, "a")
    errors: list[str] = []
    threads = [threading.Thread(target=_fire, args=(api, pid, rid, [i * 0.1 for i in range(12)],
                                                    errors)) for rid in ("left", "right")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    body = overlay(api, pid)
    assert body["version"] == 24
    assert {r["id"]: len(r["keyframes"]) for r in body["highlights_data"]} == {
        "left": 12, "right": 12}


@pytest.mark.timeout(120)
def test_concurrent_actions_from_two_containers_are_all_applied(api, tmp_path):
    """Two web containers on one store: the compare-and-swap re-runs the gestures."""
    pid, _ = make_project(api, "a")
    second = Api(api.store, tmp_path / "second")
    try:
        errors: list[str] = []
        threads = [threading.Thread(target=_fire, args=(harness, pid, rid,
                                                        [i * 0.1 for i in range(8)], errors))
                   for harness, rid in ((api, "one"), (second, "two"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        for harness in (api, second):
            body = overlay(harness, pid)
            assert body["version"] == 16
            assert sorted(len(r["keyframes"]) for r in body["highlights_data"]) == [8, 8]
    finally:
        second.close()


# -- the whole loop with the real exports (the lead's) and the media engine ----------------

def _framing_export(api, pid, export_id):
    res = api.client.post("/api/export/render", json={
        "project_id": pid, "export_id": export_id, "export_mode": "fast", "target_fps": 30,
        "include_audio": True})
    assert res.status_code == 200, res.text
    return res.json()["working_video_id"]


def _two_projects_of_one_clip(api, tmp_path) -> tuple[int, int]:
    """A real 3 s 640x360 clip in two 9:16 projects, framed at different crop positions."""
    from lib.keys import Kind
    from tests.overlay_helpers import make_game, make_raw_clip, upload
    from tests.videos import make_video

    clip_file = make_video(tmp_path / "clip.mp4", seconds=3.0, size=(640, 360))
    name, _ = upload(api, "a", Kind.RAW_CLIPS, clip_file)
    game = make_game(api, "a", size=(640, 360))
    raw = make_raw_clip(api, "a", game, 30.0, 33.0, filename=name)
    pids = []
    for project_name, x in (("Solo run", 218), ("Same clip", 300)):
        pid = api.client.post("/api/projects", json={"name": project_name,
                                                     "aspect_ratio": "9:16"}).json()["id"]
        cid = api.client.post(f"/api/clips/projects/{pid}/clips",
                              data={"raw_clip_id": str(raw)}).json()["id"]
        crop = [{"frame": 0, "x": x, "y": 0, "width": 202, "height": 360,
                 "origin": "permanent"}]
        res = api.client.put(f"/api/clips/projects/{pid}/clips/{cid}", json={
            "crop_data": json.dumps(crop), "segments_data": None, "timing_data": None})
        assert res.status_code == 200, res.text
        pids.append(pid)
    return pids[0], pids[1]


def _edit_after_framing_export(api, pid) -> None:
    """Framing export, then the overlay entry and gestures as the editor sends them."""
    _framing_export(api, pid, f"export_{pid}_aaaaaaa")
    body = overlay(api, pid)
    assert_overlay_shape(body)
    assert [r["id"] for r in body["highlights_data"]] == ["region-auto-0-0"]
    auto = body["highlights_data"][0]
    assert (auto["videoWidth"], auto["videoHeight"]) == (810, 1440)
    assert_ok(act(api, pid, {"action": "add_keyframe", "target": {"region_id": auto["id"]},
                             "data": {**_KF, "time": 0.5, "fromDetection": True}}), auto["id"])
    assert_ok(act(api, pid, {"action": "add_keyframe", "target": {"region_id": "mine"},
                             "data": {**_KF, "time": 1.2}}), "mine")
    assert_ok(act(api, pid, {"action": "set_effect_type",
                             "data": {"effect_type": "dark_overlay"}}))


@pytest.mark.timeout(300)
def test_highlights_return_after_a_real_framing_export_of_another_project(local_api, tmp_path):
    api = local_api
    first, second = _two_projects_of_one_clip(api, tmp_path)
    _edit_after_framing_export(api, first)
    _framing_export(api, second, "export_9_ccccccc")
    body = overlay(api, second)
    regions = {r["id"]: r for r in body["highlights_data"]}
    assert set(regions) == {"region-auto-0-0", "mine"} and body["version"] == 0
    (k,) = regions["mine"]["keyframes"]
    # source x = 218 + 405·202/810; in the crop at x=300: (source − 300)·810/202
    assert k["x"] == pytest.approx((218 + 405 * 202 / 810 - 300) * 810 / 202, abs=1)
    assert k["time"] == pytest.approx(1.2)
    assert regions["region-auto-0-0"]["keyframes"][0]["time"] == pytest.approx(0.5)


@pytest.mark.timeout(300)
def test_overlay_export_gallery_and_before_after_end_to_end(local_api, tmp_path):
    """Framing export → gestures → overlay export → gallery → download → before/after."""
    from lib.media import probe

    api = local_api
    first, _ = _two_projects_of_one_clip(api, tmp_path)
    _edit_after_framing_export(api, first)
    res = api.client.post("/api/export/render-overlay", json={
        "project_id": first, "export_id": "export_2_bbbbbbb", "effect_type": "dark_overlay"})
    assert res.status_code == 200, res.text
    final_id = res.json()["final_video_id"]
    (item,) = api.client.get("/api/downloads").json()["downloads"]
    assert item["id"] == final_id and item["project_name"] == "Solo run"
    assert item["source_type"] == "custom_project" and item["file_size"] > 0
    part = api.client.get(f"/api/downloads/{final_id}/file", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100
    assert api.client.get(f"/api/export/before-after/{final_id}/status").json() == {
        "available": True, "error": None}
    res = api.client.post(f"/api/export/before-after/{final_id}")
    assert res.status_code == 200, res.text
    (tmp_path / "ba.mp4").write_bytes(res.content)
    info = probe(tmp_path / "ba.mp4")
    assert (info.width, info.height) == (1080, 1920)
    assert info.duration == pytest.approx(3.0, abs=0.1)
