"""The 8 overlay gestures (#38) as pure reducers over a working video's regions.

State = (regions, effect_type). Each reducer takes the state and the action's `target` and
`data` exactly as the editor sends them (spec/contract.md #38) and returns a new state plus
the region id it touched; the input is never mutated, so a unit of work can re-run it.

Rules the contract leaves to us (§0.3, §0.5, §8.3, §8.6):
- Region times are written as snake_case `start_time`/`end_time` only; camelCase is read.
- `add_keyframe`, `toggle_region` and `update_region` on an unknown region id create it
  (the editor never syncs the regions it creates itself). Its span is `[time, time+2]` (or
  the times sent; `[0, 2]`, the editor's default region, when no time is known) and it is
  marked `span_inferred`: keyframes added later widen it until an `update_region` sets it.
- Keyframes are kept sorted by time and unique within ±0.02 s: a keyframe replaces every
  keyframe within that tolerance. `frame = round(time*30)` (editor ticks) is stored with it.
- Deleting a region or keyframe that does not exist succeeds (the editor deletes things it
  never synced); `update_keyframe` on a missing one is a NotFound.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lib.action_fields import (
    bool_arg,
    color_arg,
    coordinate,
    first_time_arg,
    number_arg,
    object_arg,
    region_id_arg,
    seconds,
    size,
)
from lib.db.migrate import normalize_regions_json
from lib.errors import BadRequest, NotFound, Unprocessable
from lib.models import EffectType, OverlayAction
from lib.timeline.keyframes import DEFAULT_HIGHLIGHT_COLOR, DEFAULT_HIGHLIGHT_OPACITY, EDITOR_FPS

KEYFRAME_TOLERANCE = 0.02  # seconds, the editor's (and the old backend's) match window
DEFAULT_SPAN = 2.0  # seconds: a region created from a single time
SPAN_INFERRED = "span_inferred"  # region flag: the span follows its keyframes
_KEYFRAME_NUMBERS = ("x", "y", "radiusX", "radiusY")


@dataclass(frozen=True)
class OverlayState:
    regions: list[dict] = field(default_factory=list)
    effect_type: str = EffectType.ORIGINAL.value


@dataclass(frozen=True)
class ActionOutcome:
    state: OverlayState
    region_id: str | None = None
    regions_changed: bool = True


# -- reading the stored shape ---------------------------------------------------------------

def normalize_regions(regions: Any) -> list[dict]:
    """Regions as stored or sent, with snake_case times only (camelCase read: §8.6).
    Non-list input gives no regions; non-dict items are dropped."""
    if not isinstance(regions, list):
        return []
    text = normalize_regions_json(json.dumps([r for r in regions if isinstance(r, dict)]))
    out = json.loads(text)  # a fresh copy: callers may change it freely
    for region in out:
        keyframes = region.get("keyframes")
        region["keyframes"] = ([k for k in keyframes if isinstance(k, dict)]
                               if isinstance(keyframes, list) else [])
    return out


def editor_frame(time: float) -> int:
    """The editor's keyframe tick: Math.round(time * 30) (half rounds up, as in JS)."""
    return math.floor(time * EDITOR_FPS + 0.5)


def keyframe_time(keyframe: dict) -> float:
    """A keyframe's time in seconds (`time`, else `frame / 30`)."""
    time = keyframe.get("time")
    if isinstance(time, int | float) and not isinstance(time, bool):
        return float(time)
    frame = keyframe.get("frame")
    if isinstance(frame, int | float) and not isinstance(frame, bool):
        return float(frame) / EDITOR_FPS
    return 0.0


def _keyframe_from(data: dict, where: str = "data") -> dict:
    """A stored keyframe from the editor's add_keyframe data."""
    time = first_time_arg(data, ("time",), where)
    if time is None:
        frame = number_arg(data, "frame", where, required=False)
        if frame is None:
            raise BadRequest(f"`{where}.time` is required.")
        time = seconds(frame / EDITOR_FPS, f"{where}.frame / {EDITOR_FPS}")
    keyframe: dict[str, Any] = {"time": time, "frame": editor_frame(time)}
    for key in _KEYFRAME_NUMBERS:
        check = size if key.startswith("radius") else coordinate
        keyframe[key] = check(number_arg(data, key, where), f"{where}.{key}")
    opacity = number_arg(data, "opacity", where, default=DEFAULT_HIGHLIGHT_OPACITY)
    keyframe["opacity"] = min(1.0, max(0.0, opacity))
    keyframe["color"] = color_arg(data, where, DEFAULT_HIGHLIGHT_COLOR)
    if bool_arg(data, "fromDetection", where):
        keyframe["fromDetection"] = True
    return keyframe


# -- region helpers -------------------------------------------------------------------------

def find_region(regions: list[dict], region_id: str) -> dict | None:
    return next((r for r in regions if r.get("id") == region_id), None)


