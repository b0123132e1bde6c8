"""Projects: creation, clip membership, deletion (rows; objects are deleted after commit)."""

from __future__ import annotations

import sqlite3
import uuid

from lib.errors import BadRequest, NotFound
from lib.framing.state import load_stored
from lib.keys import Kind
from lib.models import AspectRatio, ProjectMode
from lib.names import normalize_tags
from lib.projects.clip_versions import (
    clip_display_name,
    get_clip,
    latest_clips,
    latest_version,
    require_project,
    write_framing,
)
from lib.projects.extraction import enqueue, enqueue_for_project


def create_project(conn: sqlite3.Connection, name: str, aspect_ratio: str = "9:16",
                   *, is_auto_created: bool = False) -> int:
    AspectRatio(aspect_ratio)  # raises ValueError on an unknown ratio
    cur = conn.execute(
        "INSERT INTO projects (name, aspect_ratio, is_auto_created) VALUES (?, ?, ?)",
        (name, aspect_ratio, 1 if is_auto_created else 0),
    )
    return cur.lastrowid


def add_working_clip(conn: sqlite3.Connection, project_id: int, *,
                     raw_clip_id: int | None = None, uploaded_filename: str | None = None,
                     sort_order: int | None = None) -> int:
    """A new clip (a new identity, version 1) at the end of the project unless placed."""
    if sort_order is None:
        row = conn.execute(
            "SELECT COALESCE(MAX(sort_order), -1) + 1 FROM working_clips WHERE project_id = ?",
            (project_id,),
        ).fetchone()
        sort_order = row[0]
    raw_version = None
    if raw_clip_id is not None:
        rv = conn.execute("SELECT boundaries_version FROM raw_clips WHERE id = ?",
                          (raw_clip_id,)).fetchone()
        raw_version = rv[0] if rv else None
    cur = conn.execute(
        "INSERT INTO working_clips (project_id, identity, raw_clip_id, uploaded_filename,"
        " sort_order, version, raw_clip_version) VALUES (?, ?, ?, ?, ?, 1, ?)",
        (project_id, uuid.uuid4().hex, raw_clip_id, uploaded_filename, sort_order, raw_version),
    )
    return cur.lastrowid


def project_is_worked_on(conn: sqlite3.Connection, project_id: int) -> bool:
    """Any framing data, export or output video: an auto project is then kept."""
    row = conn.execute(
        "SELECT"
        " (SELECT working_video_id IS NOT NULL OR final_video_id IS NOT NULL"
        "    FROM projects WHERE id = :p)"
        " OR EXISTS (SELECT 1 FROM working_clips WHERE project_id = :p AND ("
        "    exported_at IS NOT NULL OR version > 1"
        "    OR COALESCE(crop_data, '') NOT IN ('', '[]', 'null')"
        "    OR COALESCE(segments_data, '') NOT IN ('', '{}', 'null')"
        "    OR COALESCE(timing_data, '') NOT IN ('', '{}', 'null', '{\"trimRange\":null}',"
        "                                         '{\"trimRange\": null}')))"
        " OR EXISTS (SELECT 1 FROM working_videos WHERE project_id = :p)"
        " OR EXISTS (SELECT 1 FROM final_videos WHERE project_id = :p AND :p != 0)"
        " OR EXISTS (SELECT 1 FROM export_jobs WHERE project_id = :p AND :p != 0)",
        {"p": project_id},
    ).fetchone()
    return bool(row[0])


def delete_project(conn: sqlite3.Connection, project_id: int) -> list[tuple[Kind, str]]:
    """Delete the project's rows (cascades do the rest). Returns the (kind, name) of every
    object that belonged only to it, for the caller to delete AFTER the commit."""
    objects: list[tuple[Kind, str]] = []
    for row in conn.execute("SELECT filename FROM working_videos WHERE project_id = ?",
                            (project_id,)):
        objects.append((Kind.WORKING_VIDEOS, row[0]))
    for row in conn.execute("SELECT filename FROM final_videos WHERE project_id = ?"
                            " AND project_id != 0", (project_id,)):
        objects.append((Kind.FINAL_VIDEOS, row[0]))
    for row in conn.execute("SELECT DISTINCT uploaded_filename FROM working_clips"
                            " WHERE project_id = ? AND uploaded_filename IS NOT NULL",
                            (project_id,)):
        objects.append((Kind.UPLOADS, row[0]))
    conn.execute("DELETE FROM final_videos WHERE project_id = ? AND project_id != 0",
                 (project_id,))
    conn.execute("DELETE FROM export_jobs WHERE project_id = ? AND project_id != 0",
                 (project_id,))
    conn.execute("DELETE FROM projects WHERE id = ?", (project_id,))
    return objects


# -- project-level operations of the Projects & Framing API (#26–#30) ---------------------------

