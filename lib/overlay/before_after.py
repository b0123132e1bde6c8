"""Before/after comparison (#39, #40): the tracks of a final video, and the job handler.

before_after_tracks rows (written by the overlay export when it finalizes) name each source
range by object key (`source_key`, never a local path) and editor ticks (1/30 s) of the
source clip. The job body is functions/before_after.py; this module loads the rows and
builds its spec; the `before_after` job handler in lib/jobs/worker.py runs it.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from lib.keys import split_key
from lib.library.gallery import (
    display_name,
    final_video_key,
    game_names,
    require_final_video,
    safe_file_stem,
)
from lib.storage import ObjectStore

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
