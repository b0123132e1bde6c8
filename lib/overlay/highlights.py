"""Highlight reuse across projects: regions in working-video space ⇄ raw-clip space.

Working-video space: seconds of the project's working video, pixels of its frame (W×H).
Raw-clip space: seconds from the start of the raw clip, pixels of the source frame.
A working video is the project's clips one after another; clip c occupies
[c.start, c.end) of it. Inside a clip, time maps through its trim/speed segments and pixels
through its crop spline evaluated at that source time (lib.timeline.segments and
lib.timeline.keyframes: the one implementation the renders use).

When regions change they are saved per clip as raw_clips.default_highlight_regions; a new
working video of the same clip (any project) gets them back, transformed into its space.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from lib.errors import BadRequest
from lib.framing.state import load_stored
from lib.overlay.actions import SPAN_INFERRED, editor_frame, keyframe_time, normalize_regions
from lib.timeline.keyframes import CROP_PROPS, EDITOR_FPS, CropBox, CropTrack, KeyframeTrack
from lib.timeline.segments import SegmentPlan, parse_segments

_EPS = 1e-6


class _UnclampedCrop:
    """The crop spline when the source frame size is unknown (nothing to clamp to)."""

    def __init__(self, keyframes: list[dict]):
        self.track = KeyframeTrack(keyframes, CROP_PROPS)

    def at(self, t: float) -> CropBox:
        values = self.track.at(t * EDITOR_FPS)
        return CropBox(values["x"], values["y"], values["width"], values["height"])


@dataclass(frozen=True)
class ClipPlacement:
    """One clip of a working video, with what its space transform needs."""

    clip_index: int
    raw_clip_id: int | None
    start: float  # working-video seconds where the clip begins
    end: float  # ... and ends
    plan: SegmentPlan  # trim + speed: clip-relative working time ⇄ source time
    crop: CropTrack | _UnclampedCrop  # the crop box (source pixels) at a source time


@dataclass(frozen=True)
class Frame:
    width: float
    height: float


# -- the project's clips in its working video ------------------------------------------------

def _json(text: str | None, default):
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def _exported_clips(conn: sqlite3.Connection, project_id: int) -> list[sqlite3.Row]:
    """Per clip identity, the version the working video was made from: the newest exported
    version (else the newest), in project order."""
    return conn.execute(
        """
        SELECT wc.*, r.start_time AS raw_start, r.end_time AS raw_end,
               g.video_width AS source_width, g.video_height AS source_height
        FROM working_clips wc
        LEFT JOIN raw_clips r ON r.id = wc.raw_clip_id
        LEFT JOIN games g ON g.id = r.game_id
        WHERE wc.project_id = ? AND wc.id = (
            SELECT w2.id FROM working_clips w2 WHERE w2.identity = wc.identity
            ORDER BY w2.exported_at IS NULL, w2.version DESC LIMIT 1)
        ORDER BY wc.sort_order, wc.id
        """,
        (project_id,),
    ).fetchall()


def _plan_of(row: sqlite3.Row) -> SegmentPlan:
    """The clip's trim/speed plan (segments_data; timing_data's trimRange as a fallback)."""
    timing = _json(row["timing_data"], None)
    trim = timing.get("trimRange") if isinstance(timing, dict) else None
    duration = None
    if row["raw_start"] is not None and row["raw_end"] is not None:
        duration = float(row["raw_end"]) - float(row["raw_start"])
    return parse_segments(row["segments_data"], duration, trim)


def default_crop(source: tuple[int, int], aspect_ratio: str) -> list[dict]:
    """The editor's centred default crop for a clip never framed (one permanent keyframe)."""
    width, height = source
    num, den = (int(v) for v in aspect_ratio.split(":"))
    target = num / den
    if width / height > target:
        w, h = _js_round(height * target), height
    else:
        w, h = width, _js_round(width / target)
    return [{"frame": 0, "x": _js_round((width - w) / 2), "y": _js_round((height - h) / 2),
             "width": w, "height": h, "origin": "permanent"}]


