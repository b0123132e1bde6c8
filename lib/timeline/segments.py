"""Trim + speed segments of a clip (spec/media.md §3) and the working <-> source time mapping.

`segments_data` as the editor saves it: `{"boundaries": [0, 6.5, 15], "segmentSpeeds": {"1": 0.5},
"trimRange": {"start": 1.2, "end": 15} | null}`. Segment i spans [boundaries[i],
boundaries[i+1]] with speed segmentSpeeds[str(i)] (default 1), clamped to the trim range.
"Working time" is the time in the rendered (working) video; "source time" the clip's own time.
Pure Python: the web image imports it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lib.errors import BadRequest

MIN_SPEED = 0.0
MAX_SPEED = 8.0
_EPS = 1e-9
SNAP = 0.05  # seconds: editor and stream durations differ by up to a frame or so


class SegmentError(BadRequest, ValueError):
    """Segments that cannot be rendered: an empty trim, a speed outside (0, 8]."""


@dataclass(frozen=True)
class Segment:
    start: float  # source seconds
    end: float
    speed: float

    @property
    def output_duration(self) -> float:
        return (self.end - self.start) / self.speed


def parse_trim(trim: Any) -> tuple[float, float] | None:
    """`{start, end}`, the old tuple form `[start, end]`, or None."""
    if trim is None:
        return None
    if isinstance(trim, Mapping):
        start, end = trim.get("start"), trim.get("end")
    elif isinstance(trim, Sequence) and not isinstance(trim, str) and len(trim) == 2:
        start, end = trim
    else:
        raise SegmentError("The trim range must be {start, end} or null.")
    if start is None and end is None:
        return None
    try:
        s = 0.0 if start is None else float(start)
        e = math.inf if end is None else float(end)
    except (TypeError, ValueError):
        raise SegmentError("The trim range must hold numbers.") from None
    if math.isnan(s) or math.isnan(e):
        raise SegmentError("The trim range must hold numbers.")
    return s, e


def _speed(value: Any) -> float:
    try:
        speed = float(value)
    except (TypeError, ValueError):
        raise SegmentError(f"Segment speed {value!r} is not a number.") from None
    if not (MIN_SPEED < speed <= MAX_SPEED) or math.isnan(speed):
        raise SegmentError(f"Segment speed {speed:g} is outside (0, 8].")
    return speed


class SegmentPlan:
    """The kept parts of a clip in order, each with its speed, and the time mapping."""

    def __init__(self, segments: Sequence[Segment]):
        if not segments:
            raise SegmentError("The trim range is empty: nothing to render.")
        self.segments = tuple(segments)
        self.starts: list[float] = []  # working time at which each segment starts
        acc = 0.0
        for seg in self.segments:
            self.starts.append(acc)
            acc += seg.output_duration
        self.duration = acc

    @property
    def source_start(self) -> float:
        return self.segments[0].start

    @property
    def source_end(self) -> float:
        return self.segments[-1].end

    @property
    def is_identity(self) -> bool:
        return all(seg.speed == 1.0 for seg in self.segments)

    def to_source(self, t: float) -> float:
        """Source time shown at working time t (clamped to the rendered range)."""
        if t <= 0:
            return self.source_start
        for seg, start in zip(self.segments, self.starts, strict=True):
            if t < start + seg.output_duration:
                return seg.start + (t - start) * seg.speed
        return self.source_end

    def to_working(self, t_src: float) -> float | None:
        """Working time of source time t_src; None when t_src is trimmed out."""
        for seg, start in zip(self.segments, self.starts, strict=True):
            if seg.start - _EPS <= t_src <= seg.end + _EPS:
                return start + (min(max(t_src, seg.start), seg.end) - seg.start) / seg.speed
        return None


def parse_segments(
    data: Mapping[str, Any] | str | None,
    source_duration: float | None,
    trim_range: Any = None,
) -> SegmentPlan:
    """Build the plan for a clip of `source_duration` seconds.

    `data` is segments_data (a dict or its JSON string, or None for the whole clip at 1x).
    `trim_range` is used when segments_data has no trimRange (multi-clip payloads carry it on
    the clip). The outer boundaries snap to 0 and the source duration (the editor's duration
    may differ from the stream's by a frame).
    """
    if isinstance(data, str):
        try:
            data = json.loads(data) if data.strip() else None
        except json.JSONDecodeError:
            raise SegmentError("segments_data is not valid JSON.") from None
    data = data or {}
    if not isinstance(data, Mapping):
        raise SegmentError("segments_data must be an object.")
    try:
        bounds = sorted({float(b) for b in data.get("boundaries") or []})
    except (TypeError, ValueError):
        raise SegmentError("Segment boundaries must be numbers.") from None
    if any(math.isnan(b) or math.isinf(b) for b in bounds):
        raise SegmentError("Segment boundaries must be finite numbers.")
    end = float(source_duration) if source_duration else (bounds[-1] if bounds else None)
    if end is None or end <= 0:
        raise SegmentError("The clip has no duration.")
    speeds_raw = data.get("segmentSpeeds") or {}
    if not isinstance(speeds_raw, Mapping):
        raise SegmentError("segmentSpeeds must be an object.")
    speeds = {int(k): _speed(v) for k, v in speeds_raw.items() if str(k).lstrip("-").isdigit()}
    # (start, end, speed) per editor segment; the outer edges snap to 0 and the duration.
    pieces: list[tuple[float, float, float]] = []
    if len(bounds) >= 2:
        edges = list(bounds)
        edges[0] = 0.0 if edges[0] <= SNAP else edges[0]
        edges[-1] = end if edges[-1] >= end - SNAP else edges[-1]
        if edges[0] > 0:
            pieces.append((0.0, edges[0], 1.0))
        pieces += [(edges[i], edges[i + 1], speeds.get(i, 1.0)) for i in range(len(edges) - 1)]
        if edges[-1] < end:
            pieces.append((edges[-1], end, 1.0))
    else:
        pieces.append((0.0, end, 1.0))
    trim = parse_trim(data.get("trimRange")) if "trimRange" in data else None
    if trim is None:
        trim = parse_trim(trim_range)
    t0, t1 = (0.0, end) if trim is None else (max(0.0, trim[0]), min(end, trim[1]))
    t0 = 0.0 if t0 <= SNAP else t0
    t1 = end if t1 >= end - SNAP else t1
    if t1 - t0 <= _EPS:
        raise SegmentError("The trim range is empty: nothing to render.")
    segments = []
    for s0, e0, speed in pieces:
        s, e = max(s0, t0), min(e0, t1, end)
        if e - s > _EPS:
            segments.append(Segment(s, e, speed))
    return SegmentPlan(segments)
