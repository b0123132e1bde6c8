"""Before/after comparison (#39, #40): the tracks of a final video, and the job handler.

before_after_tracks rows (written by the overlay export when it finalizes) name each source
range by object key (`source_key`, never a local path) and editor ticks (1/30 s) of the
source clip. The job body is functions/before_after.py; this module loads the rows,
builds its spec and runs it (`run_before_after`, registered as the `before_after` job).
"""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING, Any

from lib.errors import NotFound
from lib.gallery import (
    display_name,
    final_video_key,
    game_names,
    require_final_video,
    safe_file_stem,
)
from lib.keys import Kind, new_name, object_key, split_key
from lib.storage import ObjectStore

if TYPE_CHECKING:
    from lib.worker import WorkerContext

log = logging.getLogger(__name__)

OUTPUT_SIZE = (1080, 1920)


def comparison_tracks(conn: sqlite3.Connection, final_video_id: int) -> dict[str, Any]:
    """The final video (404 if unknown), its download name and its tracks in clip order."""
    row = require_final_video(conn, final_video_id)
    tracks = [dict(t) for t in conn.execute(
        "SELECT raw_clip_id, source_key, start_frame, end_frame, clip_index"
        " FROM before_after_tracks WHERE final_video_id = ? ORDER BY clip_index, id",
        (final_video_id,))]
    return {"final_video_id": final_video_id, "filename": row["filename"],
            "name": safe_file_stem(display_name(row, game_names(conn))), "tracks": tracks}


def _owned_key(user_id: str, key: str) -> bool:
    """A source key must be a well-formed object key of this user."""
    try:
        owner, _, _ = split_key(key)
    except Exception:
        return False
    return owner == user_id


def availability(store: ObjectStore, user_id: str, info: dict[str, Any]) -> dict[str, Any]:
    """#39: {available, error}: tracks exist, and the final and every source are stored."""
    if not info["tracks"]:
        return {"available": False,
                "error": "No before/after data was recorded for this video."}
    if store.head(final_video_key(user_id, info["filename"])) is None:
        return {"available": False, "error": "The final video file is missing from storage."}
    for track in info["tracks"]:
        key = track["source_key"]
        if not _owned_key(user_id, key) or store.head(key) is None:
            return {"available": False,
                    "error": "A source clip of this video is no longer available."}
    return {"available": True, "error": None}


def job_spec(user_id: str, info: dict[str, Any], output_key: str) -> dict[str, Any]:
    return {
        "final_key": final_video_key(user_id, info["filename"]),
        "output_key": output_key,
        "width": OUTPUT_SIZE[0],
        "height": OUTPUT_SIZE[1],
        "tracks": [{"source_key": t["source_key"], "start_frame": int(t["start_frame"]),
                    "end_frame": int(t["end_frame"]), "clip_index": int(t["clip_index"])}
                   for t in info["tracks"]],
    }


def _null_progress(percent: float, phase: str, message: str) -> None:
    return None


def run_before_after(ctx: WorkerContext, payload: dict) -> dict:
    """The `before_after` job: payload {user_id, final_video_id} → {status, output_key|error}.
    The output is a temporary object under downloads/ (the caller serves and deletes it)."""
    from lib.worker import as_dict, job_body  # the worker module registers this handler

    user_id, final_video_id = payload["user_id"], int(payload["final_video_id"])
    try:
        info = ctx.dbs.read(user_id, lambda conn: comparison_tracks(conn, final_video_id))
    except NotFound as err:
        return {"status": "error", "error": err.message}
    state = availability(ctx.store, user_id, info)
    if not state["available"]:
        return {"status": "error", "error": state["error"]}
    output_key = object_key(user_id, Kind.DOWNLOADS, new_name(".mp4", prefix="before_after_"))
    spec = job_spec(user_id, info, output_key)
    try:
        result = as_dict(job_body("before_after")(spec, ctx.store, _null_progress))
    except Exception as err:  # a crash of the body is a failed job, never a 500
        log.exception("before/after for final video %s crashed", final_video_id)
        result = {"status": "error", "error": f"The comparison video could not be made: {err}."}
    if result.get("status") != "complete":
        ctx.store.delete(output_key)
        return {"status": "error", "error": result.get("error") or "Rendering failed."}
    return {"status": "complete", "output_key": output_key}