def _js_round(value: float) -> int:
    return math.floor(value + 0.5)  # Math.round: halves round up


def _crop_of(row: sqlite3.Row, aspect_ratio: str | None) -> CropTrack | _UnclampedCrop | None:
    crop = [k for k in _json(row["crop_data"], []) or [] if isinstance(k, dict)]
    size = (row["source_width"], row["source_height"])
    if not crop and all(size) and aspect_ratio:
        crop = default_crop(size, aspect_ratio)
    if not crop:
        return None
    return CropTrack(crop, *size) if all(size) else _UnclampedCrop(crop)


def clip_layout(conn: sqlite3.Connection, project_id: int) -> list[ClipPlacement]:
    """The project's clips as placed in its working video, one after another. Stops at the
    first clip whose length or crop cannot be known (e.g. an uploaded clip never framed)."""
    project = conn.execute(
        "SELECT p.aspect_ratio, w.clip_starts FROM projects p"
        " LEFT JOIN working_videos w ON w.id = p.working_video_id WHERE p.id = ?",
        (project_id,)).fetchone()
    aspect = project["aspect_ratio"] if project is not None else None
    rows = _exported_clips(conn, project_id)
    # Where the render put each clip (fade/dissolve joins overlap clips); when it does not
    # match the clips (an older video, a multi-clip list the server never saw), clips are
    # laid end to end.
    starts = load_stored(project["clip_starts"]) if project is not None else None
    if not (isinstance(starts, list) and len(starts) == len(rows)
            and all(isinstance(s, int | float) for s in starts)):
        starts = None
    placements: list[ClipPlacement] = []
    offset = 0.0
    for index, row in enumerate(rows):
        try:
            plan, crop = _plan_of(row), _crop_of(row, aspect)
        except BadRequest:  # segments or crop the renderer would refuse too
            break
        if crop is None:
            break
        start = float(starts[index]) if starts else offset
        placements.append(ClipPlacement(index, row["raw_clip_id"], start,
                                        start + plan.duration, plan, crop))
        offset = start + plan.duration
    return placements


def _frame_of(video: sqlite3.Row, regions: list[dict]) -> Frame | None:
    if video["width"] and video["height"]:
        return Frame(float(video["width"]), float(video["height"]))
    for region in regions:
        if region.get("videoWidth") and region.get("videoHeight"):
            return Frame(float(region["videoWidth"]), float(region["videoHeight"]))
    return None


# -- regions through one clip ----------------------------------------------------------------

def _region_frame(region: dict, default: Frame | None) -> Frame | None:
    """Keyframe pixels are relative to the region's videoWidth×videoHeight when it has them."""
    w, h = region.get("videoWidth"), region.get("videoHeight")
    if isinstance(w, int | float) and isinstance(h, int | float) and w > 0 and h > 0:
        return Frame(float(w), float(h))
    return default


def _scaled_box(box: dict, to_point: Callable, sx: float, sy: float) -> dict:
    """A detection box (flat or {bbox:{...}}): centre through `to_point`, size scaled."""
    inner = box.get("bbox") if isinstance(box.get("bbox"), dict) else box
    try:
        x, y = to_point(float(inner["x"]), float(inner["y"]))
        moved = {**inner, "x": x, "y": y, "width": float(inner["width"]) * sx,
                 "height": float(inner["height"]) * sy}
    except (KeyError, TypeError, ValueError):
        return box
    return {**box, "bbox": moved} if inner is not box else moved


class ClipSpace:
    """Pixels and seconds of one clip: working video (W×H, seconds of the working video)
    ⇄ raw clip (source pixels, seconds of the clip)."""

    def __init__(self, clip: ClipPlacement, frame: Frame):
        self.clip, self.frame = clip, frame
        self.lo, self.hi = clip.plan.source_start, clip.plan.source_end

    def source_time(self, working_time: float) -> float:
        return self.clip.plan.to_source(working_time - self.clip.start)

    def working_time(self, source_time: float) -> float | None:
        """None when the source time is trimmed away."""
        if source_time < self.lo - _EPS or source_time > self.hi + _EPS:
            return None
        local = self.clip.plan.to_working(min(max(source_time, self.lo), self.hi))
        return None if local is None else self.clip.start + local

    def scale(self, source_time: float) -> tuple[CropBox, float, float]:
        box = self.clip.crop.at(source_time)
        return box, box.width / self.frame.width, box.height / self.frame.height

    def contains(self, working_time: float) -> bool:
        return self.clip.start - _EPS <= working_time <= self.clip.end + _EPS


