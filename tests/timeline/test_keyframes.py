"""lib.timeline.keyframes: the editor's interpolation (media.md §1-2) and highlight regions (§4)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.timeline.keyframes import (
    CROP_PROPS,
    CropTrack,
    KeyframeError,
    KeyframeTrack,
    active_region,
    active_spans,
    catmull_rom,
    clamp_crop,
    crop_at,
    default_ellipse,
    highlight_at,
    interpolate,
    keyframe_frame,
    parse_regions,
)

coord = st.floats(min_value=-500, max_value=2000, allow_nan=False)


def kf(frame, **values):
    return {"frame": frame, **values}


def test_frame_from_frame_or_time():
    assert keyframe_frame({"frame": 12, "time": 9.0}) == 12
    assert keyframe_frame({"time": 0.51}) == 15  # round(0.51 * 30)
    with pytest.raises(KeyframeError):
        keyframe_frame({"x": 1})


def test_none_one_and_hold_at_ends():
    assert interpolate([], 5, ("x",)) is None
    assert interpolate([kf(10, x=7)], 0, ("x",)) == {"x": 7.0}
    frames = [kf(10, x=1), kf(20, x=5), kf(30, x=2)]
    assert interpolate(frames, -4, ("x",)) == {"x": 1.0}
    assert interpolate(frames, 10, ("x",)) == {"x": 1.0}
    assert interpolate(frames, 31.5, ("x",)) == {"x": 2.0}


def test_uniform_catmull_rom_values():
    frames = [kf(0, x=0), kf(10, x=10), kf(20, x=20), kf(30, x=30)]
    # Interior segment of evenly spaced linear data is linear.
    assert interpolate(frames, 15, ("x",))["x"] == pytest.approx(15.0)
    # First segment: p0 clamps to p1 -> 0.5 * (10 * 0.5 + 20 * 0.25 - 10 * 0.125).
    assert interpolate(frames, 5, ("x",))["x"] == pytest.approx(4.375)
    assert catmull_rom(0, 0, 10, 20, 0.5) == pytest.approx(4.375)
    # Unsorted input is sorted by frame; time-only keyframes use round(time * 30).
    shuffled = [{"time": 1.0, "x": 30}, kf(0, x=0), {"time": 1 / 3, "x": 10}, kf(20, x=20)]
    assert interpolate(shuffled, 15, ("x",))["x"] == pytest.approx(15.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 600), coord), min_size=1, max_size=8,
                unique_by=lambda t: t[0]))
def test_passes_through_keyframes_and_holds(points):
    frames = [kf(f, x=v) for f, v in points]
    track = KeyframeTrack(frames, ("x",))
    for f, v in points:
        assert track.at(f)["x"] == pytest.approx(v, abs=1e-6)
    first = min(points)
    last = max(points)
    assert track.at(first[0] - 7.5)["x"] == pytest.approx(first[1])
    assert track.at(last[0] + 7.5)["x"] == pytest.approx(last[1])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 600), coord), min_size=2, max_size=8,
                unique_by=lambda t: t[0]), st.floats(0, 1))
def test_continuous_between_keyframes(points, u):
    points.sort()
    track = KeyframeTrack([kf(f, x=v) for f, v in points], ("x",))
    (f1, _), (f2, v2) = points[0], points[1]
    assert track.at(f2 - 1e-7)["x"] == pytest.approx(v2, abs=1e-3)
    mid = track.at(f1 + u * (f2 - f1))["x"]
    span = max(abs(v) for _, v in points)
    assert abs(mid) <= 2 * span + 1e-6  # Catmull-Rom overshoot is bounded


def test_crop_clamped_inside_source():
    box = clamp_crop({"x": -30, "y": 900, "width": 608, "height": 1080}, 1920, 1080)
    assert (box.x, box.y, box.width, box.height) == (0, 0, 608, 1080)
    box = clamp_crop({"x": 1500, "y": 0, "width": 608, "height": 1200}, 1920, 1080)
    assert (box.x, box.height) == (1920 - 608, 1080)
    assert clamp_crop({"x": 5, "y": 5, "width": 0.5, "height": 1}, 100, 100).width == 2


def test_crop_track_samples_seconds_in_editor_ticks():
    frames = [kf(0, x=0, y=0, width=100, height=200), kf(60, x=200, y=0, width=100, height=200)]
    assert crop_at(frames, 1.0, 640, 360).x == pytest.approx(100.0)  # t=1 s -> frame 30
    assert CropTrack([], 1920, 1080).at(3).width == 1920
    centred = CropTrack([], 1920, 1080, default_aspect=9 / 16).at(0)
    assert centred.height == 1080 and centred.width == pytest.approx(607.5)
    assert centred.x == pytest.approx((1920 - 607.5) / 2)


@pytest.mark.parametrize("bad", [
    {"x": 2000, "y": 0, "width": 100, "height": 100},
    {"x": -300, "y": 0, "width": 100, "height": 100},
    {"x": 0, "y": 0, "width": 0, "height": 100},
])
def test_crop_keyframe_outside_frame_is_an_error(bad):
    with pytest.raises(KeyframeError, match="keyframe"):
        CropTrack([kf(0, **bad)], 1920, 1080)


def test_crop_keyframe_missing_property():
    with pytest.raises(KeyframeError):
        KeyframeTrack([kf(0, x=1, y=2)], CROP_PROPS)


def test_highlight_colour_from_p1_and_opacity_clamped():
    frames = [
        kf(0, x=0, y=0, radiusX=10, radiusY=20, opacity=1.4, color="#FF0000"),
        kf(30, x=30, y=0, radiusX=10, radiusY=20, opacity=-0.5, color="#00FF00"),
    ]
    mid = highlight_at(frames, 0.5)
    assert mid.color == "#FF0000" and mid.x == pytest.approx(15.0)
    assert 0.0 <= mid.opacity <= 1.0
    assert highlight_at(frames, 0.0).opacity == 1.0
    assert highlight_at(frames, 5.0).color == "#00FF00" and highlight_at(frames, 5).opacity == 0
    assert highlight_at([], 1.0) is None


def test_regions_active_default_and_scaling():
    regions = parse_regions([
        {"id": "off", "start_time": 0, "end_time": 10, "enabled": False, "keyframes": []},
        {"id": "a", "startTime": 9, "start_time": 1, "end_time": 3, "keyframes": []},
        {"id": "b", "startTime": 2, "endTime": 5, "videoWidth": 405, "videoHeight": 720,
         "keyframes": [{"time": 0, "x": 100, "y": 200, "radiusX": 10, "radiusY": 20,
                        "opacity": 0.5, "color": "#00FF00"}]},
    ])
    assert active_region(regions, 0.5) is None  # the disabled region never renders
    assert active_region(regions, 2.5).id == "a"  # first enabled wins; snake_case wins
    assert active_region(regions, 4).id == "b"
    assert active_region(regions, 5.01) is None
    ellipse = regions[2].ellipse_at(4, 810, 1440)
    assert (ellipse.x, ellipse.y, ellipse.radius_x, ellipse.radius_y) == (200, 400, 20, 40)
    default = regions[1].ellipse_at(2, 810, 1440)
    assert default == default_ellipse(810, 1440)
    assert (default.x, default.y, default.radius_x, default.radius_y) == (405, 720, 86, 173)
    assert default.opacity == 0.15 and default.color == "#FFFF00"
    assert active_spans(regions) == [(1.0, 5.0)]


def test_region_keyframe_outside_frame_is_an_error():
    region = parse_regions([{"id": "r", "start_time": 0, "end_time": 1, "keyframes": [
        {"frame": 0, "x": 5000, "y": 10, "radiusX": 10, "radiusY": 10, "opacity": 1}]}])[0]
    with pytest.raises(KeyframeError, match="outside"):
        region.validate(810, 1440)
    with pytest.raises(KeyframeError):
        parse_regions([{"id": "r", "keyframes": []}])