def _new_region(region_id: str, start: float, end: float, *, inferred: bool) -> dict:
    region = {"id": region_id, "start_time": start, "end_time": end, "enabled": True,
              "keyframes": []}
    if inferred:
        region[SPAN_INFERRED] = True
    return region


def _region_or_create(regions: list[dict], region_id: str, start: float | None,
                      end: float | None) -> dict:
    """The region, created with an inferred span when the server never saw it (§0.3)."""
    region = find_region(regions, region_id)
    if region is None:
        if start is None and end is None:
            start, end = 0.0, DEFAULT_SPAN
        elif start is None:
            start = max(0.0, end - DEFAULT_SPAN)
        elif end is None or end <= start:
            end = start + DEFAULT_SPAN
        region = _new_region(region_id, start, end, inferred=True)
        regions.append(region)
    return region


def _cover_keyframes(region: dict) -> None:
    """Widen an inferred span so it covers every keyframe."""
    if not region.get(SPAN_INFERRED) or not region.get("keyframes"):
        return
    times = [keyframe_time(k) for k in region["keyframes"]]
    region["start_time"] = min(float(region.get("start_time") or 0.0), min(times))
    region["end_time"] = max(float(region.get("end_time") or 0.0), max(times))


def _check_span(region: dict) -> None:
    start, end = region.get("start_time"), region.get("end_time")
    if isinstance(start, int | float) and isinstance(end, int | float) and end <= start:
        raise BadRequest("A region must end after it starts.")


def _insert_keyframe(region: dict, keyframe: dict) -> None:
    """Upsert by time: drop every keyframe within the tolerance, insert, keep sorted."""
    t = keyframe["time"]
    kept = [k for k in region.get("keyframes") or []
            if isinstance(k, dict) and abs(keyframe_time(k) - t) > KEYFRAME_TOLERANCE]
    kept.append(keyframe)
    kept.sort(key=keyframe_time)
    region["keyframes"] = kept


def _next_region_id(regions: list[dict]) -> str:
    used = {r.get("id") for r in regions}
    n = len(regions) + 1
    while f"region-{n}" in used:
        n += 1
    return f"region-{n}"


def _start(state: OverlayState) -> tuple[list[dict], str]:
    return normalize_regions(state.regions), state.effect_type


# -- the 8 gestures ------------------------------------------------------------------------

def create_region(state: OverlayState, target: dict | None, data: dict | None) -> ActionOutcome:
    target, data = object_arg(target, "target"), object_arg(data, "data")
    regions, effect = _start(state)
    region_id = region_id_arg(target, data, required=False) or _next_region_id(regions)
    start = first_time_arg(data, ("start_time", "startTime"), "data")
    if start is None:
        raise BadRequest("`data.start_time` is required.")
    end = first_time_arg(data, ("end_time", "endTime"), "data")
    end = start + DEFAULT_SPAN if end is None else end
    region = find_region(regions, region_id)
    if region is None:
        region = _new_region(region_id, start, end, inferred=False)
        regions.append(region)
    else:  # a retried create: same region, span as sent
        region["start_time"], region["end_time"] = start, end
        region.pop(SPAN_INFERRED, None)
    _check_span(region)
    return ActionOutcome(OverlayState(regions, effect), region_id)


def delete_region(state: OverlayState, target: dict | None, data: dict | None) -> ActionOutcome:
    target, data = object_arg(target, "target"), object_arg(data, "data")
    regions, effect = _start(state)
    region_id = region_id_arg(target, data)
    kept = [r for r in regions if r.get("id") != region_id]
    return ActionOutcome(OverlayState(kept, effect), region_id, len(kept) != len(regions))


def update_region(state: OverlayState, target: dict | None, data: dict | None) -> ActionOutcome:
    target, data = object_arg(target, "target"), object_arg(data, "data")
    regions, effect = _start(state)
    region_id = region_id_arg(target, data)
    start = first_time_arg(data, ("start_time", "startTime"), "data")
    end = first_time_arg(data, ("end_time", "endTime"), "data")
    enabled = bool_arg(data, "enabled", "data")
    if start is None and end is None and enabled is None:
        raise BadRequest("update_region needs `data.start_time`, `data.end_time` or "
                         "`data.enabled`.")
    region = _region_or_create(regions, region_id, start, end)
    if start is not None:
        region["start_time"] = start
    if end is not None:
        region["end_time"] = end
    if start is not None or end is not None:
        region.pop(SPAN_INFERRED, None)
    if enabled is not None:
        region["enabled"] = enabled
    _check_span(region)
    return ActionOutcome(OverlayState(regions, effect), region_id)


def toggle_region(state: OverlayState, target: dict | None, data: dict | None) -> ActionOutcome:
    target, data = object_arg(target, "target"), object_arg(data, "data")
    regions, effect = _start(state)
    region_id = region_id_arg(target, data)
    enabled = bool_arg(data, "enabled", "data")
    region = _region_or_create(regions, region_id, None, None)
    region["enabled"] = (region.get("enabled") is False) if enabled is None else enabled
    return ActionOutcome(OverlayState(regions, effect), region_id)


