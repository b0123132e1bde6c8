"""Keyframe interpolation for crop and highlight keyframes (spec/media.md §1-2, §4).

The one implementation used by every renderer and by the API. Pure Python (no numpy): the web
image imports it.

Time base: keyframe positions are editor ticks of exactly 1/30 s (`frame = round(time * 30)`),
whatever the real fps of the video; a render samples the curve at `f = t * 30` (fractional) for
each output frame's presentation time `t`.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lib.errors import BadRequest

EDITOR_FPS = 30
CROP_PROPS: tuple[str, ...] = ("x", "y", "width", "height")
HIGHLIGHT_PROPS: tuple[str, ...] = ("x", "y", "radiusX", "radiusY", "opacity")
DEFAULT_HIGHLIGHT_COLOR = "#FFFF00"
DEFAULT_HIGHLIGHT_OPACITY = 0.15


class KeyframeError(BadRequest, ValueError):
    """Keyframes that cannot be rendered (missing numbers, a box outside the frame)."""


def keyframe_frame(kf: Mapping[str, Any]) -> float:
    """A keyframe's position in editor ticks: `frame` when present, else round(time * 30)."""
    frame = kf.get("frame")
    if frame is not None:
        return float(frame)
    time = kf.get("time")
    if time is None:
        raise KeyframeError("A keyframe has neither a frame nor a time.")
    return float(math.floor(float(time) * EDITOR_FPS + 0.5))  # the editor's Math.round


def catmull_rom(p0: float, p1: float, p2: float, p3: float, u: float) -> float:
    """Uniform Catmull-Rom between p1 (u=0) and p2 (u=1)."""
    return 0.5 * (
        2 * p1
        + (-p0 + p2) * u
        + (2 * p0 - 5 * p1 + 4 * p2 - p3) * u * u
        + (-p0 + 3 * p1 - 3 * p2 + p3) * u * u * u
    )


class KeyframeTrack:
    """Keyframes sorted once, sampled many times (one render samples every output frame)."""

    def __init__(self, keyframes: Iterable[Mapping[str, Any]], props: Sequence[str]):
        self.props = tuple(props)
        items = [(keyframe_frame(kf), kf) for kf in keyframes]
        items.sort(key=lambda item: item[0])  # stable: equal frames keep their order
        self.frames = [f for f, _ in items]
        self.keyframes = [kf for _, kf in items]
        self.values: list[tuple[float, ...]] = []
        for kf in self.keyframes:
            try:
                self.values.append(tuple(float(kf[p]) for p in self.props))
            except (KeyError, TypeError, ValueError):
                raise KeyframeError(
                    f"A keyframe is missing one of {', '.join(self.props)}."
                ) from None

    def __len__(self) -> int:
        return len(self.frames)

    def index_at(self, frame: float) -> int | None:
        """Index of p1 (the keyframe the value is anchored to, e.g. for colour)."""
        if not self.frames:
            return None
        return max(0, bisect_right(self.frames, frame) - 1)

    def at(self, frame: float) -> dict[str, float] | None:
        """The interpolated properties at editor tick `frame` (fractional allowed)."""
        n = len(self.frames)
        if n == 0:
            return None
        if n == 1 or frame <= self.frames[0]:
            return dict(zip(self.props, self.values[0], strict=True))
        if frame >= self.frames[-1]:
            return dict(zip(self.props, self.values[-1], strict=True))
        i2 = bisect_right(self.frames, frame)  # first keyframe with frame > f
        i1 = i2 - 1
        i0 = max(i1 - 1, 0)
        i3 = min(i2 + 1, n - 1)
        u = (frame - self.frames[i1]) / (self.frames[i2] - self.frames[i1])
        v0, v1, v2, v3 = self.values[i0], self.values[i1], self.values[i2], self.values[i3]
        return {
            p: catmull_rom(v0[k], v1[k], v2[k], v3[k], u) for k, p in enumerate(self.props)
        }


