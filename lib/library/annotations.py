"""Raw clips (annotations) of games: full-state sync (#9), real-time upsert (#14), partial
update (#15), delete (#16), TSV import, and the 5-star auto-project rule.

Every change function runs inside a unit of work and records in an `Outcome` what must happen
AFTER the commit: objects to delete and extraction tasks to dispatch (`after_commit`).
Clips of a game are keyed by `(game_id, end_time)`; end times are compared as exact doubles.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lib.errors import BadRequest, NotFound
from lib.keys import Kind
from lib.library.games import get_game, record_video, refresh_game_counts
from lib.models import TaskStatus
from lib.names import RATING_WORDS, display_clip_name, name_to_store, normalize_tags
from lib.projects.extraction import ACTIVE, dispatch, enqueue
from lib.projects.projects import (
    add_working_clip,
    create_project,
    delete_project,
    project_is_worked_on,
)
from lib.storage import delete_objects

log = logging.getLogger(__name__)

AUTO_RATING = 5
EDITABLE = ("name", "rating", "tags", "notes", "start_time", "end_time")


@dataclass(frozen=True)
class ClipInput:
    """One annotation as the editor sends it (#9 items, #14 bodies, TSV rows)."""

    start_time: float
    end_time: float
    name: str = ""
    rating: int = 3
    tags: tuple[str, ...] | list[str] = ()
    notes: str = ""


@dataclass
class Outcome:
    """What a change leaves to do after its commit."""

    task_ids: list[int] = field(default_factory=list)
    objects: list[tuple[Kind, str]] = field(default_factory=list)


@dataclass
class ClipSaved:
    raw_clip_id: int
    created: bool = False
    project_created: bool = False
    project_id: int | None = None
    outcome: Outcome = field(default_factory=Outcome)


@dataclass
class SyncResult:
    clip_count: int
    created: int = 0
    updated: int = 0
    deleted: int = 0
    projects_created: int = 0
    outcome: Outcome = field(default_factory=Outcome)


# -- reading -------------------------------------------------------------------------------

def clip_tags(row: sqlite3.Row | dict) -> list[str]:
    try:
        tags = json.loads(row["tags"] or "[]")
    except ValueError:
        return []
    return [str(t) for t in tags] if isinstance(tags, list) else []


def clip_dict(row: sqlite3.Row) -> dict[str, Any]:
    """A raw clip with parsed tags and its display name in `name` (stored name in
    `stored_name`, '' while the name is derived)."""
    tags = clip_tags(row)
    data = dict(row)
    data.update(tags=tags, stored_name=row["name"],
                name=display_clip_name(row["name"], row["rating"], tags))
    return data


def get_clip(conn: sqlite3.Connection, clip_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM raw_clips WHERE id = ?", (clip_id,)).fetchone()
    if row is None:
        raise NotFound(f"Raw clip {clip_id} not found.")
    return row


def game_clips(conn: sqlite3.Connection, game_id: int) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT * FROM raw_clips WHERE game_id = ? ORDER BY start_time, end_time,"
                        " id", (game_id,)).fetchall()
    return [clip_dict(r) for r in rows]


def all_clips(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT * FROM raw_clips ORDER BY created_at DESC, id DESC").fetchall()
    return [clip_dict(r) for r in rows]


# -- the 5-star rule -----------------------------------------------------------------------

def _auto_project_name(clip: sqlite3.Row) -> str:
    return (display_clip_name(clip["name"], clip["rating"], clip_tags(clip))
            or f"{RATING_WORDS[AUTO_RATING]} Clip")


def apply_rating_rule(conn: sqlite3.Connection, clip_id: int, outcome: Outcome) -> bool:
    """Rating 5 without an auto project: create the 9:16 project (and queue the clip's
    extraction if its game has a video). Rating below 5: delete the auto project unless it
    has been worked on. Returns whether a project was created."""
    clip = get_clip(conn, clip_id)
    project_id = clip["auto_project_id"]
    if clip["rating"] == AUTO_RATING and project_id is None:
        project_id = create_project(conn, _auto_project_name(clip), "9:16", is_auto_created=True)
        add_working_clip(conn, project_id, raw_clip_id=clip_id)
        conn.execute("UPDATE raw_clips SET auto_project_id = ? WHERE id = ?",
                     (project_id, clip_id))
        task_id = enqueue(conn, clip_id, project_id)
        if task_id is not None:
            outcome.task_ids.append(task_id)
        return True
    if clip["rating"] < AUTO_RATING and project_id is not None \
            and not project_is_worked_on(conn, project_id):
        outcome.objects.extend(delete_project(conn, project_id))
        _drop_unneeded_extraction(conn, clip_id)
    return False


def _drop_unneeded_extraction(conn: sqlite3.Connection, clip_id: int) -> None:
    """A queued (not yet claimed) extraction no project needs any more is withdrawn; the
    worker skips a task it cannot claim."""
    used = conn.execute("SELECT 1 FROM working_clips WHERE raw_clip_id = ?",
                        (clip_id,)).fetchone()
    if used is None:
        conn.execute("DELETE FROM extraction_tasks WHERE raw_clip_id = ? AND status = ?",
                     (clip_id, TaskStatus.PENDING.value))


def _has_extraction(conn: sqlite3.Connection, clip: sqlite3.Row) -> bool:
    if clip["filename"]:
        return True
    row = conn.execute("SELECT 1 FROM extraction_tasks WHERE raw_clip_id = ? AND status IN"
                       " (?, ?)", (clip["id"], *ACTIVE)).fetchone()
    return row is not None


def _follow_boundaries(conn: sqlite3.Connection, clip_id: int, outcome: Outcome) -> None:
    """The clip's range moved. While no project using it has been worked on, those projects
    simply follow it: their clips take the new boundaries version and an extracted (or
    extracting) clip is cut again. Once framing exists it refers to the old cut, so the file
    stays and the project sees the clip as outdated (#29/#30 "Use Latest" re-extracts)."""
    clip = get_clip(conn, clip_id)
    users = [r[0] for r in conn.execute(
        "SELECT DISTINCT project_id FROM working_clips WHERE raw_clip_id = ?", (clip_id,))]
    if any(project_is_worked_on(conn, p) for p in users):
        return
    conn.execute("UPDATE working_clips SET raw_clip_version = ? WHERE raw_clip_id = ?"
                 " AND raw_clip_version IS NOT ?",
                 (clip["boundaries_version"], clip_id, clip["boundaries_version"]))
    if _has_extraction(conn, clip):
        task_id = enqueue(conn, clip_id, clip["auto_project_id"], refresh=True)
        if task_id is not None:
            outcome.task_ids.append(task_id)


# -- changes -------------------------------------------------------------------------------

def _check_times(start: float, end: float) -> None:
    if start < 0 or end < 0:
        raise BadRequest("Clip times cannot be negative.")


def _upsert(conn: sqlite3.Connection, game_id: int, clip: ClipInput, *,
            bump_on_start: bool) -> tuple[int, sqlite3.Row | None, bool]:
    """Insert or update the game's clip ending at `clip.end_time`.
    Returns (id, the row as it was before or None when created, whether anything changed)."""
    _check_times(clip.start_time, clip.end_time)
    tags = normalize_tags(clip.tags)
    old = conn.execute("SELECT * FROM raw_clips WHERE game_id = ? AND end_time = ?",
                       (game_id, clip.end_time)).fetchone()
    previous = [(old["rating"], clip_tags(old))] if old is not None else []
    name = name_to_store(clip.name, clip.rating, tags, *previous)
    values = {"start_time": clip.start_time, "name": name, "rating": clip.rating,
              "tags": json.dumps(tags), "notes": clip.notes or ""}
    if old is None:
        cur = conn.execute(
            "INSERT INTO raw_clips (game_id, end_time, start_time, name, rating, tags, notes)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (game_id, clip.end_time, *values.values()),
        )
        return cur.lastrowid, None, True
    changed = {k: v for k, v in values.items() if old[k] != v}
    if changed:
        sets = ", ".join(f"{k} = ?" for k in changed)
        if bump_on_start and "start_time" in changed:
            sets += (", boundaries_version = boundaries_version + 1,"
                     " boundaries_updated_at = CURRENT_TIMESTAMP")
        conn.execute(f"UPDATE raw_clips SET {sets} WHERE id = ?", (*changed.values(), old["id"]))
    return old["id"], old, bool(changed)


def _after_change(conn: sqlite3.Connection, clip_id: int, old: sqlite3.Row | None,
                  outcome: Outcome) -> bool:
    """After a clip was created or changed: boundaries that moved are followed, then the
    5-star rule. Returns whether an auto project was created."""
    clip = get_clip(conn, clip_id)
    if old is not None and (clip["start_time"], clip["end_time"]) != (old["start_time"],
                                                                      old["end_time"]):
        _follow_boundaries(conn, clip_id, outcome)
    return apply_rating_rule(conn, clip_id, outcome)


def save_clip(conn: sqlite3.Connection, game_id: int, clip: ClipInput) -> ClipSaved:
    """#14: upsert by (game_id, end_time); a moved start bumps boundaries_version."""
    get_game(conn, game_id)
    clip_id, old, _ = _upsert(conn, game_id, clip, bump_on_start=True)
    saved = ClipSaved(clip_id, created=old is None)
    saved.project_created = _after_change(conn, clip_id, old, saved.outcome)
    saved.project_id = get_clip(conn, clip_id)["auto_project_id"]
    refresh_game_counts(conn, game_id)
    return saved


def sync_annotations(conn: sqlite3.Connection, game_id: int,
                     clips: Iterable[ClipInput]) -> SyncResult:
    """#9: the full state of the game's annotations. Upsert by end time (ids stay stable;
    start_time is rewritten without a boundaries bump), delete the clips not listed."""
    get_game(conn, game_id)
    wanted: dict[float, ClipInput] = {}
    for clip in clips:
        wanted[clip.end_time] = clip  # a repeated end time: the last one wins
    result = SyncResult(clip_count=0)
    for row in conn.execute("SELECT * FROM raw_clips WHERE game_id = ?", (game_id,)).fetchall():
        if row["end_time"] not in wanted:
            _delete_rows(conn, row, result.outcome)
            result.deleted += 1
    for clip in wanted.values():
        clip_id, old, changed = _upsert(conn, game_id, clip, bump_on_start=False)
        result.created += int(old is None)
        result.updated += int(changed and old is not None)
        if changed:
            result.projects_created += _after_change(conn, clip_id, old, result.outcome)
    if result.created or result.updated or result.deleted:
        refresh_game_counts(conn, game_id)
    result.clip_count = len(wanted)
    return result


def import_clips(conn: sqlite3.Connection, game_id: int,
                 clips: Iterable[ClipInput]) -> SyncResult:
    """TSV import: each row saved as the editor's importer does (#14 per row); clips not in
    the file are kept."""
    get_game(conn, game_id)
    result = SyncResult(clip_count=0)
    for clip in clips:
        saved = save_clip(conn, game_id, clip)
        result.created += saved.created
        result.updated += not saved.created
        result.projects_created += saved.project_created
        result.outcome.task_ids.extend(saved.outcome.task_ids)
        result.outcome.objects.extend(saved.outcome.objects)
    result.clip_count = conn.execute("SELECT COUNT(*) FROM raw_clips WHERE game_id = ?",
                                     (game_id,)).fetchone()[0]
    return result


def update_clip(conn: sqlite3.Connection, clip_id: int, changes: dict[str, Any]) -> ClipSaved:
    """#15: only the given fields change; a moved start or end bumps boundaries_version."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"unknown clip fields {sorted(unknown)}")
    old = get_clip(conn, clip_id)
    old_tags = clip_tags(old)
    rating = changes.get("rating", old["rating"])
    tags = normalize_tags(changes["tags"]) if "tags" in changes else old_tags
    values: dict[str, Any] = {k: changes[k] for k in ("rating", "start_time", "end_time")
                              if k in changes}
    if "tags" in changes:
        values["tags"] = json.dumps(tags)
    if "notes" in changes:
        values["notes"] = changes["notes"] or ""
    if "name" in changes:
        values["name"] = name_to_store(changes["name"], rating, tags, (old["rating"], old_tags))
    start, end = values.get("start_time", old["start_time"]), values.get("end_time",
                                                                         old["end_time"])
    if start is not None and end is not None:
        _check_times(start, end)
    if "end_time" in values and old["game_id"] is not None and end != old["end_time"]:
        clash = conn.execute("SELECT id FROM raw_clips WHERE game_id = ? AND end_time = ?"
                             " AND id != ?", (old["game_id"], end, clip_id)).fetchone()
        if clash is not None:
            raise BadRequest("Another clip of this game already ends at that time.")
    changed = {k: v for k, v in values.items() if old[k] != v}
    saved = ClipSaved(clip_id)
    if changed:
        sets = ", ".join(f"{k} = ?" for k in changed)
        if "start_time" in changed or "end_time" in changed:
            sets += (", boundaries_version = boundaries_version + 1,"
                     " boundaries_updated_at = CURRENT_TIMESTAMP")
        conn.execute(f"UPDATE raw_clips SET {sets} WHERE id = ?", (*changed.values(), clip_id))
    saved.project_created = _after_change(conn, clip_id, old, saved.outcome)
    saved.project_id = get_clip(conn, clip_id)["auto_project_id"]
    refresh_game_counts(conn, old["game_id"])
    return saved


def _delete_rows(conn: sqlite3.Connection, clip: sqlite3.Row, outcome: Outcome) -> None:
    project_id = clip["auto_project_id"]
    if project_id is not None and not project_is_worked_on(conn, project_id):
        outcome.objects.extend(delete_project(conn, project_id))
    if clip["filename"]:
        outcome.objects.append((Kind.RAW_CLIPS, clip["filename"]))
    conn.execute("DELETE FROM raw_clips WHERE id = ?", (clip["id"],))


def delete_clip(conn: sqlite3.Connection, clip_id: int) -> Outcome:
    """#16: the clip, its working clips (cascade) and its unworked auto project."""
    clip = get_clip(conn, clip_id)
    outcome = Outcome()
    _delete_rows(conn, clip, outcome)
    refresh_game_counts(conn, clip["game_id"])
    return outcome


def queue_game_extractions(conn: sqlite3.Connection, game_id: int) -> list[int]:
    """Once the game has its video: queue every clip of it that a project uses and that has
    no file yet (5-star clips annotated during the upload, clips added to projects)."""
    rows = conn.execute(
        "SELECT r.id, COALESCE(r.auto_project_id, MIN(w.project_id)) AS project_id"
        " FROM raw_clips r LEFT JOIN working_clips w ON w.raw_clip_id = r.id"
        " WHERE r.game_id = ? AND r.filename = ''"
        " GROUP BY r.id HAVING COUNT(w.id) > 0 OR r.auto_project_id IS NOT NULL ORDER BY r.id",
        (game_id,),
    ).fetchall()
    ids = [enqueue(conn, row["id"], row["project_id"]) for row in rows]
    return [i for i in ids if i is not None]


def attach_video(conn: sqlite3.Connection, game_id: int, filename: str, size: int,
                 **metadata: float | int | None) -> Outcome:
    """The game's video has landed: record it and queue the extractions that waited for it
    (`len(outcome.task_ids)` is the `pending_clips_extracted` the editor logs)."""
    outcome = Outcome(objects=record_video(conn, game_id, filename, size, **metadata))
    outcome.task_ids.extend(queue_game_extractions(conn, game_id))
    return outcome


# -- after the commit ----------------------------------------------------------------------

def after_commit(store, runner, user_id: str, outcome: Outcome) -> None:
    """Delete the objects whose rows are gone, then dispatch the queued extractions."""
    delete_objects(store, user_id, outcome.objects)
    dispatch(runner, user_id, outcome.task_ids)
