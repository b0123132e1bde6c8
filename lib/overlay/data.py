"""A project's overlay (regions + effect) on its CURRENT working video (#37, #38, PUT).

Everything here runs inside a unit of work over the user's database connection:
- `read_overlay_data` is the #37 payload; while the working video's overlay is untouched,
  the clips' saved highlights are restored into it (lib.overlay.highlights), and
  `persist_restored_regions` stores them, so exports and later actions see what the editor
  shows;
- `apply_overlay_action` applies one gesture (lib.overlay.actions), bumps overlay_version and
  saves the regions as the clips' default highlights for reuse by other projects;
- `replace_overlay_data` is the full-state PUT.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from lib.errors import BadRequest, NotFound, Unprocessable
from lib.models import EffectType
from lib.overlay import highlights
from lib.overlay.actions import (
    SPAN_INFERRED,
    OverlayState,
    apply_action,
    normalize_regions,
)


def _json_list(text: str | None) -> list | None:
    """The parsed JSON list, or None when the column is NULL or not a list."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def require_project(conn: sqlite3.Connection, project_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM projects WHERE id = ?", (project_id,)).fetchone()
    if row is None:
        raise NotFound(f"Project {project_id} does not exist.")
    return row


def current_working_video(conn: sqlite3.Connection, project_id: int) -> sqlite3.Row | None:
    """The project's current working video (projects.working_video_id), or None."""
    project = require_project(conn, project_id)
    if project["working_video_id"] is None:
        return None
    return conn.execute("SELECT * FROM working_videos WHERE id = ?",
                        (project["working_video_id"],)).fetchone()


def _require_working_video(conn: sqlite3.Connection, project_id: int) -> sqlite3.Row:
    video = current_working_video(conn, project_id)
    if video is None:
        raise NotFound(f"Project {project_id} has no working video yet; export the framing "
                       "first.")
    return video


@dataclass
class OverlayData:
    regions: list[dict] = field(default_factory=list)
    effect_type: str = EffectType.ORIGINAL.value
    text_overlays: list = field(default_factory=list)
    version: int = 0
    restored: bool = False  # regions came from the clips' saved highlights, not stored yet

    def as_response(self) -> dict[str, Any]:
        """#37: highlights_data is a parsed array; internal flags are not sent."""
        regions = [{k: v for k, v in r.items() if k != SPAN_INFERRED} for r in self.regions]
        return {
            "has_data": bool(regions),
            "highlights_data": regions,
            "effect_type": self.effect_type,
            "text_overlays": self.text_overlays,
            "version": self.version,
        }


def _state_of(conn: sqlite3.Connection, project_id: int,
              video: sqlite3.Row) -> tuple[OverlayState, bool]:
    """The video's regions, and whether saved highlights were restored into them.

    Restoring happens only while the overlay is untouched: no action applied yet
    (overlay_version 0) and no stored region with keyframes (the framing export's automatic
    regions carry detections only). Each clip with saved highlights then gets them instead
    of its automatic regions, transformed into this working video's space."""
    stored = normalize_regions(_json_list(video["highlights_data"]) or [])
    effect = video["effect_type"] or EffectType.ORIGINAL.value
    if video["overlay_version"] == 0 and not any(r["keyframes"] for r in stored):
        restored = highlights.restore_into(conn, project_id, video, stored)
        if restored is not None:
            return OverlayState(restored, effect), True
    return OverlayState(stored, effect), False


def read_overlay_data(conn: sqlite3.Connection, project_id: int) -> OverlayData:
    video = current_working_video(conn, project_id)
    if video is None:
        return OverlayData()
    state, restored = _state_of(conn, project_id, video)
    return OverlayData(
        regions=state.regions,
        effect_type=state.effect_type,
        text_overlays=_json_list(video["text_overlays"]) or [],
        version=video["overlay_version"],
        restored=restored,
    )


def _store_state(conn: sqlite3.Connection, video_id: int, state: OverlayState,
                 *, bump: bool) -> int:
    row = conn.execute(
        "UPDATE working_videos SET highlights_data = ?, effect_type = ?,"
        " overlay_version = overlay_version + ? WHERE id = ? RETURNING overlay_version",
        (json.dumps(state.regions), EffectType(state.effect_type).value, 1 if bump else 0,
         video_id),
    ).fetchone()
    return row[0]


def persist_restored_regions(conn: sqlite3.Connection, project_id: int) -> OverlayData:
    """Store restored highlights on an untouched working video (idempotent)."""
    data = read_overlay_data(conn, project_id)
    if data.restored:
        video = _require_working_video(conn, project_id)
        _store_state(conn, video["id"], OverlayState(data.regions, data.effect_type),
                     bump=False)
        data.restored = False
    return data


def overlay_version(conn: sqlite3.Connection, project_id: int) -> int | None:
    """The current overlay_version, or None when there is no project or working video."""
    row = conn.execute(
        "SELECT w.overlay_version FROM projects p JOIN working_videos w"
        " ON w.id = p.working_video_id WHERE p.id = ?", (project_id,)).fetchone()
    return None if row is None else row[0]


def working_state(conn: sqlite3.Connection, project_id: int) -> tuple[sqlite3.Row, OverlayState]:
    """The project's current working video and its overlay state (what a gesture changes)."""
    video = _require_working_video(conn, project_id)
    state, _ = _state_of(conn, project_id, video)
    return video, state


def save_gesture(conn: sqlite3.Connection, project_id: int, video: sqlite3.Row,
                 state: OverlayState, regions_changed: bool = True) -> int:
    """Store a gesture's new state (version + 1) and, when its regions changed, the clip
    defaults derived from them; the new version."""
    version = _store_state(conn, video["id"], state, bump=True)
    if regions_changed:
        highlights.save_clip_defaults(conn, project_id, video, state.regions)
    return version


def apply_overlay_action(conn: sqlite3.Connection, project_id: int, action: str,
                         target: dict | None = None, data: dict | None = None) -> dict:
    """#38: one gesture on the current working video → {success, version, region_id}."""
    video, state = working_state(conn, project_id)
    outcome = apply_action(state, action, target, data)
    version = save_gesture(conn, project_id, video, outcome.state, outcome.regions_changed)
    return {"success": True, "version": version, "region_id": outcome.region_id}


def _parsed(value: Any, name: str) -> Any:
    """A list sent as JSON text (the old form-encoded clients) or as an array."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise BadRequest(f"`{name}` is not valid JSON.") from None
    if not isinstance(value, list):
        raise Unprocessable(f"`{name}` must be an array.")
    return value


def replace_overlay_data(conn: sqlite3.Connection, project_id: int, highlights_data: Any,
                         effect_type: str | None = None,
                         text_overlays: Any = None) -> dict:
    """The full-state PUT: regions (normalized), effect type and text overlays."""
    video = _require_working_video(conn, project_id)
    regions = normalize_regions(_parsed(highlights_data, "highlights_data"))
    for region in regions:
        if not isinstance(region.get("id"), str) or not region["id"]:
            raise BadRequest("Every region needs a string `id`.")
    effect = video["effect_type"]
    if effect_type is not None:
        try:
            effect = EffectType(effect_type).value
        except ValueError:
            raise BadRequest(f"Unknown effect type {effect_type!r}.") from None
    version = _store_state(conn, video["id"], OverlayState(regions, effect), bump=True)
    if text_overlays is not None:
        conn.execute("UPDATE working_videos SET text_overlays = ? WHERE id = ?",
                     (json.dumps(_parsed(text_overlays, "text_overlays")), video["id"]))
    highlights.save_clip_defaults(conn, project_id, video, regions)
    return {"success": True, "version": version}
