"""Projects: creation, clip membership, deletion (rows; objects are deleted after commit)."""

from __future__ import annotations

import sqlite3
import uuid

from lib.keys import Kind
from lib.models import AspectRatio


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