def interpolate(
    keyframes: Iterable[Mapping[str, Any]], frame: float, props: Sequence[str]
) -> dict[str, float] | None:
    """One-off interpolation at editor tick `frame`; use KeyframeTrack for many samples."""
    return KeyframeTrack(keyframes, props).at(frame)


# -- crop ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CropBox:
    x: float
    y: float
    width: float
    height: float


def clamp_crop(box: Mapping[str, float], frame_w: int, frame_h: int) -> CropBox:
    """The crop box moved and shrunk just enough to lie inside the source (w, h >= 2)."""
    w = min(max(float(box["width"]), 2.0), float(frame_w))
    h = min(max(float(box["height"]), 2.0), float(frame_h))
    x = min(max(float(box["x"]), 0.0), frame_w - w)
    y = min(max(float(box["y"]), 0.0), frame_h - h)
    return CropBox(x, y, w, h)


def centered_crop(frame_w: int, frame_h: int, aspect: float | None) -> CropBox:
    """The largest centred box of aspect `aspect` (w/h) in the frame; the frame when None."""
    if not aspect:
        return CropBox(0.0, 0.0, float(frame_w), float(frame_h))
    w, h = float(frame_w), float(frame_h)
    if w / h > aspect:
        w = h * aspect
    else:
        h = w / aspect
    return CropBox((frame_w - w) / 2, (frame_h - h) / 2, w, h)


class CropTrack:
    """Crop keyframes of one clip, in source pixels; `at(t)` is the clamped box at time t.

    Without keyframes the crop is the largest centred box of `default_aspect` (what the editor
    shows for a clip never opened), or the whole frame.
    """

    def __init__(self, keyframes: Iterable[Mapping[str, Any]], frame_w: int, frame_h: int,
                 default_aspect: float | None = None):
        self.track = KeyframeTrack(keyframes, CROP_PROPS)
        self.frame_w, self.frame_h = frame_w, frame_h
        self.default = centered_crop(frame_w, frame_h, default_aspect)
        for f, values in zip(self.track.frames, self.track.values, strict=True):
            x, y, w, h = values
            if not all(math.isfinite(v) for v in values) or w <= 0 or h <= 0:
                raise KeyframeError(f"The crop keyframe at {f / EDITOR_FPS:.2f} s has no area.")
            if x >= frame_w or y >= frame_h or x + w <= 0 or y + h <= 0:
                raise KeyframeError(
                    f"The crop keyframe at {f / EDITOR_FPS:.2f} s lies outside the "
                    f"{frame_w}x{frame_h} source frame."
                )

    def at(self, t: float) -> CropBox:
        """The crop at source time t (seconds); the whole frame when there are no keyframes."""
        values = self.track.at(t * EDITOR_FPS)
        if values is None:
            return self.default
        return clamp_crop(values, self.frame_w, self.frame_h)


def crop_at(
    keyframes: Iterable[Mapping[str, Any]], t: float, frame_w: int, frame_h: int
) -> CropBox:
    """The clamped crop box at time t (seconds) of a frame_w x frame_h source."""
    return CropTrack(keyframes, frame_w, frame_h).at(t)


# -- highlight -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ellipse:
    """A highlight ellipse in frame pixels: centre (x, y), radii, fill opacity and colour."""

    x: float
    y: float
    radius_x: float
    radius_y: float
    opacity: float
    color: str = DEFAULT_HIGHLIGHT_COLOR

    def scaled(self, sx: float, sy: float) -> Ellipse:
        return Ellipse(
            self.x * sx, self.y * sy, self.radius_x * sx, self.radius_y * sy,
            self.opacity, self.color,
        )

    def intersects(self, frame_w: int, frame_h: int) -> bool:
        return (
            self.x + self.radius_x > 0 and self.x - self.radius_x < frame_w
            and self.y + self.radius_y > 0 and self.y - self.radius_y < frame_h
        )


def highlight_at(keyframes: Sequence[Mapping[str, Any]], t: float) -> Ellipse | None:
    """The highlight ellipse at time t (seconds) of the working video, None without keyframes."""
    return HighlightTrack(keyframes).at(t)


