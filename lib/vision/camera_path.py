"""A virtual camera operator: the player's centre over time → a smooth 9:16 crop path → the
fewest crop keyframes that reproduce it (spec/media.md §6b).

The path is computed in WORKING time (after trim and speed segments), because that is the time
the viewer sees: a 2x segment would otherwise show the camera moving twice as fast as allowed.
Steps, per axis:
1. dead zone: the aim point moves only when the player leaves a band around it (backlash);
2. zero-phase Gaussian smoothing and a look-ahead shift (offline: the camera may start moving
   before the player does);
3. a time-optimal follower with bounded velocity and acceleration (braking curve), aiming at the
   look-ahead target clamped so the crop stays inside the frame.
Keyframes are then placed in editor ticks of SOURCE time (what crop keyframes are) by greedy
insertion at the worst-fitted tick of the editor's own Catmull-Rom curve (lib.timeline.keyframes),
followed by a removal pass, until the curve stays within `tolerance_px` of the path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lib.models import CropKeyframeOrigin
from lib.timeline.keyframes import EDITOR_FPS, KeyframeTrack, centered_crop
from lib.timeline.segments import SegmentPlan

PORTRAIT = 9 / 16


@dataclass(frozen=True)
class PathLimits:
    """Camera behaviour; lengths are fractions of the crop's width, times in seconds."""

    dead_zone: float = 0.12  # half-width of the band the player moves in without camera motion
    max_speed: float = 1.5  # crop widths per second
    max_accel: float = 3.0  # crop widths per second²
    look_ahead: float = 0.3  # seconds the aim point leads the player
    smoothing: float = 0.45  # Gaussian sigma, seconds
    tolerance_px: float = 4.0  # keyframe curve vs smoothed path, source pixels
    # The follower runs at this share of the bounds, so the keyframe curve (which may deviate by
    # `tolerance_px`) still keeps to them.
    headroom: float = 0.8


@dataclass(frozen=True)
class CameraPath:
    """Crop top-left corners per source tick (the keyframes' time base) and the keyframes."""

    ticks: np.ndarray  # int editor ticks (source time * 30), inside the trim
    corners: np.ndarray  # (len(ticks), 2) crop x, y (top-left), source pixels
    width: float
    height: float
    keyframes: list[dict]


def crop_size(frame_w: int, frame_h: int, aspect: float = PORTRAIT) -> tuple[float, float]:
    """The largest box of `aspect` (w/h) in the frame: the crop the editor starts with."""
    box = centered_crop(frame_w, frame_h, aspect)
    return box.width, box.height


def gaussian_blur(values: np.ndarray, sigma_samples: float) -> np.ndarray:
    if sigma_samples < 0.5 or len(values) < 3:
        return values.copy()
    radius = int(math.ceil(3 * sigma_samples))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_samples) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(values, radius, mode="edge")
    return np.convolve(padded, kernel, mode="valid")


def _dead_zone(values: np.ndarray, half_band: float) -> np.ndarray:
    out = np.empty_like(values)
    aim = values[0]
    for i, v in enumerate(values):
        aim = min(max(aim, v - half_band), v + half_band)
        out[i] = aim
    return out


def follow_axis(target: np.ndarray, dt: float, max_speed: float, max_accel: float,
                start: float | None = None) -> np.ndarray:
    """Time-optimal follower: at each step the velocity that could still brake to the target
    (sqrt(2·a·|e|), linear near zero so it settles), limited by the speed and accel bounds."""
    out = np.empty_like(target)
    c = float(target[0] if start is None else start)
    v = 0.0
    gain = 4.0  # 1/s: the linear region near the target (no chatter when it is still)
    dv_max = max_accel * dt
    for i, goal in enumerate(target):
        e = float(goal) - c
        want = math.copysign(min(max_speed, math.sqrt(2 * max_accel * abs(e)), gain * abs(e)), e)
        v += min(max(want - v, -dv_max), dv_max)
        c += v * dt
        out[i] = c
    return out


