"""The virtual camera (lib.vision.camera_path): bounds, dead zone, trim/speed, keyframe fit."""

from __future__ import annotations

import numpy as np

from lib.timeline.keyframes import CROP_PROPS, EDITOR_FPS, KeyframeTrack
from lib.timeline.segments import parse_segments
from lib.vision.camera_path import PathLimits, crop_path

W, H = 1920, 1080
LIMITS = PathLimits()


def curve(keyframes: list[dict], ticks: np.ndarray) -> np.ndarray:
    """The editor's curve (x of the crop) at the given ticks."""
    track = KeyframeTrack(keyframes, CROP_PROPS)
    return np.array([track.at(float(t))["x"] for t in ticks])


def test_still_player_gives_a_still_crop():
    t = np.arange(0, 6, 1 / 30)
    jitter = np.random.default_rng(1).normal(0, 6, len(t))  # detector noise, inside the dead zone
    centres = np.column_stack([700 + jitter, 540 + jitter])
    path = crop_path(t, centres, W, H, parse_segments(None, 6.0))
    assert len(path.keyframes) == 2
    assert path.keyframes[0]["x"] == path.keyframes[1]["x"]
    assert abs(path.keyframes[0]["x"] + path.width / 2 - 700) < 0.08 * path.width + 1
    assert [k["origin"] for k in path.keyframes] == ["permanent", "permanent"]


def test_bounds_hold_on_the_keyframe_curve_and_player_stays_central():
    t = np.arange(0, 10, 1 / 30)
    x = 960 + 650 * np.sin(0.7 * t) * np.minimum(1, t / 2)  # sweeps the whole frame
    path = crop_path(t, np.column_stack([x, np.full_like(t, 540)]), W, H,
                     parse_segments(None, 10.0))
    fine = np.arange(0, 300.001, 0.5)
    cx = curve(path.keyframes, fine)
    dt = 0.5 / EDITOR_FPS
    speed = np.abs(np.diff(cx)) / dt
    assert speed.max() <= LIMITS.max_speed * path.width
    # acceleration as a camera shows it: change of the mean velocity over 1/10 s
    v = (cx[6:] - cx[:-6]) / (6 * dt)
    accel = np.abs(v[6:] - v[:-6]) / (6 * dt)
    assert accel.max() <= LIMITS.max_accel * path.width
    # within the frame, within the fit tolerance of the smoothed path, player central
    assert cx.min() >= -0.5 and cx.max() + path.width <= W + 0.5
    on_ticks = curve(path.keyframes, path.ticks)
    assert np.abs(on_ticks - path.corners[:, 0]).max() <= LIMITS.tolerance_px
    offset = np.abs(np.interp(path.ticks / EDITOR_FPS, t, x) - (on_ticks + path.width / 2))
    assert np.mean(offset <= 0.3 * path.width) >= 0.95
    assert len(path.keyframes) <= 2.5 * 10  # a fast sweep; the scenes' goal is checked elsewhere


def test_look_ahead_moves_before_the_player():
    t = np.arange(0, 6, 1 / 30)
    x = np.where(t < 3, 600.0, 600.0 + 400 * np.minimum(1, (t - 3) / 1.0))
    path = crop_path(t, np.column_stack([x, np.full_like(t, 540)]), W, H,
                     parse_segments(None, 6.0))
    cx = curve(path.keyframes, path.ticks) + path.width / 2
    start_player = 3.0
    moving = path.ticks[np.abs(cx - cx[0]) > 2] / EDITOR_FPS
    assert moving[0] < start_player  # offline: the camera anticipates


def test_trim_and_speed_keep_keyframes_inside_the_trim_and_bounds_in_working_time():
    segments = {"boundaries": [0, 3, 8], "segmentSpeeds": {"1": 2.0},
                "trimRange": {"start": 1.0, "end": 7.0}}
    plan = parse_segments(segments, 8.0)
    t = np.arange(0, 8, 1 / 30)
    x = 400 + 150 * t
    path = crop_path(t, np.column_stack([x, np.full_like(t, 540)]), W, H, plan,
                     source_duration=8.0)
    frames = [k["frame"] for k in path.keyframes]
    assert min(frames) >= 30 and max(frames) <= 210
    assert [path.keyframes[0]["origin"], path.keyframes[-1]["origin"]] == ["trim", "trim"]
    # velocity seen in the working video (the 2x part plays twice as fast) stays bounded
    ticks = np.arange(frames[0], frames[-1] + 1)
    cx = curve(path.keyframes, ticks)
    working = np.array([plan.to_working(f / EDITOR_FPS) for f in ticks])
    speed = np.abs(np.diff(cx)) / np.maximum(np.diff(working), 1e-9)
    assert speed.max() <= LIMITS.max_speed * path.width * 1.02


def test_portrait_source_moves_vertically():
    t = np.arange(0, 4, 1 / 30)
    y = 300 + 250 * t
    path = crop_path(t, np.column_stack([np.full_like(t, 540), y]), 1080, 1920,
                     parse_segments(None, 4.0), aspect=1.0)
    ys = [k["y"] for k in path.keyframes]
    assert path.width == path.height == 1080
    assert ys[-1] > ys[0] + 500 and min(ys) >= -0.5 and max(ys) <= 1920 - 1080 + 0.5