def add_keyframe(state: OverlayState, target: dict | None, data: dict | None) -> ActionOutcome:
    target, data = object_arg(target, "target"), object_arg(data, "data")
    regions, effect = _start(state)
    region_id = region_id_arg(target, data)
    keyframe = _keyframe_from(data)
    region = _region_or_create(regions, region_id, keyframe["time"], None)
    _insert_keyframe(region, keyframe)
    _cover_keyframes(region)
    return ActionOutcome(OverlayState(regions, effect), region_id)


def _keyframe_index(region: dict, time: float) -> int | None:
    best, best_gap = None, KEYFRAME_TOLERANCE
    for i, k in enumerate(region.get("keyframes") or []):
        gap = abs(keyframe_time(k) - time)
        if gap <= best_gap:
            best, best_gap = i, gap
    return best


def _target_time(target: dict) -> float:
    time = first_time_arg(target, ("keyframe_time", "time"), "target")
    if time is None:
        frame = number_arg(target, "frame", "target", required=False)
        if frame is None:
            raise BadRequest("`target.keyframe_time` is required.")
        time = seconds(frame / EDITOR_FPS, f"target.frame / {EDITOR_FPS}")
    return time


def update_keyframe(state: OverlayState, target: dict | None, data: dict | None) -> ActionOutcome:
    target, data = object_arg(target, "target"), object_arg(data, "data")
    regions, effect = _start(state)
    region_id = region_id_arg(target, data)
    at = _target_time(target)
    region = find_region(regions, region_id)
    if region is None:
        raise NotFound(f"Region {region_id} does not exist.")
    index = _keyframe_index(region, at)
    if index is None:
        raise NotFound(f"Region {region_id} has no keyframe at {at:.3f} s.")
    keyframe = dict(region["keyframes"].pop(index))
    merged = {**keyframe, "time": keyframe_time(keyframe)}
    for key in ("time", "frame", *_KEYFRAME_NUMBERS, "opacity", "color", "fromDetection"):
        if key in data:
            merged[key] = data[key]
    if "time" not in data and "frame" in data:
        merged.pop("time")
    _insert_keyframe(region, _keyframe_from(merged))
    _cover_keyframes(region)
    return ActionOutcome(OverlayState(regions, effect), region_id)


def delete_keyframe(state: OverlayState, target: dict | None, data: dict | None) -> ActionOutcome:
    target, data = object_arg(target, "target"), object_arg(data, "data")
    regions, effect = _start(state)
    region_id = region_id_arg(target, data)
    at = _target_time(target)
    region = find_region(regions, region_id)
    changed = False
    if region is not None:
        before = region.get("keyframes") or []
        region["keyframes"] = [k for k in before
                               if abs(keyframe_time(k) - at) > KEYFRAME_TOLERANCE]
        changed = len(region["keyframes"]) != len(before)
    return ActionOutcome(OverlayState(regions, effect), region_id, changed)


def set_effect_type(state: OverlayState, target: dict | None, data: dict | None) -> ActionOutcome:
    data = object_arg(data, "data")
    value = data.get("effect_type", data.get("effectType"))
    if value is None:
        raise BadRequest("`data.effect_type` is required.")
    if not isinstance(value, str):
        raise Unprocessable("`data.effect_type` must be a string.")
    try:
        effect = EffectType(value)
    except ValueError:
        allowed = ", ".join(e.value for e in EffectType)
        raise BadRequest(f"Unknown effect type {value!r}; use one of {allowed}.") from None
    regions = normalize_regions(state.regions)
    return ActionOutcome(OverlayState(regions, effect.value), None, regions_changed=False)


Reducer = Callable[[OverlayState, dict | None, dict | None], ActionOutcome]

REDUCERS: dict[OverlayAction, Reducer] = {
    OverlayAction.CREATE_REGION: create_region,
    OverlayAction.DELETE_REGION: delete_region,
    OverlayAction.UPDATE_REGION: update_region,
    OverlayAction.TOGGLE_REGION: toggle_region,
    OverlayAction.ADD_KEYFRAME: add_keyframe,
    OverlayAction.UPDATE_KEYFRAME: update_keyframe,
    OverlayAction.DELETE_KEYFRAME: delete_keyframe,
    OverlayAction.SET_EFFECT_TYPE: set_effect_type,
}


def apply_action(state: OverlayState, action: str, target: dict | None = None,
                 data: dict | None = None) -> ActionOutcome:
    """Apply one gesture; unknown actions are a BadRequest."""
    try:
        reducer = REDUCERS[OverlayAction(action)]
    except ValueError:
        allowed = ", ".join(a.value for a in OverlayAction)
        raise BadRequest(f"Unknown overlay action {action!r}; use one of {allowed}.") from None
    return reducer(state, target, data)