def _moved_keyframe(keyframe: dict, time: float, x: float, y: float, sx: float,
                    sy: float) -> dict:
    out = {**keyframe, "time": time, "frame": editor_frame(time), "x": x, "y": y}
    for key, factor in (("radiusX", sx), ("radiusY", sy)):
        if isinstance(keyframe.get(key), int | float):
            out[key] = keyframe[key] * factor
    return out


_SPACE_KEYS = ("keyframes", "detections", "start_time", "end_time", "videoWidth",
               "videoHeight", SPAN_INFERRED)


def region_to_raw(region: dict, space: ClipSpace) -> dict:
    """A working-video region (of this clip) in raw-clip space."""
    out = {k: v for k, v in region.items() if k not in _SPACE_KEYS}
    out["start_time"] = space.source_time(float(region.get("start_time") or 0.0))
    out["end_time"] = space.source_time(float(region.get("end_time") or 0.0))
    keyframes = []
    for keyframe in region.get("keyframes") or []:
        t = keyframe_time(keyframe)
        if not space.contains(t) or not isinstance(keyframe.get("x"), int | float):
            continue
        s = space.source_time(t)
        box, sx, sy = space.scale(s)
        keyframes.append(_moved_keyframe(keyframe, s, box.x + keyframe["x"] * sx,
                                         box.y + float(keyframe.get("y") or 0) * sy, sx, sy))
    out["keyframes"] = keyframes
    detections = []
    for det in region.get("detections") or []:
        if not isinstance(det, dict) or not isinstance(det.get("timestamp"), int | float):
            continue
        if not space.contains(det["timestamp"]):
            continue
        s = space.source_time(det["timestamp"])
        box, sx, sy = space.scale(s)
        to_raw = lambda x, y, b=box, sx=sx, sy=sy: (b.x + x * sx, b.y + y * sy)  # noqa: E731
        detections.append({**det, "timestamp": s,
                           "boxes": [_scaled_box(b, to_raw, sx, sy)
                                     for b in det.get("boxes") or [] if isinstance(b, dict)]})
    if detections:
        out["detections"] = detections
    return out


def region_to_working(region: dict, space: ClipSpace) -> dict | None:
    """A raw-clip region in this clip's working-video space; None when none of it is
    visible (trimmed away)."""
    start = max(float(region.get("start_time") or 0.0), space.lo)
    end = min(float(region.get("end_time") or 0.0), space.hi)
    if end <= start + _EPS:
        return None
    out = {k: v for k, v in region.items() if k not in _SPACE_KEYS}
    out["start_time"] = space.working_time(start)
    out["end_time"] = space.working_time(end)
    keyframes = []
    for keyframe in region.get("keyframes") or []:
        s = keyframe_time(keyframe)
        t = space.working_time(s)
        if t is None or not isinstance(keyframe.get("x"), int | float):
            continue
        box, sx, sy = space.scale(s)
        keyframes.append(_moved_keyframe(keyframe, t, (keyframe["x"] - box.x) / sx,
                                         (float(keyframe.get("y") or 0) - box.y) / sy,
                                         1 / sx, 1 / sy))
    out["keyframes"] = keyframes
    detections = []
    for det in region.get("detections") or []:
        if not isinstance(det, dict) or not isinstance(det.get("timestamp"), int | float):
            continue
        t = space.working_time(det["timestamp"])
        if t is None:
            continue
        box, sx, sy = space.scale(det["timestamp"])
        to_working = lambda x, y, b=box, sx=sx, sy=sy: ((x - b.x) / sx,  # noqa: E731
                                                        (y - b.y) / sy)
        detections.append({**det, "timestamp": t,
                           "boxes": [_scaled_box(b, to_working, 1 / sx, 1 / sy)
                                     for b in det.get("boxes") or [] if isinstance(b, dict)]})
    if detections:
        out["detections"] = detections
    out["videoWidth"], out["videoHeight"] = int(space.frame.width), int(space.frame.height)
    return out


