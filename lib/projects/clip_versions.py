"""Working-clip identities and versions (data-model.md "Versioning rules").

Every version of one project clip shares its `identity`; the latest version is the one with
the highest `version`. A framing edit on a clip whose latest version was exported inserts ONE
new version (exported_at NULL, raw_clip_version refreshed); otherwise it updates in place.
Edits addressed to any version of an identity land on its latest version (contract §0.4).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lib.errors import NotFound
from lib.framing.state import (
    comparable,
    dump,
    load_stored,
    normalize_crop,
    normalize_segments,
    normalize_timing,
)
from lib.names import display_clip_name, normalize_tags

IS_LATEST = (
    "wc.version = (SELECT MAX(w2.version) FROM working_clips w2"
    " WHERE w2.identity = wc.identity AND w2.project_id = wc.project_id)"
)
CLIP_SELECT = (
    "SELECT wc.*, r.filename AS raw_filename, r.name AS raw_name, r.rating, r.tags, r.notes,"
    " r.start_time, r.end_time, r.game_id, r.boundaries_version"
    " FROM working_clips wc LEFT JOIN raw_clips r ON r.id = wc.raw_clip_id"
)


def require_project(conn: sqlite3.Connection, project_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM projects WHERE id = ?", (project_id,)).fetchone()
    if row is None:
        raise NotFound(f"Project {project_id} was not found.")
    return row


def get_clip(conn: sqlite3.Connection, project_id: int, clip_id: int) -> sqlite3.Row:
    """One working-clip row (any version) of the project, joined with its raw clip."""
    row = conn.execute(CLIP_SELECT + " WHERE wc.id = ? AND wc.project_id = ?",
                       (clip_id, project_id)).fetchone()
    if row is None:
        require_project(conn, project_id)
        raise NotFound(f"Clip {clip_id} was not found in project {project_id}.")
    return row


def latest_version(conn: sqlite3.Connection, row: sqlite3.Row) -> sqlite3.Row:
    """The newest version of `row`'s identity (joined like get_clip)."""
    return conn.execute(
        CLIP_SELECT + " WHERE wc.identity = ? AND wc.project_id = ? ORDER BY wc.version DESC"
        " LIMIT 1",
        (row["identity"], row["project_id"]),
    ).fetchone()


def latest_clips(conn: sqlite3.Connection, project_id: int | None = None) -> list[sqlite3.Row]:
    """The latest version of every clip (of one project, or of all), in clip order."""
    where = f" WHERE {IS_LATEST}"
    params: tuple = ()
    if project_id is not None:
        where += " AND wc.project_id = ?"
        params = (project_id,)
    return conn.execute(
        CLIP_SELECT + where + " ORDER BY wc.project_id, wc.sort_order, wc.id", params
    ).fetchall()


def clip_tags(row: Mapping) -> list[str]:
    """The clip's tags, short names (old data may hold long ones)."""
    tags = load_stored(row["tags"])
    return normalize_tags(str(t) for t in tags) if isinstance(tags, list) else []


def clip_display_name(row: Mapping) -> str:
    """The name the editor shows (stored name, or derived from rating and tags)."""
    if row["raw_clip_id"] is None:
        return ""
    return display_clip_name(row["raw_name"], row["rating"], clip_tags(row))


def stored_framing(row: sqlite3.Row) -> tuple[Any, Any, Any]:
    """(crop, segments, timing) of a row, parsed and normalized."""
    return (
        normalize_crop(load_stored(row["crop_data"])),
        normalize_segments(load_stored(row["segments_data"])),
        normalize_timing(load_stored(row["timing_data"])),
    )


@dataclass(frozen=True)
class FramingWrite:
    """Where a framing edit landed. `clip_id` differs from `requested_id` when the edit went
    to a newer version of the clip (just created, or created by an earlier edit)."""

    requested_id: int
    clip_id: int
    version: int
    changed: bool
    created: bool

    def response(self) -> dict:
        body: dict[str, Any] = {"success": True,
                                "refresh_required": self.clip_id != self.requested_id}
        if body["refresh_required"]:
            body["new_clip_id"] = self.clip_id
            body["new_version"] = self.version
        return body


def write_framing(conn: sqlite3.Connection, requested_id: int, latest: sqlite3.Row,
                  crop: Any, segments: Any, timing: Any, *,
                  raw_clip_version: int | None = None) -> FramingWrite:
    """Store new framing state on the latest version `latest`, following the versioning rule.
    Inputs are parsed, normalized values. Unchanged state (compared parsed, null ≡ empty)
    writes nothing. `raw_clip_version`, when given, is part of the change."""
    unchanged = comparable(crop, segments, timing) == comparable(*stored_framing(latest))
    if raw_clip_version is not None and raw_clip_version != latest["raw_clip_version"]:
        unchanged = False
    if unchanged:
        return FramingWrite(requested_id, latest["id"], latest["version"], False, False)
    texts = (dump(crop), dump(timing), dump(segments))
    if latest["exported_at"] is None:
        version = raw_clip_version if raw_clip_version is not None else latest["raw_clip_version"]
        conn.execute(
            "UPDATE working_clips SET crop_data = ?, timing_data = ?, segments_data = ?,"
            " raw_clip_version = ? WHERE id = ?",
            (*texts, version, latest["id"]),
        )
        return FramingWrite(requested_id, latest["id"], latest["version"], True, False)
    current = latest["boundaries_version"]
    version = raw_clip_version if raw_clip_version is not None else current
    cur = conn.execute(
        "INSERT INTO working_clips (project_id, identity, raw_clip_id, uploaded_filename,"
        " sort_order, version, crop_data, timing_data, segments_data, raw_clip_version)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (latest["project_id"], latest["identity"], latest["raw_clip_id"],
         latest["uploaded_filename"], latest["sort_order"], latest["version"] + 1, *texts,
         version),
    )
    return FramingWrite(requested_id, cur.lastrowid, latest["version"] + 1, True, True)
