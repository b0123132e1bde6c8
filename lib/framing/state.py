"""Framing state of a working clip, parsed: crop keyframes, segments, timing.

Shapes (contract §0.5, §8.5):
- crop_data: `[{frame:int, x, y, width, height, origin}]`, sorted and unique by frame;
- segments_data: `{boundaries:[s], segmentSpeeds:{"<index>": speed}, trimRange:{start,end}|null}`
  (other keys, e.g. `userSplits`, are carried along);
- timing_data: `{trimRange:{start,end}|null}`.
Speed keys are always strings; `trimRange` is always the object `{start,end}` or null.
"""

from __future__ import annotations

import json
import math
from typing import Any

from lib.errors import BadRequest

Crop = list[dict]
Segments = dict[str, Any]


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN/Infinity would not parse in the browser


def parse_json_text(text: Any, field: str) -> Any:
    """A JSON column as sent by the editor (a JSON string or null) → parsed value.
    Already-parsed lists/dicts are accepted as they are."""
    if text is None or isinstance(text, list | dict):
        return text
    if not isinstance(text, str):
        raise BadRequest(f"{field} must be a JSON string or null.")
    if text.strip() in ("", "null"):
        return None
    try:
        return json.loads(text, parse_constant=_no_constants)
    except ValueError:
        raise BadRequest(f"{field} is not valid JSON.") from None


def load_stored(text: str | None) -> Any:
    """A stored JSON column → parsed value (unreadable old data reads as null)."""
    try:
        return parse_json_text(text, "stored value")
    except BadRequest:
        return None


def dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def trim_range_object(value: Any) -> dict | None:
    """`{start,end}` from an object or an old `[start,end]` tuple; anything else is null."""
    if isinstance(value, list | tuple) and len(value) == 2:
        start, end = value
    elif isinstance(value, dict) and "start" in value and "end" in value:
        start, end = value["start"], value["end"]
    else:
        return None
    return {"start": start, "end": end}


def is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def frame_number(value: Any, what: str = "frame") -> int:
    if not is_number(value) or value < 0 or value != int(value):
        raise BadRequest(f"{what} must be a non-negative whole number.")
    return int(value)


def normalize_crop(value: Any) -> Crop:
    """Keyframes with integer frames, sorted, one per frame (the later one wins)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(k, dict) for k in value):
        raise BadRequest("crop_data must be a JSON array of keyframe objects.")
    by_frame: dict[int, dict] = {}
    for keyframe in value:
        if "frame" not in keyframe:
            raise BadRequest("Every crop keyframe needs a frame.")
        by_frame[frame_number(keyframe["frame"], "A keyframe's frame")] = {
            **keyframe, "frame": frame_number(keyframe["frame"])}
    return [by_frame[f] for f in sorted(by_frame)]


def normalize_segments(value: Any) -> Segments | None:
    """String speed keys and an object (or null) trimRange; other keys kept."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadRequest("segments_data must be a JSON object.")
    out = dict(value)
    if "trimRange" in out:
        out["trimRange"] = trim_range_object(out["trimRange"])
    if isinstance(out.get("segmentSpeeds"), dict):
        out["segmentSpeeds"] = {str(k): v for k, v in out["segmentSpeeds"].items()}
    elif "segmentSpeeds" in out:
        out["segmentSpeeds"] = {}
    return out


def normalize_timing(value: Any) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadRequest("timing_data must be a JSON object.")
    out = dict(value)
    if "trimRange" in out:
        out["trimRange"] = trim_range_object(out["trimRange"])
    return out


def comparable(crop: Any, segments: Any, timing: Any) -> tuple:
    """The framing state in a form where equal means 'no real change' (null ≡ empty)."""
    segments = dict(segments or {})
    segments.setdefault("boundaries", [])
    segments.setdefault("segmentSpeeds", {})
    segments.setdefault("trimRange", None)
    timing = dict(timing or {})
    timing.setdefault("trimRange", None)
    return (crop or [], segments, timing)


def has_framing_edits(crop: Any, segments: Any, timing: Any) -> bool:
    """Any keyframe, split, speed or trim: the clip is being framed."""
    segments = segments if isinstance(segments, dict) else {}
    timing = timing if isinstance(timing, dict) else {}
    return bool(
        crop
        or len(segments.get("boundaries") or []) > 2
        or segments.get("segmentSpeeds")
        or segments.get("trimRange")
        or timing.get("trimRange")
    )


def with_boundaries(segments: Segments | None, duration: float | None) -> Segments | None:
    """Segments whose boundaries are not known yet start as the client's do: one segment
    `[0, duration]` (when the clip's duration is known)."""
    has = isinstance(segments, dict) and isinstance(segments.get("boundaries"), list) \
        and len(segments["boundaries"]) >= 2
    if has or duration is None or duration <= 0:
        return segments
    return {"segmentSpeeds": {}, "trimRange": None, **(segments or {}),
            "boundaries": [0, round(duration, 6)]}


def sync_timing(timing: dict | None, segments: Segments | None) -> dict | None:
    """timing_data follows the trimRange of segments_data after a gesture."""
    if segments is None or "trimRange" not in segments:
        return timing
    current = (timing or {}).get("trimRange")
    if timing is not None and current == segments["trimRange"]:
        return timing
    return {**(timing or {}), "trimRange": segments["trimRange"]}
