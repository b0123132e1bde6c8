"""Project clips (#17–#22): list, add from the library, upload, full-state save, gestures,
reorder, delete. Every function is a unit of work body over one user's connection."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from lib.errors import BadRequest, NotFound
from lib.framing.actions import SEGMENT_ACTIONS, apply_action
from lib.framing.state import (
    dump,
    load_stored,
    normalize_crop,
    normalize_segments,
    normalize_timing,
    parse_json_text,
    sync_timing,
    with_boundaries,
)
from lib.keys import Kind
from lib.names import clamp_rating, name_to_store, normalize_tags
from lib.projects.clip_versions import (
    FramingWrite,
    clip_display_name,
    clip_tags,
    get_clip,
    latest_clips,
    latest_version,
    require_project,
    stored_framing,
    write_framing,
)
from lib.projects.extraction import enqueue, extraction_states
from lib.projects.projects import add_working_clip

UrlFor = Callable[[Kind, str], str | None]


def clip_file(row: Mapping) -> tuple[Kind, str] | None:
    """Where a clip's video lives: its upload, or its raw clip's extracted file."""
    if row["uploaded_filename"]:
        return Kind.UPLOADS, row["uploaded_filename"]
    if row["raw_filename"]:
        return Kind.RAW_CLIPS, row["raw_filename"]
    return None


def clip_states(conn: sqlite3.Connection, rows: list[Mapping]) -> dict[int, dict]:
    """Extraction state per working-clip id (a clip with an upload is always extracted)."""
    states = extraction_states(conn, [r["raw_clip_id"] for r in rows if r["raw_clip_id"]])
    out = {}
    for row in rows:
        state = states.get(row["raw_clip_id"]) or {
            "is_extracted": False, "is_extracting": False, "extraction_status": None}
        if row["uploaded_filename"]:
            state = {**state, "is_extracted": True}
        out[row["id"]] = state
    return out


def _wire_json(text: str | None) -> str | None:
    """A JSON column as the framing side reads it: a JSON string or null, never broken."""
    return dump(load_stored(text))


def clip_item(row: Mapping, state: Mapping, url_for: UrlFor) -> dict:
    where = clip_file(row)
    return {
        "id": row["id"],
        "project_id": row["project_id"],
        "raw_clip_id": row["raw_clip_id"],
        "identity": row["identity"],
        "version": row["version"],
        "sort_order": row["sort_order"],
        "exported_at": row["exported_at"],
        "filename": where[1] if where else "",
        "file_url": url_for(*where) if where else None,
        "name": clip_display_name(row),
        "notes": row["notes"] or "",
        "crop_data": _wire_json(row["crop_data"]),
        "segments_data": _wire_json(row["segments_data"]),
        "timing_data": _wire_json(row["timing_data"]),
        "game_id": row["game_id"],
        "start_time": row["start_time"],
        "end_time": row["end_time"],
        "tags": clip_tags(row),
        "rating": row["rating"],
        "raw_clip_version": row["raw_clip_version"],
        "created_at": row["created_at"],
        "is_extracted": state["is_extracted"],
        "is_extracting": state["is_extracting"],
        "extraction_status": state["extraction_status"],
    }


def list_clips(conn: sqlite3.Connection, project_id: int, url_for: UrlFor) -> list[dict]:
    """#17: the latest version of each clip, in clip order."""
    require_project(conn, project_id)
    rows = latest_clips(conn, project_id)
    states = clip_states(conn, rows)
    return [clip_item(row, states[row["id"]], url_for) for row in rows]


def clip_for_file(conn: sqlite3.Connection, project_id: int, clip_id: int) -> tuple[Kind, str]:
    """#22: where the clip's video is (404 while it has none)."""
    where = clip_file(get_clip(conn, project_id, clip_id))
    if where is None:
        raise NotFound("The clip's video has not been extracted yet.")
    return where


def add_clip_from_library(conn: sqlite3.Connection, project_id: int,
                          raw_clip_id: int) -> tuple[int, int | None]:
    """#18: a new clip (new identity) at the end; queues extraction when it has no file.
    Returns (working clip id, extraction task id or None) — dispatch the task after commit."""
    require_project(conn, project_id)
    if conn.execute("SELECT 1 FROM raw_clips WHERE id = ?", (raw_clip_id,)).fetchone() is None:
        raise NotFound(f"Clip {raw_clip_id} was not found in the library.")
    clip_id = add_working_clip(conn, project_id, raw_clip_id=raw_clip_id)
    return clip_id, enqueue(conn, raw_clip_id, project_id)


