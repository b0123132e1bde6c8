"""The 9 Framing gestures as pure reducers: examples per gesture, then properties."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.errors import BadRequest
from lib.framing.actions import apply_action
from lib.framing.state import (
    comparable,
    normalize_crop,
    normalize_segments,
    parse_json_text,
    sync_timing,
)
from lib.models import FramingAction


def kf(frame, x=0, origin="user", **kw):
    return {"frame": frame, "x": x, "y": 0, "width": 608, "height": 1080, "origin": origin, **kw}


BASE_CROP = [kf(0, origin="permanent"), kf(450, origin="permanent")]
BASE_SEG = {"boundaries": [0, 6.5, 15], "segmentSpeeds": {"1": 0.5}, "trimRange": None}


def act(action, target=None, data=None, crop=BASE_CROP, seg=BASE_SEG):
    return apply_action(crop, seg, {"action": action, "target": target, "data": data})


# -- crop --------------------------------------------------------------------------------------

def test_add_crop_keyframe_inserts_sorted_and_upserts_by_frame():
    crop, seg = act("add_crop_keyframe", data={**kf(90, x=5), "origin": "user"})
    assert [k["frame"] for k in crop] == [0, 90, 450]
    assert crop[1]["x"] == 5 and crop[1]["origin"] == "user"
    assert seg == BASE_SEG
    crop2, _ = apply_action(crop, seg, {"action": "add_crop_keyframe", "data": kf(90, x=7)})
    assert [k["frame"] for k in crop2] == [0, 90, 450] and crop2[1]["x"] == 7


def test_add_on_a_permanent_frame_keeps_it_permanent():
    crop, _ = act("add_crop_keyframe", data=kf(0, x=99, origin="user"))
    assert crop[0] == kf(0, x=99, origin="permanent")


def test_add_crop_keyframe_needs_numbers():
    with pytest.raises(BadRequest):
        act("add_crop_keyframe", data={"frame": 3, "x": "a", "y": 0, "width": 1, "height": 1})
    with pytest.raises(BadRequest):
        act("add_crop_keyframe", data={"frame": -1, "x": 0, "y": 0, "width": 1, "height": 1})
    with pytest.raises(BadRequest):
        act("add_crop_keyframe", data={**kf(3), "origin": "magic"})


def test_update_crop_keyframe():
    crop, _ = act("update_crop_keyframe", target={"frame": 450}, data={"x": 12, "origin": "user"})
    assert crop[1]["x"] == 12 and crop[1]["origin"] == "permanent"
    with pytest.raises(BadRequest):
        act("update_crop_keyframe", target={"frame": 7}, data={"x": 1})


def test_delete_crop_keyframe_refuses_permanent_and_ignores_missing():
    crop = [*BASE_CROP[:1], kf(30), BASE_CROP[1]]
    out, _ = act("delete_crop_keyframe", target={"frame": 30}, crop=crop)
    assert out == BASE_CROP
    again, _ = act("delete_crop_keyframe", target={"frame": 30}, crop=out)
    assert again == BASE_CROP
    with pytest.raises(BadRequest, match="Permanent"):
        act("delete_crop_keyframe", target={"frame": 0})


def test_move_crop_keyframe():
    crop = [*BASE_CROP[:1], kf(30, x=3), BASE_CROP[1]]
    out, _ = act("move_crop_keyframe", target={"frame": 30}, data={"frame": 60, "x": 4}, crop=crop)
    assert [k["frame"] for k in out] == [0, 60, 450] and out[1]["x"] == 4
    with pytest.raises(BadRequest):
        act("move_crop_keyframe", target={"frame": 0}, data={"frame": 5})
    with pytest.raises(BadRequest):
        act("move_crop_keyframe", target={"frame": 30}, data={"frame": 450}, crop=crop)
    with pytest.raises(BadRequest):
        act("move_crop_keyframe", target={"frame": 31}, data={"frame": 5}, crop=crop)


# -- segments ----------------------------------------------------------------------------------

def test_split_segment_adds_a_boundary_and_keeps_speeds():
    _, seg = act("split_segment", data={"time": 10.0})
    assert seg["boundaries"] == [0, 6.5, 10.0, 15]
    assert seg["segmentSpeeds"] == {"1": 0.5}
    _, same = act("split_segment", data={"time": 6.505})
    assert same["boundaries"] == [0, 6.5, 15]
    with pytest.raises(BadRequest):
        act("split_segment", data={"time": 20.0})
    with pytest.raises(BadRequest, match="no segment boundaries"):
        act("split_segment", data={"time": 2.0}, seg=None)


def test_remove_segment_split_like_the_client():
    seg = {"boundaries": [0, 4, 6.5, 15], "segmentSpeeds": {"0": 1, "2": 0.5},
           "trimRange": {"start": 6.5, "end": 15}}
    _, out = act("remove_segment_split", data={"time": 6.495}, seg=seg)
    assert out["boundaries"] == [0, 4, 15]
    assert out["segmentSpeeds"] == {"0": 1, "2": 0.5}  # indices not shifted
    assert out["trimRange"] is None  # it was a trim edge
    _, kept = act("remove_segment_split", data={"time": 4.0}, seg=seg)
    assert kept["boundaries"] == [0, 6.5, 15] and kept["trimRange"] == {"start": 6.5, "end": 15}
    _, nothing = act("remove_segment_split", data={"time": 5.0}, seg=seg)
    assert nothing["boundaries"] == seg["boundaries"]
    _, edge = act("remove_segment_split", data={"time": 15}, seg=seg)
    assert edge["boundaries"] == seg["boundaries"]  # the clip's ends are not splits


def test_set_segment_speed_uses_string_keys():
    _, seg = act("set_segment_speed", target={"segment_index": 0}, data={"speed": 0.5})
    assert seg["segmentSpeeds"] == {"0": 0.5, "1": 0.5}
    with pytest.raises(BadRequest):
        act("set_segment_speed", target={"segment_index": 2}, data={"speed": 0.5})
    with pytest.raises(BadRequest):
        act("set_segment_speed", target={"segment_index": 0}, data={"speed": 0})
    with pytest.raises(BadRequest):
        act("set_segment_speed", data={"speed": 1})


def test_trim_range_is_an_object_or_null():
    _, seg = act("set_trim_range", data={"start": 1.2, "end": 15})
    assert seg["trimRange"] == {"start": 1.2, "end": 15}
    _, cleared = apply_action(BASE_CROP, seg, {"action": "clear_trim_range"})
    assert cleared["trimRange"] is None
    with pytest.raises(BadRequest):
        act("set_trim_range", data={"start": 5, "end": 5})
    _, on_empty = act("set_trim_range", data={"start": 0, "end": 3}, seg=None)
    assert on_empty["trimRange"] == {"start": 0, "end": 3}


def test_unknown_action_and_bad_payloads():
    with pytest.raises(BadRequest, match="Unknown framing action"):
        act("explode")
    with pytest.raises(BadRequest):
        apply_action([], None, {"action": "split_segment", "data": [1]})


def test_normalization_and_comparison():
    seg = normalize_segments({"segmentSpeeds": {1: 0.5}, "trimRange": [1, 2]})
    assert seg == {"segmentSpeeds": {"1": 0.5}, "trimRange": {"start": 1, "end": 2}}
    assert normalize_crop([kf(30.0), kf(0, x=1), kf(30, x=2)]) == [kf(0, x=1), kf(30, x=2)]
    assert parse_json_text(' null ', "x") is None
    for bad in ("{nope", '[{"frame": 0, "x": NaN}]', "[1, 2"):
        with pytest.raises(BadRequest):
            parse_json_text(bad, "crop_data")
    assert comparable(None, None, None) == comparable([], {}, {"trimRange": None})
    assert comparable([kf(0, x=1)], None, None) != comparable([kf(0, x=1.5)], None, None)
    assert sync_timing(None, {"trimRange": {"start": 1, "end": 2}}) == {
        "trimRange": {"start": 1, "end": 2}}


# -- properties ----------------------------------------------------------------------------------

frames = st.integers(min_value=0, max_value=600)
coords = st.floats(min_value=0, max_value=1920, allow_nan=False)
times = st.floats(min_value=0, max_value=20, allow_nan=False).map(lambda t: round(t, 3))
origins = st.sampled_from(["user", "trim", "permanent"])


@st.composite
def keyframe_data(draw, origin=st.sampled_from(["user", "trim"])):
    return {"frame": draw(frames), "x": draw(coords), "y": draw(coords),
            "width": draw(coords), "height": draw(coords), "origin": draw(origin)}


@st.composite
def actions(draw):
    name = draw(st.sampled_from(list(FramingAction)))
    if name in (FramingAction.ADD_CROP_KEYFRAME,):
        return {"action": name.value, "data": draw(keyframe_data())}
    if name in (FramingAction.UPDATE_CROP_KEYFRAME, FramingAction.DELETE_CROP_KEYFRAME):
        return {"action": name.value, "target": {"frame": draw(frames)},
                "data": {"x": draw(coords)}}
    if name is FramingAction.MOVE_CROP_KEYFRAME:
        return {"action": name.value, "target": {"frame": draw(frames)},
                "data": {"frame": draw(frames)}}
    if name in (FramingAction.SPLIT_SEGMENT, FramingAction.REMOVE_SEGMENT_SPLIT):
        return {"action": name.value, "data": {"time": draw(times)}}
    if name is FramingAction.SET_SEGMENT_SPEED:
        return {"action": name.value, "target": {"segment_index": draw(st.integers(0, 6))},
                "data": {"speed": draw(st.sampled_from([0.5, 1, 2]))}}
    if name is FramingAction.SET_TRIM_RANGE:
        start = draw(times)
        return {"action": name.value, "data": {"start": start, "end": start + draw(
            st.floats(min_value=0.1, max_value=10, allow_nan=False))}}
    return {"action": name.value}


@st.composite
def initial_state(draw):
    crop = [dict(kf(0, origin="permanent")), dict(kf(450, origin="permanent"))]
    for data in draw(st.lists(keyframe_data(), max_size=5)):
        if data["frame"] not in (0, 450):
            crop.append(data)
    inner = sorted(set(draw(st.lists(st.floats(min_value=0.5, max_value=19.5), max_size=3))))
    seg = {"boundaries": [0, *inner, 20], "segmentSpeeds": {}, "trimRange": None}
    return normalize_crop(crop), seg


def check_invariants(crop, seg, permanent_frames):
    frames_now = [k["frame"] for k in crop]
    assert frames_now == sorted(set(frames_now)), "keyframes sorted and unique by frame"
    assert all(isinstance(f, int) for f in frames_now)
    assert {k["frame"] for k in crop if k["origin"] == "permanent"} == permanent_frames
    if seg is not None:
        assert all(isinstance(k, str) for k in seg.get("segmentSpeeds", {}))
        trim = seg.get("trimRange")
        assert trim is None or (set(trim) == {"start", "end"} and trim["start"] < trim["end"])
        boundaries = seg.get("boundaries", [])
        assert boundaries == sorted(boundaries)
        assert boundaries[0] == 0 and boundaries[-1] == 20, "the clip's ends stay"


@settings(max_examples=150, deadline=None)
@given(initial_state(), st.lists(actions(), min_size=1, max_size=25))
def test_any_gesture_sequence_keeps_the_framing_state_well_formed(state, sequence):
    crop, seg = state
    permanent = {k["frame"] for k in crop if k["origin"] == "permanent"}
    for action in sequence:
        before = copy.deepcopy((crop, seg))
        try:
            new_crop, new_seg = apply_action(crop, seg, action)
        except BadRequest:
            assert (crop, seg) == before  # a refused gesture changes nothing
            continue
        assert (crop, seg) == before, "reducers are pure"
        crop, seg = new_crop, new_seg
        check_invariants(crop, seg, permanent)


@settings(max_examples=100, deadline=None)
@given(initial_state(), st.sampled_from([0, 450]))
def test_permanent_keyframes_survive_deletes_and_moves(state, frame):
    crop, seg = state
    for action in ({"action": "delete_crop_keyframe", "target": {"frame": frame}},
                   {"action": "move_crop_keyframe", "target": {"frame": frame},
                    "data": {"frame": 200}}):
        with pytest.raises(BadRequest):
            apply_action(crop, seg, action)
    assert any(k["frame"] == frame and k["origin"] == "permanent" for k in crop)


@settings(max_examples=100, deadline=None)
@given(initial_state(), times)
def test_split_then_remove_restores_boundaries(state, time):
    crop, seg = state
    try:
        _, split = apply_action(crop, seg, {"action": "split_segment", "data": {"time": time}})
    except BadRequest:
        return
    added = [b for b in split["boundaries"] if b not in seg["boundaries"]]
    if not added:
        return
    _, back = apply_action(crop, split, {"action": "remove_segment_split",
                                         "data": {"time": added[0]}})
    assert back["boundaries"] == seg["boundaries"]