def create_project_from_clips(conn: sqlite3.Connection, name: str, aspect_ratio: str, *,
                              clip_ids: list[int], game_ids: list[int], min_rating: int,
                              tags: list[str]) -> tuple[int, list[int]]:
    """#26: `clip_ids` win and keep their order; without them the filters pick the clips
    (games, rating ≥ min_rating, ALL tags). Returns (project id, extraction task ids to
    dispatch after the commit)."""
    name = (name or "").strip()
    if not name:
        raise BadRequest("A project needs a name.")
    raw_ids = list(dict.fromkeys(clip_ids)) if clip_ids else _filtered_clip_ids(
        conn, game_ids, min_rating, tags)
    if clip_ids:
        marks = ",".join("?" for _ in raw_ids)
        found = {r[0] for r in conn.execute(
            f"SELECT id FROM raw_clips WHERE id IN ({marks})", tuple(raw_ids))}
        missing = [i for i in raw_ids if i not in found]
        if missing:
            raise NotFound(f"Clip {missing[0]} was not found in the library.")
    if not raw_ids:
        raise BadRequest("No clips match these filters.")
    project_id = create_project(conn, name, aspect_ratio)
    tasks = []
    for raw_clip_id in raw_ids:
        add_working_clip(conn, project_id, raw_clip_id=raw_clip_id)
        task = enqueue(conn, raw_clip_id, project_id)
        if task is not None:
            tasks.append(task)
    return project_id, tasks


def _filtered_clip_ids(conn: sqlite3.Connection, game_ids: list[int], min_rating: int,
                       tags: list[str]) -> list[int]:
    sql = "SELECT id, tags FROM raw_clips WHERE rating >= ?"
    params: list = [min_rating or 0]
    if game_ids:
        sql += f" AND game_id IN ({','.join('?' for _ in game_ids)})"
        params += list(game_ids)
    wanted = set(normalize_tags(tags))
    out = []
    for row in conn.execute(sql + " ORDER BY game_id, start_time, id", params):
        clip_tags = set(normalize_tags(load_stored(row["tags"]) or []))
        if wanted <= clip_tags:
            out.append(row["id"])
    return out


def mark_project_opened(conn: sqlite3.Connection, project_id: int, *,
                        update_last_opened: bool, current_mode: str | None) -> dict:
    """#27: `last_opened_at` ("continue where you left off") and the mode last used."""
    require_project(conn, project_id)
    if update_last_opened:
        conn.execute("UPDATE projects SET last_opened_at = CURRENT_TIMESTAMP WHERE id = ?",
                     (project_id,))
    if current_mode is not None:
        conn.execute("UPDATE projects SET current_mode = ? WHERE id = ?",
                     (ProjectMode(current_mode).value, project_id))
    row = require_project(conn, project_id)
    return {"success": True, "id": project_id, "last_opened_at": row["last_opened_at"],
            "current_mode": row["current_mode"],
            # Opening a project retries the extractions it still lacks (a lost worker).
            "extraction_task_ids": enqueue_for_project(conn, project_id)}


def discard_uncommitted(conn: sqlite3.Connection, project_id: int) -> int:
    """#28: drop the framing edits made since the last export: every unexported version
    above 1 (a version > 1 only exists on top of an exported one). Returns how many."""
    require_project(conn, project_id)
    return conn.execute(
        "DELETE FROM working_clips WHERE project_id = ? AND exported_at IS NULL AND version > 1",
        (project_id,),
    ).rowcount


def outdated_clips(conn: sqlite3.Connection, project_id: int) -> list[dict]:
    """#29: clips whose library clip's boundaries changed since they were taken
    (working_clips.raw_clip_version ≠ raw_clips.boundaries_version; unknown counts as 1)."""
    require_project(conn, project_id)
    return [
        {
            "working_clip_id": row["id"],
            "raw_clip_id": row["raw_clip_id"],
            "clip_name": clip_display_name(row),
            "raw_clip_version": row["raw_clip_version"],
            "boundaries_version": row["boundaries_version"],
            "start_time": row["start_time"],
            "end_time": row["end_time"],
        }
        for row in latest_clips(conn, project_id)
        if row["raw_clip_id"] is not None and row["boundaries_version"] is not None
        and (row["raw_clip_version"] or 1) != row["boundaries_version"]
    ]


def refresh_outdated_clips(conn: sqlite3.Connection, project_id: int,
                           working_clip_ids: list[int]) -> tuple[list[dict], list[int]]:
    """#30 "Use Latest": each named clip takes its library clip's current boundaries. Its
    framing (keyframes, splits, trim) referred to the old range and is reset, as a new
    version when the clip was exported; the clip is re-extracted with the new range.
    Returns (what happened per clip, extraction task ids to dispatch after the commit)."""
    require_project(conn, project_id)
    results, tasks = [], []
    for clip_id in dict.fromkeys(working_clip_ids):
        latest = latest_version(conn, get_clip(conn, project_id, clip_id))
        current = latest["boundaries_version"]
        if latest["raw_clip_id"] is None or current is None \
                or (latest["raw_clip_version"] or 1) == current:
            results.append({"working_clip_id": clip_id, "refreshed": False,
                            "new_clip_id": latest["id"]})
            continue
        write = write_framing(conn, clip_id, latest, None, None, None, raw_clip_version=current)
        task = enqueue(conn, latest["raw_clip_id"], project_id, refresh=True)
        if task is not None:
            tasks.append(task)
        results.append({"working_clip_id": clip_id, "refreshed": True,
                        "new_clip_id": write.clip_id, "new_version": write.version,
                        "extraction_queued": task is not None})
    return results, tasks