class HighlightTrack:
    def __init__(self, keyframes: Iterable[Mapping[str, Any]]):
        self.track = KeyframeTrack(keyframes, HIGHLIGHT_PROPS)

    def at(self, t: float) -> Ellipse | None:
        frame = t * EDITOR_FPS
        values = self.track.at(frame)
        if values is None:
            return None
        i1 = self.track.index_at(frame)
        color = self.track.keyframes[i1].get("color") or DEFAULT_HIGHLIGHT_COLOR
        return Ellipse(
            values["x"], values["y"], values["radiusX"], values["radiusY"],
            min(1.0, max(0.0, values["opacity"])), str(color),
        )


def default_ellipse(frame_w: int, frame_h: int) -> Ellipse:
    """What the editor previews for a region without keyframes (spec/media.md §4)."""
    return Ellipse(
        frame_w / 2, frame_h / 2, float(round(0.06 * frame_h)), float(round(0.12 * frame_h)),
        DEFAULT_HIGHLIGHT_OPACITY, DEFAULT_HIGHLIGHT_COLOR,
    )


def _num(value: Any, default: float | None = None) -> float | None:
    if value is None:
        return default
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return out if math.isfinite(out) else default


class HighlightRegion:
    """One overlay region: [start, end] in working-video seconds, keyframes, enabled flag.

    Reads `start_time` before `startTime` (snake_case wins), `enabled !== false`, and scales
    keyframe pixels by frame/video size when the region carries videoWidth/videoHeight.
    """

    def __init__(self, data: Mapping[str, Any]):
        self.id = str(data.get("id", ""))
        start = _num(data.get("start_time"), _num(data.get("startTime")))
        end = _num(data.get("end_time"), _num(data.get("endTime")))
        if start is None or end is None:
            raise KeyframeError(f"Highlight region {self.id!r} has no start or end time.")
        self.start, self.end = start, end
        self.enabled = data.get("enabled") is not False
        self.keyframes = list(data.get("keyframes") or [])
        self.video_w = _num(data.get("videoWidth"))
        self.video_h = _num(data.get("videoHeight"))
        self.track = HighlightTrack(self.keyframes)

    def contains(self, t: float) -> bool:
        return self.start <= t <= self.end

    def ellipse_at(self, t: float, frame_w: int, frame_h: int) -> Ellipse:
        ellipse = self.track.at(t)
        if ellipse is None:
            return default_ellipse(frame_w, frame_h)
        sx = frame_w / self.video_w if self.video_w else 1.0
        sy = frame_h / self.video_h if self.video_h else 1.0
        return ellipse if sx == sy == 1.0 else ellipse.scaled(sx, sy)

    def validate(self, frame_w: int, frame_h: int) -> None:
        """Raise KeyframeError when a keyframe's ellipse lies wholly outside the frame."""
        for frame in self.track.track.frames:
            ellipse = self.ellipse_at(frame / EDITOR_FPS, frame_w, frame_h)
            if ellipse.radius_x <= 0 or ellipse.radius_y <= 0:
                raise KeyframeError(
                    f"A highlight keyframe at {frame / EDITOR_FPS:.2f} s has a zero radius."
                )
            if not ellipse.intersects(frame_w, frame_h):
                raise KeyframeError(
                    f"A highlight keyframe at {frame / EDITOR_FPS:.2f} s lies outside the "
                    f"{frame_w}x{frame_h} video frame."
                )


def parse_regions(regions: Iterable[Mapping[str, Any]] | None) -> list[HighlightRegion]:
    return [HighlightRegion(r) for r in regions or []]


def active_region(regions: Sequence[HighlightRegion], t: float) -> HighlightRegion | None:
    """The first enabled region with start <= t <= end (disabled regions never render)."""
    for region in regions:
        if region.enabled and region.contains(t):
            return region
    return None


def active_spans(regions: Sequence[HighlightRegion]) -> list[tuple[float, float]]:
    """Merged [start, end] spans where some enabled region is active."""
    spans = sorted((r.start, r.end) for r in regions if r.enabled and r.end >= r.start)
    merged: list[tuple[float, float]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged
