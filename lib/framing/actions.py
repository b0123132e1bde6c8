"""The 9 Framing gestures (#21) as pure reducers `(crop_data, segments_data, action) ->
(crop_data, segments_data)` over PARSED framing state (lib.framing.state); they never mutate
their inputs. A refused gesture raises BadRequest.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from lib.action_fields import MAX_SECONDS, bounded, coordinate, finite, frame, seconds, size
from lib.errors import BadRequest
from lib.framing.state import (
    Crop,
    Segments,
    is_number,
    normalize_crop,
    normalize_segments,
    trim_range_object,
)
from lib.models import CropKeyframeOrigin, FramingAction

Reducer = Callable[[Crop, "Segments | None", dict, dict], "tuple[Crop, Segments | None]"]

# Two boundary times closer than this are the same boundary (the client's tolerance).
TIME_TOLERANCE = 0.01
KEYFRAME_FIELDS = ("x", "y", "width", "height")
MAX_SPEED = 100.0


# -- crop gestures -------------------------------------------------------------------------------

def _crop_field(name: str, value: Any) -> float | int:
    """x/y within the video, width/height at least a pixel (lib.action_fields bounds)."""
    check = coordinate if name in ("x", "y") else size
    checked = check(value, f"data.{name}")
    return value if checked == value else checked


def _keyframe_from(data: Mapping, frame: int, origin: str) -> dict:
    keyframe: dict[str, Any] = {"frame": frame}
    for name in KEYFRAME_FIELDS:
        if finite(data.get(name), f"data.{name}") is None:
            raise BadRequest(f"A crop keyframe needs a numeric {name}.")
        keyframe[name] = _crop_field(name, data[name])
    keyframe["origin"] = origin
    return keyframe


def _origin(value: Any, default: CropKeyframeOrigin) -> str:
    if value is None:
        return default.value
    try:
        return CropKeyframeOrigin(value).value
    except ValueError:
        raise BadRequest(f"Unknown keyframe origin {value!r}.") from None


def _targetframe_number(target: Mapping, data: Mapping) -> int:
    frame = target.get("frame", data.get("frame") if not target else None)
    if frame is None:
        raise BadRequest("The action needs target.frame.")
    return gesture_frame(frame, "target.frame")


def _index(crop: Crop, frame: int) -> int | None:
    for i, keyframe in enumerate(crop):
        if keyframe["frame"] == frame:
            return i
    return None


def _upsert(crop: Crop, keyframe: dict) -> Crop:
    out = [k for k in crop if k["frame"] != keyframe["frame"]]
    out.append(keyframe)
    out.sort(key=lambda k: k["frame"])
    return out


def _is_permanent(keyframe: Mapping) -> bool:
    return keyframe.get("origin") == CropKeyframeOrigin.PERMANENT


def add_crop_keyframe(crop: Crop, segments: Segments | None, target: dict, data: dict):
    """Upsert by frame; a permanent keyframe stays permanent when overwritten."""
    frame = gesture_frame(data.get("frame", target.get("frame")), "data.frame")
    origin = _origin(data.get("origin"), CropKeyframeOrigin.USER)
    existing = _index(crop, frame)
    if existing is not None and _is_permanent(crop[existing]):
        origin = CropKeyframeOrigin.PERMANENT.value
    return _upsert(crop, _keyframe_from(data, frame, origin)), segments


def update_crop_keyframe(crop: Crop, segments: Segments | None, target: dict, data: dict):
    frame = _targetframe_number(target, data)
    i = _index(crop, frame)
    if i is None:
        raise BadRequest(f"There is no crop keyframe at frame {frame}.")
    keyframe = dict(crop[i])
    for name in KEYFRAME_FIELDS:
        if name in data:
            if finite(data[name], f"data.{name}") is None:
                raise BadRequest(f"{name} must be a number.")
            keyframe[name] = _crop_field(name, data[name])
    if "origin" in data and not _is_permanent(keyframe):
        keyframe["origin"] = _origin(data["origin"], CropKeyframeOrigin.USER)
    return _upsert(crop, keyframe), segments


def delete_crop_keyframe(crop: Crop, segments: Segments | None, target: dict, data: dict):
    """Deleting a keyframe that is already gone changes nothing; permanent ones stay."""
    frame = _targetframe_number(target, data)
    i = _index(crop, frame)
    if i is None:
        return crop, segments
    if _is_permanent(crop[i]):
        raise BadRequest("Permanent crop keyframes (the clip's start and end) cannot be deleted.")
    return [k for k in crop if k["frame"] != frame], segments


def move_crop_keyframe(crop: Crop, segments: Segments | None, target: dict, data: dict):
    """Move target.frame to data.frame (optionally with new x/y/width/height)."""
    source = _targetframe_number(target, {})
    dest = gesture_frame(data.get("frame"), "data.frame")
    i = _index(crop, source)
    if i is None:
        raise BadRequest(f"There is no crop keyframe at frame {source}.")
    if _is_permanent(crop[i]):
        raise BadRequest("Permanent crop keyframes cannot be moved.")
    j = _index(crop, dest)
    if j is not None and j != i and _is_permanent(crop[j]):
        raise BadRequest("A keyframe cannot replace a permanent crop keyframe.")
    moved = {**crop[i], "frame": dest}
    for name in KEYFRAME_FIELDS:
        if name in data:
            if finite(data[name], f"data.{name}") is None:
                raise BadRequest(f"{name} must be a number.")
            moved[name] = _crop_field(name, data[name])
    rest = [k for k in crop if k["frame"] != source]
    return _upsert(rest, moved), segments


# -- segment gestures ----------------------------------------------------------------------------

def _segments(segments: Segments | None) -> Segments:
    out = copy.deepcopy(segments) if segments else {}
    out["segmentSpeeds"] = {str(k): v for k, v in (out.get("segmentSpeeds") or {}).items()}
    out["trimRange"] = trim_range_object(out.get("trimRange"))
    return out


def _time(data: Mapping, name: str = "time", high: float = MAX_SECONDS) -> float:
    value = data.get(name)
    if finite(value, f"data.{name}") is None or value < 0:
        raise BadRequest(f"data.{name} must be a non-negative number of seconds.")
    seconds(value, f"data.{name}", high)
    return value


def gesture_frame(value: Any, what: str) -> int:
    if finite(value, what) is None:
        raise BadRequest(f"{what} must be a non-negative whole number.")
    return frame(value, what)


def _boundaries(seg: Segments) -> list:
    boundaries = seg.get("boundaries")
    if not isinstance(boundaries, list) or len(boundaries) < 2:
        raise BadRequest("The clip has no segment boundaries yet; save its framing first.")
    return sorted(boundaries)


def split_segment(crop: Crop, segments: Segments | None, target: dict, data: dict):
    """Add a boundary at data.time (no-op when one is already within 0.01 s). As in the
    client, the speed map is kept as it is (indices are not shifted)."""
    time = _time(data)
    seg = _segments(segments)
    boundaries = _boundaries(seg)
    if any(abs(b - time) < TIME_TOLERANCE for b in boundaries):
        return crop, seg
    if not boundaries[0] < time < boundaries[-1]:
        raise BadRequest("A split must fall inside the clip.")
    seg["boundaries"] = sorted([*boundaries, time])
    if isinstance(seg.get("userSplits"), list):
        seg["userSplits"] = sorted([*seg["userSplits"], time])
    return crop, seg


def remove_segment_split(crop: Crop, segments: Segments | None, target: dict, data: dict):
    """As the client does: remove the inner boundary within 0.01 s of data.time, keep the
    other speeds unchanged, and clear trimRange if the removed boundary was a trim edge."""
    time = _time(data)
    seg = _segments(segments)
    boundaries = _boundaries(seg)
    inner = [b for b in boundaries[1:-1] if abs(b - time) < TIME_TOLERANCE]
    if not inner:
        return crop, seg
    removed = min(inner, key=lambda b: abs(b - time))
    seg["boundaries"] = [b for b in boundaries if b != removed]
    if isinstance(seg.get("userSplits"), list):
        seg["userSplits"] = [
            s for s in seg["userSplits"]
            if not (is_number(s) and abs(s - removed) < TIME_TOLERANCE)]
    trim = seg["trimRange"]
    if trim and any(is_number(trim[k]) and abs(trim[k] - removed) < TIME_TOLERANCE
                    for k in ("start", "end")):
        seg["trimRange"] = None
    return crop, seg


def set_segment_speed(crop: Crop, segments: Segments | None, target: dict, data: dict):
    index = target.get("segment_index", data.get("segment_index"))
    index = gesture_frame(index, "target.segment_index") if index is not None else None
    if index is None:
        raise BadRequest("The action needs target.segment_index.")
    speed = data.get("speed")
    if finite(speed, "data.speed") is None or speed <= 0:
        raise BadRequest("data.speed must be a positive number.")
    bounded(speed, "data.speed", 0, MAX_SPEED)
    seg = _segments(segments)
    boundaries = seg.get("boundaries")
    if isinstance(boundaries, list) and len(boundaries) >= 2 and index >= len(boundaries) - 1:
        raise BadRequest(f"The clip has no segment {index}.")
    seg["segmentSpeeds"][str(index)] = speed
    return crop, seg


def set_trim_range(crop: Crop, segments: Segments | None, target: dict, data: dict):
    seg = _segments(segments)
    boundaries = seg.get("boundaries")
    high = MAX_SECONDS
    if isinstance(boundaries, list) and len(boundaries) >= 2 and all(map(is_number, boundaries)):
        high = max(boundaries) + TIME_TOLERANCE  # within the clip
    start, end = _time(data, "start", high), _time(data, "end", high)
    if end <= start:
        raise BadRequest("The trim range must end after it starts.")
    seg["trimRange"] = {"start": start, "end": end}
    return crop, seg


def clear_trim_range(crop: Crop, segments: Segments | None, target: dict, data: dict):
    seg = _segments(segments)
    seg["trimRange"] = None
    return crop, seg


SEGMENT_ACTIONS = frozenset({
    FramingAction.SPLIT_SEGMENT, FramingAction.REMOVE_SEGMENT_SPLIT,
    FramingAction.SET_SEGMENT_SPEED, FramingAction.SET_TRIM_RANGE, FramingAction.CLEAR_TRIM_RANGE,
})

REDUCERS: dict[FramingAction, Reducer] = {
    FramingAction.ADD_CROP_KEYFRAME: add_crop_keyframe,
    FramingAction.UPDATE_CROP_KEYFRAME: update_crop_keyframe,
    FramingAction.DELETE_CROP_KEYFRAME: delete_crop_keyframe,
    FramingAction.MOVE_CROP_KEYFRAME: move_crop_keyframe,
    FramingAction.SPLIT_SEGMENT: split_segment,
    FramingAction.REMOVE_SEGMENT_SPLIT: remove_segment_split,
    FramingAction.SET_SEGMENT_SPEED: set_segment_speed,
    FramingAction.SET_TRIM_RANGE: set_trim_range,
    FramingAction.CLEAR_TRIM_RANGE: clear_trim_range,
}


def apply_action(crop_data: Any, segments_data: Any,
                 action: Mapping[str, Any]) -> tuple[Crop, Segments | None]:
    """Apply one gesture `{action, target?, data?}` to parsed framing state."""
    name = action.get("action")
    try:
        kind = FramingAction(name)
    except ValueError:
        raise BadRequest(f"Unknown framing action {name!r}.") from None
    target = action.get("target") or {}
    data = action.get("data") or {}
    if not isinstance(target, Mapping) or not isinstance(data, Mapping):
        raise BadRequest("target and data must be JSON objects.")
    crop = copy.deepcopy(normalize_crop(crop_data))
    segments = copy.deepcopy(normalize_segments(segments_data))
    return REDUCERS[kind](crop, segments, dict(target), dict(data))
