"""The 8 overlay gestures as pure reducers, and their unit of work (version bumps)."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.db.connection import open_image
from lib.errors import BadRequest, NotFound, Unprocessable
from lib.models import EffectType, OverlayAction
from lib.overlay.actions import (
    KEYFRAME_TOLERANCE,
    SPAN_INFERRED,
    OverlayState,
    apply_action,
    editor_frame,
    keyframe_time,
    normalize_regions,
)
from lib.overlay.data import apply_overlay_action, read_overlay_data

KF = {"x": 405.5, "y": 720.25, "radiusX": 86.0, "radiusY": 173.0, "opacity": 0.15,
      "color": "#FFFF00"}


def kf(time: float, **extra) -> dict:
    return {**KF, "time": time, **extra}


def state(*regions: dict, effect: str = "original") -> OverlayState:
    return OverlayState(list(regions), effect)


def region(rid: str = "r1", start: float = 0.0, end: float = 2.0, **extra) -> dict:
    return {"id": rid, "start_time": start, "end_time": end, "enabled": True, "keyframes": [],
            **extra}


# -- individual gestures ---------------------------------------------------------------------

def test_reducers_never_mutate_their_input():
    before = state(region(keyframes=[kf(0.5)]))
    snapshot = copy.deepcopy(before.regions)
    for action, target, data in [
        ("add_keyframe", {"region_id": "r1"}, kf(1.0)),
        ("delete_keyframe", {"region_id": "r1", "keyframe_time": 0.5}, None),
        ("update_region", {"region_id": "r1"}, {"end_time": 3.0}),
        ("toggle_region", {"region_id": "r1"}, {"enabled": False}),
        ("delete_region", {"region_id": "r1"}, None),
        ("set_effect_type", None, {"effect_type": "dark_overlay"}),
    ]:
        apply_action(before, action, target, data)
        assert before.regions == snapshot


def test_create_region_with_client_id_and_retry_is_idempotent():
    data = {"start_time": 3.0, "end_time": 5.5, "region_id": "region-1736-abc"}
    out = apply_action(state(), "create_region", None, data)
    assert out.region_id == "region-1736-abc"
    assert out.state.regions == [region("region-1736-abc", 3.0, 5.5)]
    again = apply_action(out.state, "create_region", None, data)
    assert again.state.regions == out.state.regions


def test_create_region_without_id_gets_a_fresh_one():
    out = apply_action(state(region("region-1")), "create_region", None, {"start_time": 1})
    assert out.region_id not in ("region-1", None)
    assert out.state.regions[-1]["end_time"] == 3.0


def test_update_region_writes_snake_case_only_and_normalizes_camel_case():
    old = {"id": "r1", "startTime": 1.0, "endTime": 4.0, "enabled": True, "keyframes": []}
    out = apply_action(state(old), "update_region", {"region_id": "r1"}, {"end_time": 6.0})
    (r,) = out.state.regions
    assert r["start_time"] == 1.0 and r["end_time"] == 6.0
    assert "startTime" not in r and "endTime" not in r
    out = apply_action(out.state, "update_region", {"region_id": "r1"}, {"startTime": 2.0})
    assert out.state.regions[0]["start_time"] == 2.0
    assert "startTime" not in out.state.regions[0]


def test_snake_case_wins_over_camel_case_when_both_present():
    old = {"id": "r1", "start_time": 1.0, "startTime": 9.0, "end_time": 3.0, "endTime": 9.5}
    assert normalize_regions([old]) == [
        {"id": "r1", "start_time": 1.0, "end_time": 3.0, "keyframes": []}]


def test_update_region_rejects_inverted_span():
    with pytest.raises(BadRequest):
        apply_action(state(region()), "update_region", {"region_id": "r1"}, {"end_time": 0.0})


@pytest.mark.parametrize("action,data,span", [
    ("add_keyframe", kf(7.25), (7.25, 9.25)),
    ("toggle_region", {"enabled": False}, (0.0, 2.0)),
    ("update_region", {"start_time": 4.0}, (4.0, 6.0)),
    ("update_region", {"end_time": 5.0}, (3.0, 5.0)),
])
def test_actions_on_an_unknown_region_create_it(action, data, span):
    out = apply_action(state(region("known")), action, {"region_id": "region-99-x"}, data)
    assert out.region_id == "region-99-x"
    created = next(r for r in out.state.regions if r["id"] == "region-99-x")
    assert (created["start_time"], created["end_time"]) == span
    assert "startTime" not in created


def test_inferred_span_widens_with_keyframes_until_update_region_sets_it():
    s = apply_action(state(), "add_keyframe", {"region_id": "u"}, kf(3.0)).state
    s = apply_action(s, "add_keyframe", {"region_id": "u"}, kf(6.5)).state
    s = apply_action(s, "add_keyframe", {"region_id": "u"}, kf(1.5)).state
    (r,) = s.regions
    assert (r["start_time"], r["end_time"]) == (1.5, 6.5) and r[SPAN_INFERRED]
    s = apply_action(s, "update_region", {"region_id": "u"}, {"end_time": 4.0}).state
    s = apply_action(s, "add_keyframe", {"region_id": "u"}, kf(9.0)).state
    (r,) = s.regions
    assert (r["start_time"], r["end_time"]) == (1.5, 4.0) and SPAN_INFERRED not in r


def test_toggle_region_sets_or_flips_enabled():
    s = apply_action(state(region()), "toggle_region", {"region_id": "r1"},
                     {"enabled": False}).state
    assert s.regions[0]["enabled"] is False
    s = apply_action(s, "toggle_region", {"region_id": "r1"}, None).state
    assert s.regions[0]["enabled"] is True


def test_add_keyframe_stores_frame_ticks_and_upserts_within_tolerance():
    s = apply_action(state(region()), "add_keyframe", {"region_id": "r1"},
                     kf(0.51666, fromDetection=True)).state
    (k,) = s.regions[0]["keyframes"]
    assert k["frame"] == 15 and k["time"] == 0.51666 and k["fromDetection"] is True
    s = apply_action(s, "add_keyframe", {"region_id": "r1"}, kf(0.53, x=10.0)).state
    (k,) = s.regions[0]["keyframes"]
    assert k["x"] == 10.0 and k["time"] == 0.53


def test_editor_frame_rounds_half_up_like_javascript():
    assert editor_frame(2.5 / 30) == 3 and editor_frame(0.5 / 30) == 1
    assert editor_frame(1.0) == 30


def test_delete_keyframe_matches_within_tolerance_and_tolerates_unknown():
    s = state(region(keyframes=[kf(0.5), kf(1.0)]))
    s = apply_action(s, "delete_keyframe", {"region_id": "r1", "keyframe_time": 0.515}).state
    assert [k["time"] for k in s.regions[0]["keyframes"]] == [1.0]
    out = apply_action(s, "delete_keyframe", {"region_id": "r1", "keyframe_time": 0.3})
    assert out.state.regions == s.regions and not out.regions_changed
    out = apply_action(s, "delete_keyframe", {"region_id": "nope", "keyframe_time": 0.3})
    assert out.state.regions == s.regions


def test_update_keyframe_moves_and_changes_fields():
    s = state(region(keyframes=[kf(0.5), kf(1.0)]))
    s = apply_action(s, "update_keyframe", {"region_id": "r1", "keyframe_time": 0.49},
                     {"x": 1.0, "time": 1.5}).state
    ks = s.regions[0]["keyframes"]
    assert [k["time"] for k in ks] == [1.0, 1.5] and ks[1]["x"] == 1.0 and ks[1]["frame"] == 45
    with pytest.raises(NotFound):
        apply_action(s, "update_keyframe", {"region_id": "r1", "keyframe_time": 3.0}, {"x": 1})
    with pytest.raises(NotFound):
        apply_action(s, "update_keyframe", {"region_id": "zz", "keyframe_time": 1.0}, {"x": 1})


def test_delete_region():
    s = apply_action(state(region("a"), region("b")), "delete_region", {"region_id": "a"}).state
    assert [r["id"] for r in s.regions] == ["b"]


def test_set_effect_type_is_validated():
    out = apply_action(state(), "set_effect_type", None, {"effect_type": "brightness_boost"})
    assert out.state.effect_type == EffectType.BRIGHTNESS_BOOST
    with pytest.raises(BadRequest, match="effect type"):
        apply_action(state(), "set_effect_type", None, {"effect_type": "sparkles"})
    with pytest.raises(Unprocessable):
        apply_action(state(), "set_effect_type", None, {"effect_type": 3})


@pytest.mark.parametrize("action,target,data", [
    ("add_keyframe", {"region_id": "r1"}, {**kf(1.0), "x": "left"}),
    ("add_keyframe", {"region_id": 5}, kf(1.0)),
    ("toggle_region", {"region_id": "r1"}, {"enabled": "yes"}),
    ("update_region", {"region_id": "r1"}, {"start_time": "0"}),
    ("delete_keyframe", {"region_id": "r1", "keyframe_time": [1]}, None),
])
def test_wrong_types_are_unprocessable(action, target, data):
    with pytest.raises(Unprocessable):
        apply_action(state(region()), action, target, data)


@pytest.mark.parametrize("action,target,data", [
    ("add_keyframe", {"region_id": "r1"}, {"x": 1, "y": 1, "radiusX": 1, "radiusY": 1}),
    ("add_keyframe", {"region_id": "r1"}, {**kf(-1.0)}),
    ("delete_region", {}, None),
    ("update_region", {"region_id": "r1"}, {}),
])
def test_missing_or_invalid_values_are_bad_requests(action, target, data):
    with pytest.raises(BadRequest):
        apply_action(state(region()), action, target, data)


@given(st.text(min_size=1, max_size=20).filter(lambda a: a not in set(OverlayAction)))
def test_unknown_actions_are_rejected(action):
    with pytest.raises(BadRequest, match="Unknown overlay action"):
        apply_action(state(region()), action, {"region_id": "r1"}, {})


# -- properties ------------------------------------------------------------------------------

times = st.floats(min_value=0, max_value=20, allow_nan=False).map(lambda t: round(t, 3))
gesture = st.one_of(
    st.tuples(st.just("add_keyframe"), times),
    st.tuples(st.just("delete_keyframe"), times),
    st.tuples(st.just("update_keyframe"), times),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(gesture, max_size=40), st.sampled_from(["r1", "fresh"]))
def test_keyframes_stay_sorted_and_unique_within_tolerance(gestures, rid):
    s = state(region("r1", 0.0, 20.0))
    for action, t in gestures:
        target = {"region_id": rid, "keyframe_time": t}
        try:
            s = apply_action(s, action, target, kf(t) if action == "add_keyframe"
                             else {"y": t}).state
        except NotFound:
            assert action == "update_keyframe"
    for r in s.regions:
        times_ = [keyframe_time(k) for k in r["keyframes"]]
        assert times_ == sorted(times_)
        assert all(b - a > KEYFRAME_TOLERANCE for a, b in zip(times_, times_[1:], strict=False))
        assert all(k["frame"] == editor_frame(k["time"]) for k in r["keyframes"])
        assert r["start_time"] <= min(times_, default=r["start_time"])


# -- the unit of work: versions ----------------------------------------------------------------

def project_db():
    """A fresh database: project 1 with working video 1 (810x1440)."""
    c = open_image(None)
    c.execute("INSERT INTO projects (id, name) VALUES (1, 'P')")
    c.execute("INSERT INTO working_videos (id, project_id, filename, width, height)"
              " VALUES (1, 1, 'w.mp4', 810, 1440)")
    c.execute("UPDATE projects SET working_video_id = 1 WHERE id = 1")
    return c


@pytest.fixture
def conn():
    c = project_db()
    yield c
    c.close()


actions = st.sampled_from([
    ("add_keyframe", {"region_id": "r1"}, kf(0.5)),
    ("delete_keyframe", {"region_id": "r1", "keyframe_time": 0.5}, None),
    ("toggle_region", {"region_id": "r2"}, {"enabled": False}),
    ("update_region", {"region_id": "r2"}, {"end_time": 9.0}),
    ("delete_region", {"region_id": "r2"}, None),
    ("set_effect_type", None, {"effect_type": "dark_overlay"}),
    ("set_effect_type", None, {"effect_type": "glitter"}),
    ("bogus", None, None),
])


@settings(max_examples=60, deadline=None)
@given(st.lists(actions, min_size=1, max_size=15))
def test_version_strictly_increases_with_every_successful_action(sequence):
    conn = project_db()
    version = conn.execute("SELECT overlay_version FROM working_videos").fetchone()[0]
    for action, target, data in sequence:
        try:
            result = apply_overlay_action(conn, 1, action, target, data)
        except BadRequest:
            assert conn.execute("SELECT overlay_version FROM working_videos").fetchone()[0] \
                == version
            continue
        assert result["success"] is True and result["version"] == version + 1
        version = result["version"]
    stored = json.loads(conn.execute("SELECT highlights_data FROM working_videos").fetchone()[0]
                        or "[]")
    assert read_overlay_data(conn, 1).regions == normalize_regions(stored)


def test_action_on_project_without_working_video_is_not_found(conn):
    conn.execute("INSERT INTO projects (id, name) VALUES (2, 'Q')")
    with pytest.raises(NotFound):
        apply_overlay_action(conn, 2, "add_keyframe", {"region_id": "r"}, kf(1))
    with pytest.raises(NotFound):
        apply_overlay_action(conn, 3, "add_keyframe", {"region_id": "r"}, kf(1))
    assert read_overlay_data(conn, 2).as_response() == {
        "has_data": False, "highlights_data": [], "effect_type": "original",
        "text_overlays": [], "version": 0}