def smooth_axis(centres: np.ndarray, dt: float, crop_len: float, lo: float, hi: float,
                limits: PathLimits) -> np.ndarray:
    """Crop-centre path for one axis, sampled every dt seconds of working time."""
    if hi <= lo:  # the crop spans this axis: nothing to move
        return np.full_like(centres, lo)
    aim = _dead_zone(centres, limits.dead_zone * crop_len)
    aim = gaussian_blur(aim, limits.smoothing / dt)
    shift = int(round(limits.look_ahead / dt))
    if shift:
        aim = np.concatenate([aim[shift:], np.full(min(shift, len(aim)), aim[-1])])[: len(aim)]
    aim = np.clip(aim, lo, hi)
    k = limits.headroom
    path = follow_axis(aim, dt, k * limits.max_speed * crop_len, k * limits.max_accel * crop_len)
    # A final zero-phase blur: never raises |velocity| or |acceleration| (a convex combination
    # of the path's), rounds the follower's bang-bang corners so few keyframes fit the path.
    return np.clip(gaussian_blur(path, limits.smoothing / dt), lo, hi)


def working_grid(plan: SegmentPlan, rate: float = EDITOR_FPS) -> np.ndarray:
    """Working times at `rate` Hz covering the rendered clip."""
    n = max(2, int(math.ceil(plan.duration * rate)) + 1)
    return np.minimum(np.arange(n) / rate, plan.duration)


def crop_path(times: Sequence[float], centres: np.ndarray, frame_w: int, frame_h: int,
              plan: SegmentPlan, limits: PathLimits = PathLimits(),
              aspect: float = PORTRAIT, source_duration: float | None = None) -> CameraPath:
    """The smoothed 9:16 crop for a player whose centre (x, y) in source pixels is known at
    source times `times` (increasing), and the fewest keyframes reproducing it."""
    t_src = np.asarray(times, float)
    centres = np.asarray(centres, float).reshape(-1, 2)
    if len(t_src) == 0 or len(t_src) != len(centres):
        raise ValueError("crop_path needs one centre per time.")
    width, height = crop_size(frame_w, frame_h, aspect)
    dt = 1.0 / EDITOR_FPS
    grid = working_grid(plan)
    src_of_grid = np.array([plan.to_source(float(t)) for t in grid])
    px = np.interp(src_of_grid, t_src, centres[:, 0])
    py = np.interp(src_of_grid, t_src, centres[:, 1])
    cx = smooth_axis(px, dt, width, width / 2, frame_w - width / 2, limits)
    cy = smooth_axis(py, dt, width, height / 2, frame_h - height / 2, limits)
    # Back to source ticks: each tick inside the trim takes the path at its working time.
    first = int(math.ceil(plan.source_start * EDITOR_FPS - 1e-9))
    last = int(math.floor(plan.source_end * EDITOR_FPS + 1e-9))
    ticks = np.arange(first, max(first, last) + 1)
    working = np.array([plan.to_working(t / EDITOR_FPS) or 0.0 for t in ticks])
    corners = np.column_stack([np.interp(working, grid, cx) - width / 2,
                               np.interp(working, grid, cy) - height / 2])
    keyframes = fit_keyframes(ticks, corners, width, height, limits.tolerance_px)
    # Edge keyframes at the clip's own start/end are the editor's permanent ones; at a trim
    # edge they are trim keyframes.
    end = source_duration if source_duration is not None else plan.source_end
    if keyframes[0]["frame"] > 0:
        keyframes[0]["origin"] = CropKeyframeOrigin.TRIM.value
    if len(keyframes) > 1 and keyframes[-1]["frame"] < math.floor(end * EDITOR_FPS + 1e-9):
        keyframes[-1]["origin"] = CropKeyframeOrigin.TRIM.value
    return CameraPath(ticks, corners, width, height, keyframes)


def _keyframe(tick: int, corner: np.ndarray, width: float, height: float, origin: str) -> dict:
    return {"frame": int(tick), "x": round(float(corner[0]), 2), "y": round(float(corner[1]), 2),
            "width": round(width, 2), "height": round(height, 2), "origin": origin}