# -- saving and restoring ---------------------------------------------------------------------

def _clip_of(region: dict, layout: list[ClipPlacement]) -> ClipPlacement | None:
    """The clip a region belongs to: the one its start lies in."""
    start = region.get("start_time")
    if not isinstance(start, int | float) or not layout:
        return None
    for clip in layout:
        if start < clip.end - _EPS:
            return clip
    return layout[-1] if start <= layout[-1].end + _EPS else None


def _safely(transform: Callable[[dict, ClipSpace], dict | None], region: dict,
            space: ClipSpace) -> dict | None:
    """Old or hand-written data may hold non-numbers; such a region is not carried over
    (highlight reuse must never make an overlay action fail)."""
    try:
        return transform(region, space)
    except (TypeError, ValueError, KeyError, ZeroDivisionError):
        return None


def save_clip_defaults(conn: sqlite3.Connection, project_id: int, video: sqlite3.Row,
                       regions: list[dict]) -> int:
    """Save each clip's regions (in raw-clip space) as its raw clip's default highlights.
    Returns how many raw clips changed."""
    layout = clip_layout(conn, project_id)
    default_frame = _frame_of(video, regions)
    changed = 0
    for clip in layout:
        if clip.raw_clip_id is None:
            continue
        raw_regions = []
        for region in normalize_regions(regions):
            frame = _region_frame(region, default_frame)
            if frame is None or _clip_of(region, layout) is not clip:
                continue
            moved = _safely(region_to_raw, region, ClipSpace(clip, frame))
            if moved is not None:
                raw_regions.append(moved)
        cur = conn.execute(
            "UPDATE raw_clips SET default_highlight_regions = :v"
            " WHERE id = :id AND default_highlight_regions IS NOT :v",
            {"v": json.dumps(raw_regions), "id": clip.raw_clip_id})
        changed += cur.rowcount
    return changed


def _unique_id(region: dict, taken: set[str], clip_index: int) -> dict:
    rid = str(region.get("id") or f"region-restored-{clip_index}")
    if rid in taken:
        n, base = 1, f"{rid}-c{clip_index}"
        rid = base
        while rid in taken:
            n += 1
            rid = f"{base}-{n}"
    taken.add(rid)
    return {**region, "id": rid}


def restore_into(conn: sqlite3.Connection, project_id: int, video: sqlite3.Row,
                 stored: list[dict]) -> list[dict] | None:
    """`stored` with each clip's regions replaced by its raw clip's saved highlights (in this
    working video's space). None when nothing would change."""
    layout = clip_layout(conn, project_id)
    frame = _frame_of(video, stored)
    if frame is None or not layout:
        return None
    ids = [c.raw_clip_id for c in layout if c.raw_clip_id is not None]
    saved = {r["id"]: normalize_regions(_json(r["default_highlight_regions"], []))
             for r in conn.execute(
                 f"SELECT id, default_highlight_regions FROM raw_clips WHERE id IN"
                 f" ({','.join('?' * len(ids))})", ids)} if ids else {}
    merged = list(stored)
    for clip in layout:
        space = ClipSpace(clip, frame)
        restored = [r for r in (_safely(region_to_working, d, space) for d in
                                saved.get(clip.raw_clip_id, [])) if r is not None]
        if not restored:
            continue
        merged = [r for r in merged if _clip_of(r, layout) is not clip]
        taken = {str(r.get("id")) for r in merged}
        merged += [_unique_id(r, taken, clip.clip_index) for r in restored]
    merged.sort(key=lambda r: float(r.get("start_time") or 0.0))
    return None if merged == stored else merged
