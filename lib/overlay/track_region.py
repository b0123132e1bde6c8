"""The `track_region` overlay gesture `{target:{region_id}, data:{time, box}}`: the region's
spotlight follows the player whose box (working-video pixels, top-left x/y) is given at `time`.

As for auto_frame, tracking runs outside the unit of work: `track_region_spec` (a read) names
the working video, the region's span and style; the web runs the `follow` job; then
`apply_tracked_region` (a write) applies the pure reducer `fill_region` — the region's keyframes
within its span are replaced by the computed ones — and bumps overlay_version like any gesture.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Mapping
from typing import Any

from lib.action_fields import object_arg, region_id_arg
from lib.errors import BadRequest, NotFound, VersionConflict
from lib.keys import Kind, object_key
from lib.models import TRACK_REGION
from lib.overlay.actions import OverlayState, find_region, keyframe_time, normalize_regions
from lib.overlay.data import save_gesture, working_state
from lib.timeline.keyframes import DEFAULT_HIGHLIGHT_COLOR, DEFAULT_HIGHLIGHT_OPACITY


def _find(regions: list[dict], region_id: str) -> dict:
    region = find_region(regions, region_id)
    if region is None:
        raise NotFound(f"Region {region_id} does not exist; create it first.")
    return region


def parse_track_region(target: Any, data: Any) -> tuple[str, float, dict]:
    target, data = object_arg(target, "target"), object_arg(data, "data")
    region_id = region_id_arg(target, data)
    time = data.get("time")
    if not isinstance(time, int | float) or isinstance(time, bool) or not math.isfinite(time) \
            or time < 0:
        raise BadRequest("data.time must be a non-negative number of seconds.")
    box = data.get("box")
    if not isinstance(box, Mapping) or not all(
            isinstance(box.get(k), int | float) and not isinstance(box.get(k), bool)
            and math.isfinite(box[k]) for k in ("x", "y", "width", "height")):
        raise BadRequest("data.box must be an object with numeric x, y, width and height.")
    return region_id, float(time), {k: float(box[k]) for k in ("x", "y", "width", "height")}


def track_region_spec(conn: sqlite3.Connection, user_id: str, project_id: int, target: Any,
                      data: Any) -> dict:
    region_id, time, box = parse_track_region(target, data)
    video, state = working_state(conn, project_id)
    region = _find(normalize_regions(state.regions), region_id)
    start, end = float(region.get("start_time") or 0.0), float(region.get("end_time") or 0.0)
    if end <= start:
        raise BadRequest(f"Region {region_id} has no span to track over.")
    first = next(iter(region.get("keyframes") or []), {})
    style = {"opacity": first.get("opacity", DEFAULT_HIGHLIGHT_OPACITY),
             "color": first.get("color", DEFAULT_HIGHLIGHT_COLOR)}
    return {"kind": TRACK_REGION, "input_key": object_key(user_id, Kind.WORKING_VIDEOS,
                                                            video["filename"]),
            "time": time, "box": box, "start": start, "end": end, "style": style,
            "region_id": region_id, "working_video_id": video["id"]}


def fill_region(state: OverlayState, region_id: str, keyframes: list[dict],
                video_size: tuple[int, int] | None = None) -> OverlayState:
    """The pure reducer: keyframes inside the region's span replaced by `keyframes`."""
    regions = normalize_regions(state.regions)
    region = _find(regions, region_id)
    start, end = float(region.get("start_time") or 0.0), float(region.get("end_time") or 0.0)
    kept = [k for k in region["keyframes"] if not start - 1e-6 <= keyframe_time(k) <= end + 1e-6]
    region["keyframes"] = sorted(kept + [dict(k) for k in keyframes], key=keyframe_time)
    if video_size:  # the keyframes are in these pixels (the working video's)
        region["videoWidth"], region["videoHeight"] = video_size
    return OverlayState(regions, state.effect_type)


def apply_tracked_region(conn: sqlite3.Connection, project_id: int, spec: dict,
                         result: dict) -> dict:
    video, state = working_state(conn, project_id)
    if video["id"] != spec["working_video_id"]:
        raise VersionConflict("The working video changed while the player was tracked; "
                              "try again.")
    size = (result["video_width"], result["video_height"]) if result.get("video_width") else None
    new_state = fill_region(state, spec["region_id"], result["keyframes"], size)
    version = save_gesture(conn, project_id, video, new_state)
    return {"success": True, "version": version, "region_id": spec["region_id"],
            "keyframe_count": len(result["keyframes"]), "gaps": result.get("gaps") or []}