def parse_tags_field(text: str | None) -> list[str]:
    """The upload form's `tags`: a JSON array of strings (a comma list is accepted too)."""
    if not text or not text.strip():
        return []
    try:
        value = json.loads(text)
    except ValueError:
        if text.lstrip().startswith("["):
            raise BadRequest("tags must be a JSON array of strings.") from None
        return normalize_tags(text.split(","))
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise BadRequest("tags must be a JSON array of strings.")
    return normalize_tags(value)


def create_uploaded_clip(conn: sqlite3.Connection, project_id: int, filename: str, *,
                         name: str, rating: int | None, tags: list[str], notes: str) -> int:
    """#19: the uploaded file (already stored as raw_clips/{filename}) becomes a library clip
    without a game, and a clip of the project. Returns the working clip id."""
    require_project(conn, project_id)
    rating = clamp_rating(rating)
    tags = normalize_tags(tags)
    cur = conn.execute(
        "INSERT INTO raw_clips (filename, rating, tags, name, notes, game_id)"
        " VALUES (?, ?, ?, ?, ?, NULL)",
        (filename, rating, json.dumps(tags), name_to_store(name, rating, tags), notes or ""),
    )
    return add_working_clip(conn, project_id, raw_clip_id=cur.lastrowid)


def save_framing_state(conn: sqlite3.Connection, project_id: int, clip_id: int,
                       values: Mapping[str, Any]) -> FramingWrite:
    """#20: the full framing state (JSON strings as sent; absent keys keep their value)."""
    latest = latest_version(conn, get_clip(conn, project_id, clip_id))
    crop, segments, timing = stored_framing(latest)
    if "crop_data" in values:
        crop = normalize_crop(parse_json_text(values["crop_data"], "crop_data"))
    if "segments_data" in values:
        segments = normalize_segments(parse_json_text(values["segments_data"], "segments_data"))
    if "timing_data" in values:
        timing = normalize_timing(parse_json_text(values["timing_data"], "timing_data"))
    return write_framing(conn, clip_id, latest, crop, segments, timing)


def apply_framing_action(conn: sqlite3.Connection, project_id: int, clip_id: int,
                         action: Mapping[str, Any]) -> FramingWrite:
    """#21: one gesture, applied to the newest version of the clip's identity."""
    latest = latest_version(conn, get_clip(conn, project_id, clip_id))
    crop, segments, timing = stored_framing(latest)
    if action.get("action") in SEGMENT_ACTIONS:
        segments = with_boundaries(segments, clip_duration(latest))
    new_crop, new_segments = apply_action(crop, segments, action)
    return write_framing(conn, clip_id, latest, new_crop, new_segments,
                         sync_timing(timing, new_segments))


def clip_duration(row: Mapping) -> float | None:
    """The library clip's length (what the client's first segment spans)."""
    if row["start_time"] is None or row["end_time"] is None:
        return None
    return row["end_time"] - row["start_time"]


def _identity_of(conn: sqlite3.Connection, project_id: int, clip_id: int) -> str:
    return get_clip(conn, project_id, clip_id)["identity"]


def reorder_clips(conn: sqlite3.Connection, project_id: int, clip_ids: list[int]) -> int:
    """Clips named (any version of them) first, in that order; the others keep their
    relative order after them. Returns how many clips the project has."""
    require_project(conn, project_id)
    wanted: list[str] = []
    for clip_id in clip_ids:
        identity = _identity_of(conn, project_id, clip_id)
        if identity not in wanted:
            wanted.append(identity)
    rest = [r["identity"] for r in latest_clips(conn, project_id) if r["identity"] not in wanted]
    for position, identity in enumerate(wanted + rest):
        conn.execute("UPDATE working_clips SET sort_order = ? WHERE project_id = ?"
                     " AND identity = ?", (position, project_id, identity))
    return len(wanted) + len(rest)


def delete_clip(conn: sqlite3.Connection, project_id: int,
                clip_id: int) -> tuple[int, list[tuple[Kind, str]]]:
    """Delete every version of the clip. Returns (rows deleted, objects to delete after the
    commit: uploads no other clip uses)."""
    identity = _identity_of(conn, project_id, clip_id)
    uploads = [r[0] for r in conn.execute(
        "SELECT DISTINCT uploaded_filename FROM working_clips WHERE project_id = ? AND"
        " identity = ? AND uploaded_filename IS NOT NULL", (project_id, identity))]
    deleted = conn.execute("DELETE FROM working_clips WHERE project_id = ? AND identity = ?",
                           (project_id, identity)).rowcount
    orphans = [
        (Kind.UPLOADS, name) for name in uploads
        if conn.execute("SELECT 1 FROM working_clips WHERE uploaded_filename = ?",
                        (name,)).fetchone() is None
    ]
    return deleted, orphans
