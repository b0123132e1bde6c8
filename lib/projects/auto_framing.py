"""The `auto_frame` framing gesture `{frame, box:{x,y,width,height}}` (box in source pixels).

Tracking runs outside any unit of work (the `follow` job), so the gesture has three steps:
1. `auto_frame_spec` (a read): the clip's newest version, its video and segments → job spec;
2. the web runs the job (runner.call("follow", spec)) → crop keyframes;
3. `apply_auto_frame` (a write): the pure reducer `replace_crop` swaps the clip's crop
   keyframes for the computed ones as ONE framing write (one new version on an exported clip,
   else in place). The response carries the previous keyframes (`previous_crop_data`): restoring
   them with the full-state save (#20) undoes the gesture in one step.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from lib.errors import BadRequest, VersionConflict
from lib.framing.state import Crop, dump, frame_number, is_number, normalize_crop, sync_timing
from lib.keys import object_key
from lib.models import AUTO_FRAME, AspectRatio, aspect_value
from lib.projects.clip_versions import (
    get_clip,
    latest_version,
    require_project,
    stored_framing,
    write_framing,
)
from lib.projects.working_clips import clip_file


def parse_auto_frame(data: Any) -> tuple[int, dict]:
    """(frame, box) from the gesture's data; BadRequest with one sentence when malformed."""
    if not isinstance(data, Mapping):
        raise BadRequest("auto_frame needs data {frame, box}.")
    frame = frame_number(data.get("frame"), "data.frame")
    box = data.get("box")
    if not isinstance(box, Mapping):
        raise BadRequest("data.box must be an object {x, y, width, height}.")
    for name in ("x", "y", "width", "height"):
        if not is_number(box.get(name)):
            raise BadRequest(f"data.box.{name} must be a number.")
    if box["width"] <= 1 or box["height"] <= 1:
        raise BadRequest("data.box must have a positive width and height.")
    return frame, {k: float(box[k]) for k in ("x", "y", "width", "height")}


def auto_frame_spec(conn: sqlite3.Connection, user_id: str, project_id: int, clip_id: int,
                    data: Any) -> dict:
    """The `follow` job spec for the gesture (validates the input and the clip's video)."""
    frame, box = parse_auto_frame(data)
    latest = latest_version(conn, get_clip(conn, project_id, clip_id))
    where = clip_file(latest)
    if where is None:
        raise BadRequest("The clip has no video yet, so there is nothing to track.")
    _, segments, _ = stored_framing(latest)
    aspect = require_project(conn, project_id)["aspect_ratio"]
    return {
        "kind": AUTO_FRAME,
        "input_key": object_key(user_id, *where),
        "frame": frame,
        "box": box,
        "segments_data": segments,
        "aspect": aspect_value(aspect) or aspect_value(AspectRatio.VERTICAL),
        "latest_id": latest["id"],
    }


def replace_crop(crop: Crop, keyframes: list[dict]) -> Crop:
    """The pure reducer: the computed keyframes become the clip's crop keyframes."""
    new = normalize_crop(keyframes)
    if not new:
        raise BadRequest("Tracking produced no keyframes.")
    return new


def apply_auto_frame(conn: sqlite3.Connection, project_id: int, clip_id: int, spec: dict,
                     keyframes: list[dict]) -> dict:
    """Store the keyframes as one framing write on the clip's newest version."""
    latest = latest_version(conn, get_clip(conn, project_id, clip_id))
    if latest["id"] != spec["latest_id"]:
        raise VersionConflict("The clip changed while the player was tracked; try again.")
    crop, segments, timing = stored_framing(latest)
    new_crop = replace_crop(crop, keyframes)
    write = write_framing(conn, clip_id, latest, new_crop, segments, sync_timing(timing, segments))
    return {**write.response(), "keyframe_count": len(new_crop),
            "crop_data": dump(new_crop), "previous_crop_data": dump(crop)}