def curve_basis(ticks: np.ndarray, key_ticks: Sequence[int]) -> np.ndarray:
    """(len(ticks), len(key_ticks)): the editor's curve is linear in the keyframe values, so
    column j is the curve through a unit value at key j; evaluated by KeyframeTrack itself."""
    props = tuple(f"k{j}" for j in range(len(key_ticks)))
    keys = [{"frame": int(f), **{p: float(i == j) for j, p in enumerate(props)}}
            for i, f in enumerate(key_ticks)]
    track = KeyframeTrack(keys, props)
    return np.array([[row[p] for p in props] for row in (track.at(float(t)) for t in ticks)])


def _fit_values(basis: np.ndarray, corners: np.ndarray, tolerance_px: float
                ) -> tuple[np.ndarray, float]:
    """Keyframe values minimising the curve's error (least squares, reweighted towards the
    worst ticks a few times: we need the MAX error small), and that max error."""
    weights = np.ones(len(basis))
    best, best_err = None, math.inf
    for _ in range(4):
        sw = np.sqrt(weights)[:, None]
        values, *_ = np.linalg.lstsq(basis * sw, corners * sw, rcond=None)
        values = np.round(values, 2)
        err = np.abs(basis @ values - corners).max(axis=1)
        if err.max() < best_err:
            best, best_err = values, float(err.max())
        if best_err <= tolerance_px:
            break
        weights = 1.0 + (err / tolerance_px) ** 4
    return best, best_err


def _uniform(first: int, last: int, count: int) -> list[int]:
    return sorted({int(round(v)) for v in np.linspace(first, last, count)})


def fit_keyframes(ticks: np.ndarray, corners: np.ndarray, width: float, height: float,
                  tolerance_px: float) -> list[dict]:
    """Fewest keyframes whose Catmull-Rom curve stays within tolerance_px of `corners` at every
    tick: the smaller of (a) evenly spaced keys, as few as fit, and (b) greedy insertion at the
    worst tick then a removal pass; key values are fitted (not sampled) in both."""
    n = len(ticks)
    chosen, values = fewest_keys(ticks, corners, tolerance_px)
    out = []
    for i, v in zip(chosen, values, strict=True):
        origin = CropKeyframeOrigin.PERMANENT if i in (0, n - 1) else CropKeyframeOrigin.USER
        out.append(_keyframe(ticks[i], v, width, height, origin.value))
    return out


def _solve(ticks: np.ndarray, corners: np.ndarray, chosen: list[int], tolerance_px: float
           ) -> tuple[np.ndarray, float]:
    return _fit_values(curve_basis(ticks, [ticks[i] for i in chosen]), corners, tolerance_px)


def fewest_keys(ticks: np.ndarray, values: np.ndarray, tolerance: float
                ) -> tuple[list[int], np.ndarray]:
    """Indices into `ticks` of the fewest keys, and their fitted values ((n, k) in, any k),
    whose editor curve stays within `tolerance` of `values` at every tick."""
    if len(ticks) <= 2:
        return list(range(len(ticks))), values.copy()
    return _fewest(ticks, values, tolerance)


def _fewest(ticks: np.ndarray, corners: np.ndarray, tolerance_px: float
            ) -> tuple[list[int], np.ndarray]:
    n = len(ticks)
    uniform = None
    for count in range(2, n + 1):
        chosen = _uniform(0, n - 1, count)
        values, err = _solve(ticks, corners, chosen, tolerance_px)
        if err <= tolerance_px:
            uniform = (chosen, values)
            break
    greedy = [0, n - 1]
    while True:
        values, err = _solve(ticks, corners, greedy, tolerance_px)
        if err <= tolerance_px or (uniform and len(greedy) >= len(uniform[0])):
            break
        residual = np.abs(curve_basis(ticks, [ticks[i] for i in greedy]) @ values - corners)
        worst = int(np.argmax(residual.max(axis=1)))
        if worst in greedy:
            break
        greedy = sorted([*greedy, worst])
    for index in list(greedy[1:-1]):
        trial = [i for i in greedy if i != index]
        values_t, err_t = _solve(ticks, corners, trial, tolerance_px)
        if err_t <= tolerance_px:
            greedy, values, err = trial, values_t, err_t
    if err <= tolerance_px and (uniform is None or len(greedy) < len(uniform[0])):
        return greedy, values
    if uniform is None:  # nothing fits (never for n ticks: a key per tick is exact)
        return list(range(n)), corners
    return uniform
