"""Self-finalization of export jobs: units of work the worker runs after uploading its output.

Each inserts the output row (version max+1), links it, stamps what it used and completes the
job, in one transaction. Each is idempotent: run twice, the second run changes nothing.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter

from lib.errors import DomainError
from lib.jobs.records import complete_job, get_job
from lib.keys import split_key
from lib.models import (
    AUTO_REGION_MIN_CLIP,
    AUTO_REGION_SECONDS,
    ExportStatus,
    SourceType,
)
from lib.names import RATING_COUNT_KEYS, RATING_SCORE
from lib.projects.clip_versions import latest_clips


class JobCancelled(DomainError):
    status = 409


def _name(key: str) -> str:
    return split_key(key)[2]


def _begin(conn: sqlite3.Connection, export_id: str) -> dict | None:
    """The job, or None when it was already finalized (idempotence)."""
    job = get_job(conn, export_id)
    if job["status"] == ExportStatus.COMPLETE:
        return None
    if job["status"] == ExportStatus.ERROR:
        raise JobCancelled(job["error"] or "The export was cancelled.")
    return job


def _next_version(conn: sqlite3.Connection, table: str, where: str, params: tuple) -> int:
    """max(version) + 1 among the rows `where` selects (versions count per output owner)."""
    return conn.execute(f"SELECT COALESCE(MAX(version), 0) + 1 FROM {table} WHERE {where}",
                        params).fetchone()[0]


def _done(job: dict) -> tuple[int, str]:
    return job["output_video_id"], job["output_filename"]


def auto_regions(clip_starts: list[float], clip_durations: list[float], width: int,
                 height: int, detections: list[list[dict]] | None = None) -> list[dict]:
    """A 2 s highlight region at the start of each clip (none for clips under 0.5 s)."""
    regions = []
    for index, (start, duration) in enumerate(zip(clip_starts, clip_durations, strict=True)):
        if duration < AUTO_REGION_MIN_CLIP:
            continue
        regions.append({
            "id": f"region-auto-{index}-0",
            "start_time": round(start, 3),
            "end_time": round(start + min(AUTO_REGION_SECONDS, duration), 3),
            "enabled": True,
            "keyframes": [],
            "detections": (detections[index] if detections else []),
            "videoWidth": width,
            "videoHeight": height,
        })
    return regions


def finalize_working_video(conn: sqlite3.Connection, export_id: str, result: dict,
                           spec: dict) -> tuple[int, str]:
    job = _begin(conn, export_id)
    if job is None:
        return _done(get_job(conn, export_id))
    project_id = job["project_id"]
    filename = _name(result["output_key"])
    version = _next_version(conn, "working_videos", "project_id = ?", (project_id,))
    starts = result.get("clip_starts") or [0.0]
    durations = result.get("clip_durations") or [result.get("duration") or 0.0]
    regions = auto_regions(starts, durations, result["width"], result["height"],
                           result.get("detections"))
    previous = conn.execute(
        "SELECT w.effect_type FROM projects p JOIN working_videos w ON w.id = p.working_video_id"
        " WHERE p.id = ?", (project_id,),
    ).fetchone()
    cur = conn.execute(
        "INSERT INTO working_videos (project_id, filename, version, highlights_data,"
        " effect_type, duration, width, height, fps, clip_starts)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (project_id, filename, version, json.dumps(regions),
         previous["effect_type"] if previous else "original", result.get("duration"),
         result["width"], result["height"], result.get("fps"),
         json.dumps(result["clip_starts"]) if result.get("clip_starts") else None),
    )
    video_id = cur.lastrowid
    conn.execute("UPDATE projects SET working_video_id = ?, current_mode = 'overlay'"
                 " WHERE id = ?", (video_id, project_id))
    clip_ids = [c["working_clip_id"] for c in spec["clips"] if c.get("working_clip_id")]
    if not clip_ids:  # multi-clip: the project's current clips are what was exported
        clip_ids = [r["id"] for r in latest_clips(conn, project_id)]
    conn.executemany("UPDATE working_clips SET exported_at = CURRENT_TIMESTAMP WHERE id = ?",
                     [(i,) for i in clip_ids])
    complete_job(conn, export_id, video_id, filename)
    return video_id, filename


def finalize_final_video(conn: sqlite3.Connection, export_id: str, result: dict,
                         spec: dict) -> tuple[int, str]:
    job = _begin(conn, export_id)
    if job is None:
        return _done(get_job(conn, export_id))
    project_id = job["project_id"]
    project = conn.execute("SELECT * FROM projects WHERE id = ?", (project_id,)).fetchone()
    filename = _name(result["output_key"])
    version = _next_version(conn, "final_videos", "project_id = ? AND game_id IS NULL",
                            (project_id,))
    source = SourceType.BRILLIANT_CLIP if project["is_auto_created"] else SourceType.CUSTOM_PROJECT
    cur = conn.execute(
        "INSERT INTO final_videos (project_id, filename, version, duration, source_type, name,"
        " file_size) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (project_id, filename, version, result.get("duration"), source.value, project["name"],
         result.get("size")),
    )
    video_id = cur.lastrowid
    conn.execute("UPDATE projects SET final_video_id = ? WHERE id = ?", (video_id, project_id))
    conn.execute("UPDATE working_videos SET effect_type = ? WHERE id = ?",
                 (spec["effect_type"], spec["working_video_id"]))
    for track in spec.get("tracks") or []:
        conn.execute(
            "INSERT INTO before_after_tracks (final_video_id, raw_clip_id, source_key,"
            " start_frame, end_frame, clip_index) VALUES (?, ?, ?, ?, ?, ?)",
            (video_id, track.get("raw_clip_id"), track["source_key"], track["start_frame"],
             track["end_frame"], track["clip_index"]),
        )
    complete_job(conn, export_id, video_id, filename)
    return video_id, filename


def rating_counts(clips: list[dict]) -> dict:
    """{brilliant, good, interesting, mistake, blunder, weighted_average} of the clips."""
    counts = Counter(min(5, max(1, int(c.get("rating") or 3))) for c in clips)
    out = {RATING_COUNT_KEYS[r]: counts.get(r, 0) for r in (5, 4, 3, 2, 1)}
    total = sum(counts.values())
    out["weighted_average"] = (
        round(sum(r * n for r, n in counts.items()) / total, 2) if total else None)
    out["score"] = sum(RATING_SCORE[r] * n for r, n in counts.items())
    return out


def finalize_annotated(conn: sqlite3.Connection, export_id: str, result: dict,
                       spec: dict) -> tuple[int, str]:
    job = _begin(conn, export_id)
    if job is None:
        return _done(get_job(conn, export_id))
    game_id = job["game_id"]
    filename = _name(result["output_key"])
    version = _next_version(conn, "final_videos", "project_id = 0 AND game_id IS ?", (game_id,))
    included = [c for c in spec["clips"] if int(c.get("rating") or 3) >= spec.get("min_rating", 1)]
    cur = conn.execute(
        "INSERT INTO final_videos (project_id, filename, version, duration, source_type,"
        " game_id, name, rating_counts, file_size) VALUES (0, ?, ?, ?, ?, ?, ?, ?, ?)",
        (filename, version, result.get("duration"), SourceType.ANNOTATED_GAME.value, game_id,
         job["game_name"] or "Annotated game", json.dumps(rating_counts(included)),
         result.get("size")),
    )
    complete_job(conn, export_id, cur.lastrowid, filename)
    return cur.lastrowid, filename
