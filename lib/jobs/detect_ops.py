"""`POST /api/detect/players` and `modal run ...::detect`: which stored video a request means,
and the `detect` job that finds the players in it (media.md §6)."""

from __future__ import annotations

import sqlite3

from lib.errors import BadRequest, NotFound
from lib.jobs.runner import Runner
from lib.keys import Kind, object_key

DETECT_TIMEOUT = 120.0  # seconds: up to 100 timestamps of a 1080p video on 2 CPU cores

# each kind of video a request may name: the query of its file name, its object kind
_SOURCES = {
    "working_video_id": ("SELECT filename FROM working_videos WHERE id = ?",
                         Kind.WORKING_VIDEOS, "working video"),
    "final_video_id": ("SELECT filename FROM final_videos WHERE id = ?",
                       Kind.FINAL_VIDEOS, "final video"),
    "raw_clip_id": ("SELECT filename FROM raw_clips WHERE id = ?", Kind.RAW_CLIPS, "clip"),
}


def video_key(conn: sqlite3.Connection, user_id: str, *, project_id: int | None = None,
              working_video_id: int | None = None, final_video_id: int | None = None,
              raw_clip_id: int | None = None) -> str:
    """The object key of the one video named: a project (its current working video), or a
    working video, final video or raw clip by id. Unknown ids 404; a row without a video 400."""
    named = {k: v for k, v in (("project_id", project_id),
                               ("working_video_id", working_video_id),
                               ("final_video_id", final_video_id),
                               ("raw_clip_id", raw_clip_id)) if v is not None}
    if len(named) != 1:
        raise BadRequest("Name exactly one video: project_id, working_video_id, final_video_id"
                         " or raw_clip_id.")
    (field, row_id), = named.items()
    if field == "project_id":
        project = conn.execute("SELECT working_video_id FROM projects WHERE id = ?",
                               (row_id,)).fetchone()
        if project is None:
            raise NotFound("Project not found.")
        if project["working_video_id"] is None:
            raise BadRequest("This project has no working video yet: export its framing first.")
        field, row_id = "working_video_id", project["working_video_id"]
    query, kind, label = _SOURCES[field]
    row = conn.execute(query, (row_id,)).fetchone()
    if row is None:
        raise NotFound(f"The {label} was not found.")
    if not row["filename"]:
        raise BadRequest(f"The {label} has no video yet.")
    return object_key(user_id, kind, row["filename"])


def detect_players(runner: Runner, key: str, *, timestamps: list[float] | None = None,
                   frame_number: int | None = None, confidence: float = 0.5) -> dict:
    """§6 result for the video at `key`; a refused time or unreadable video → BadRequest."""
    if (timestamps is None) == (frame_number is None):
        raise BadRequest("Give either timestamps or frame_number.")
    result = runner.call("detect", {"input_key": key, "timestamps": timestamps,
                                    "frame_number": frame_number, "confidence": confidence},
                         timeout=DETECT_TIMEOUT)
    if result.get("status") != "complete":
        raise BadRequest(result.get("error") or "The players could not be detected.")
    return {k: result[k] for k in ("video_width", "video_height", "fps", "duration",
                                   "detections")}
