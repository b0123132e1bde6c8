"""Clip extraction queue: cut a raw clip's range out of its game video into `raw_clips/`.

Web side (inside a unit of work): `enqueue(conn, raw_clip_id, project_id)` records a pending
task when the clip needs a file and its game has a video; after the commit,
`dispatch(runner, user_id, task_ids)` asks the runner for the `extract` job.
Worker side: `lib.jobs.worker` claims the task once, runs `functions.extract`, and finalizes.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Protocol

from lib.keys import new_name
from lib.models import TaskStatus

ACTIVE = (TaskStatus.PENDING.value, TaskStatus.RUNNING.value)
# A task still pending or running after this long lost its worker (the Modal extract
# function times out well before): it no longer counts as in progress.
STALE_AFTER = "-30 minutes"
_FRESH = "COALESCE(started_at, created_at) >= datetime('now', ?)"
STOPPED = "The extraction stopped before it finished; it will be retried."


class _Spawner(Protocol):
    def spawn(self, job_name: str, payload: dict) -> str: ...


def enqueue(conn: sqlite3.Connection, raw_clip_id: int, project_id: int | None = None,
            *, refresh: bool = False) -> int | None:
    """Queue an extraction of the clip if it needs one; returns the task id (or None).

    Needed when the clip has no file yet (or `refresh`: its boundaries changed), its game has
    a video, and no task for it is already pending or running.
    """
    clip = conn.execute(
        "SELECT r.id, r.filename, r.start_time, r.end_time, r.game_id, r.boundaries_version,"
        " g.video_filename FROM raw_clips r LEFT JOIN games g ON g.id = r.game_id"
        " WHERE r.id = ?",
        (raw_clip_id,),
    ).fetchone()
    if clip is None or not clip["video_filename"]:
        return None
    if clip["filename"] and not refresh:
        return None
    if clip["start_time"] is None or clip["end_time"] is None:
        return None
    conn.execute(
        "UPDATE extraction_tasks SET status = ?, error = ?, completed_at = CURRENT_TIMESTAMP"
        f" WHERE raw_clip_id = ? AND status IN (?, ?) AND NOT {_FRESH}",
        (TaskStatus.ERROR.value, STOPPED, raw_clip_id, *ACTIVE, STALE_AFTER),
    )
    active = conn.execute(
        "SELECT id, params FROM extraction_tasks WHERE raw_clip_id = ? AND status IN (?, ?)",
        (raw_clip_id, *ACTIVE),
    ).fetchall()
    for task in active:
        if task_matches_clip(json.loads(task["params"] or "{}"), clip):
            return None
    params = {
        "task_type": "clip_extraction",
        "raw_clip_id": raw_clip_id,
        "game_id": clip["game_id"],
        "game_video": clip["video_filename"],
        "start_time": clip["start_time"],
        "end_time": clip["end_time"],
        "boundaries_version": clip["boundaries_version"],
        "output_name": new_name(".mp4"),
    }
    cur = conn.execute(
        "INSERT INTO extraction_tasks (status, params, raw_clip_id, project_id, game_id)"
        " VALUES (?, ?, ?, ?, ?)",
        (TaskStatus.PENDING.value, json.dumps(params), raw_clip_id, project_id, clip["game_id"]),
    )
    return cur.lastrowid


def task_matches_clip(params: dict, clip: sqlite3.Row) -> bool:
    """Whether a task's range is still the clip's range (start, end and boundaries version;
    the full-state save rewrites start_time without a version bump)."""
    return (params.get("boundaries_version"), params.get("start_time"),
            params.get("end_time")) == (clip["boundaries_version"], clip["start_time"],
                                        clip["end_time"])


def enqueue_for_project(conn: sqlite3.Connection, project_id: int) -> list[int]:
    """Queue every clip of a project that still needs its file."""
    rows = conn.execute(
        "SELECT DISTINCT raw_clip_id FROM working_clips WHERE project_id = ?"
        " AND raw_clip_id IS NOT NULL",
        (project_id,),
    ).fetchall()
    ids = [enqueue(conn, r[0], project_id) for r in rows]
    return [i for i in ids if i is not None]


def dispatch(runner: _Spawner | None, user_id: str, task_ids: list[int]) -> None:
    """After the commit: ask the runner to run each task (claiming makes repeats harmless)."""
    if runner is None:
        return
    for task_id in task_ids:
        runner.spawn("extract", {"user_id": user_id, "task_id": task_id})


def pending_task_ids(conn: sqlite3.Connection) -> list[int]:
    rows = conn.execute(
        "SELECT id FROM extraction_tasks WHERE status = ? ORDER BY id", (TaskStatus.PENDING.value,)
    ).fetchall()
    return [r[0] for r in rows]


def extraction_states(conn: sqlite3.Connection, raw_clip_ids: list[int]) -> dict[int, dict]:
    """Per raw clip: is_extracted, is_extracting, extraction_status (the latest task's status,
    or None when no task ever ran)."""
    out: dict[int, dict] = {}
    for clip_id in set(raw_clip_ids):
        clip = conn.execute("SELECT filename FROM raw_clips WHERE id = ?", (clip_id,)).fetchone()
        task = conn.execute(
            f"SELECT status, {_FRESH} AS fresh FROM extraction_tasks WHERE raw_clip_id = ?"
            " ORDER BY id DESC LIMIT 1",
            (STALE_AFTER, clip_id),
        ).fetchone()
        status = task["status"] if task else None
        if status in ACTIVE and not task["fresh"]:
            status = TaskStatus.ERROR.value
        out[clip_id] = {
            "is_extracted": bool(clip and clip["filename"]),
            "is_extracting": status in ACTIVE,
            "extraction_status": status,
        }
    return out
