"""Follow-the-player computations behind the `auto_frame` and `track_region` gestures.

Both take a local video file and the chosen player (a box at a time), validate them against
the video (a refused input raises BadRequest with one sentence), track the player
(lib.vision.track) and return ordinary keyframes:
- `auto_frame_keyframes`: crop keyframes of a clip (source pixels, editor ticks of source
  time), inside the trim, the path planned in working time (lib.vision.camera_path);
- `spotlight_keyframes`: highlight-ellipse keyframes of an overlay region (working-video
  pixels and seconds) over the region's span.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from lib.errors import BadRequest
from lib.media import MediaInfo, probe
from lib.timeline.keyframes import DEFAULT_HIGHLIGHT_COLOR, DEFAULT_HIGHLIGHT_OPACITY, EDITOR_FPS
from lib.timeline.segments import parse_segments
from lib.vision.camera_path import PORTRAIT, PathLimits, crop_path, fewest_keys, gaussian_blur
from lib.vision.track import FollowResult, PlayerTracker

# Spotlight ellipse around a player's box (working-video pixels): a little wider than the box
# (arms), the height of the box; the same centre.
ELLIPSE_X, ELLIPSE_Y = 0.65, 0.55
SPOTLIGHT_TOLERANCE_PX = 3.0
SPOTLIGHT_SMOOTHING = 0.15  # seconds


def parse_box(box: Any) -> tuple[float, float, float, float]:
    """`{x, y, width, height}` (top-left, pixels) → a tuple; BadRequest when malformed."""
    if not isinstance(box, Mapping):
        raise BadRequest("data.box must be an object {x, y, width, height}.")
    try:
        values = tuple(float(box[k]) for k in ("x", "y", "width", "height"))
    except (KeyError, TypeError, ValueError):
        raise BadRequest("data.box needs numeric x, y, width and height.") from None
    if not all(math.isfinite(v) for v in values) or values[2] <= 1 or values[3] <= 1:
        raise BadRequest("data.box must have a positive width and height.")
    return values  # type: ignore[return-value]


def check_box(box: tuple[float, float, float, float], width: int, height: int) -> None:
    x, y, w, h = box
    slack = 2.0
    if x < -slack or y < -slack or x + w > width + slack or y + h > height + slack:
        raise BadRequest(f"The box lies outside the {width}x{height} video frame.")


def _video(path: Path) -> MediaInfo:
    info = probe(path)
    if info.duration <= 0:
        raise BadRequest("The video has no frames to track the player in.")
    return info


def auto_frame_keyframes(path: str | Path, frame: int, box: tuple[float, float, float, float],
                         segments_data: Any = None, aspect: float = PORTRAIT,
                         tracker: PlayerTracker | None = None,
                         limits: PathLimits = PathLimits()) -> dict[str, Any]:
    """Crop keyframes that keep the player chosen at editor tick `frame` framed."""
    info = _video(Path(path))
    t = frame / EDITOR_FPS
    if t > info.duration + 0.5 / EDITOR_FPS:
        raise BadRequest(f"Frame {frame} is outside the clip, which lasts {info.duration:.2f} s.")
    width, height = info.display_width, info.display_height
    check_box(box, width, height)
    plan = parse_segments(segments_data, info.duration)
    tracker = tracker or PlayerTracker()
    start, end = min(plan.source_start, t), max(plan.source_end, t)
    result = tracker.follow(path, box, min(t, info.duration), start=start,
                            end=end + 1.0 / info.fps, info=info)
    path_ = crop_path(result.times, result.centres, width, height, plan, limits, aspect,
                      source_duration=info.duration)
    return {"keyframes": path_.keyframes, **_report(result)}


def _report(result: FollowResult) -> dict[str, Any]:
    return {"gaps": [[round(a, 3), round(b, 3)] for a, b in result.gaps],
            "seen_share": round(float(result.seen.mean()), 3) if len(result.seen) else 0.0,
            "track_ids": result.track_ids}


def spotlight_keyframes(path: str | Path, time: float, box: tuple[float, float, float, float],
                        start: float, end: float, tracker: PlayerTracker | None = None,
                        style: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Ellipse keyframes following the player chosen at `time` over [start, end] (seconds of
    the working video); `style` gives opacity and colour (the region's own)."""
    info = _video(Path(path))
    end = min(end, info.duration)
    if not start - 1e-6 <= time <= end + 1e-6:
        raise BadRequest(f"Time {time:.2f} s is outside the region ({start:.2f}-{end:.2f} s).")
    width, height = info.display_width, info.display_height
    check_box(box, width, height)
    tracker = tracker or PlayerTracker()
    result = tracker.follow(path, box, time, start=start, end=end + 1.0 / info.fps, info=info)
    first = int(math.ceil(start * EDITOR_FPS - 1e-9))
    last = max(first, int(math.floor(end * EDITOR_FPS + 1e-9)))
    ticks = np.arange(first, last + 1)
    b = result.boxes
    columns = [(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2,
               ELLIPSE_X * (b[:, 2] - b[:, 0]), ELLIPSE_Y * (b[:, 3] - b[:, 1])]
    values = np.column_stack([np.interp(ticks / EDITOR_FPS, result.times, c) for c in columns])
    sigma = SPOTLIGHT_SMOOTHING * EDITOR_FPS
    values = np.column_stack([gaussian_blur(values[:, k], sigma) for k in range(4)])
    chosen, fitted = fewest_keys(ticks, values, SPOTLIGHT_TOLERANCE_PX)
    style = style or {}
    keyframes = []
    for i, v in zip(chosen, fitted, strict=True):
        keyframes.append({
            "time": round(ticks[i] / EDITOR_FPS, 6), "frame": int(ticks[i]),
            "x": round(float(v[0]), 3), "y": round(float(v[1]), 3),
            "radiusX": round(max(1.0, float(v[2])), 3), "radiusY": round(max(1.0, float(v[3])), 3),
            "opacity": style.get("opacity", DEFAULT_HIGHLIGHT_OPACITY),
            "color": style.get("color", DEFAULT_HIGHLIGHT_COLOR),
            "fromDetection": True,
        })
    return {"keyframes": keyframes, "videoWidth": width, "videoHeight": height,
            **_report(result)}
