"""Job specs built from a user's database (inside a unit of work) for the export jobs.

The spec is everything the job body needs, with object keys instead of rows, so the worker
never depends on the request. `input_data` of the job row stores it.
"""

from __future__ import annotations

import sqlite3

from lib.errors import BadRequest, NotFound
from lib.framing.state import load_stored
from lib.keys import Kind, new_name, object_key
from lib.models import AspectRatio, EffectType, Transition
from lib.names import game_display_name
from lib.projects.clip_versions import clip_display_name, latest_clips, stored_framing
from lib.projects.working_clips import clip_file

OUTPUT_SIZES = {
    AspectRatio.VERTICAL: (810, 1440),
    AspectRatio.WIDE: (2560, 1440),
    AspectRatio.CLASSIC: (1920, 1440),
    AspectRatio.SQUARE: (1440, 1440),
}


def output_size(aspect_ratio: str) -> tuple[int, int]:
    return OUTPUT_SIZES[AspectRatio(aspect_ratio)]


def project_row(conn: sqlite3.Connection, project_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM projects WHERE id = ?", (project_id,)).fetchone()
    if row is None:
        raise NotFound("Project not found.")
    return row


def clip_source_key(user_id: str, clip: sqlite3.Row) -> str | None:
    where = clip_file(clip)
    return object_key(user_id, *where) if where else None


def _framing(clip: sqlite3.Row) -> tuple[list, dict | None]:
    """The clip's crop keyframes and segments (parsed once); an old row with only
    timing_data still gives its trim."""
    crop, segments, timing = stored_framing(clip)
    if segments is None and timing and timing.get("trimRange"):
        segments = {"boundaries": [], "segmentSpeeds": {}, "trimRange": timing["trimRange"]}
    return crop or [], segments


def render_spec(conn: sqlite3.Connection, user_id: str, project_id: int, *,
                include_audio: bool = True, target_fps: float | None = None) -> dict:
    """#33: the project's clips as stored (the database is the truth for single exports)."""
    project = project_row(conn, project_id)
    clips = latest_clips(conn, project_id)
    if not clips:
        raise BadRequest("This project has no clips to export.")
    specs = []
    for clip in clips:
        key = clip_source_key(user_id, clip)
        label = clip_display_name(clip)
        if key is None:
            raise BadRequest(f"Clip '{label or clip['id']}' is still being extracted; "
                             "try again when it is ready.")
        crop, segments = _framing(clip)
        specs.append({
            "source_key": key,
            "crop_keyframes": crop,
            "segments": segments,
            "name": label,
            "working_clip_id": clip["id"],
        })
    return _framing_spec(user_id, specs, project["aspect_ratio"], include_audio, target_fps,
                         {"type": Transition.CUT.value, "duration": 0.5})


def _framing_spec(user_id: str, clips: list[dict], aspect_ratio: str, include_audio: bool,
                  target_fps: float | None, transition: dict) -> dict:
    try:
        width, height = output_size(aspect_ratio)
    except ValueError:
        raise BadRequest(f"Unknown aspect ratio {aspect_ratio!r}.") from None
    return {
        "clips": clips,
        "output_key": object_key(user_id, Kind.WORKING_VIDEOS, new_name(".mp4")),
        "width": width,
        "height": height,
        "target_fps": target_fps,
        "include_audio": include_audio,
        "transition": transition,
    }


def multi_clip_spec(conn: sqlite3.Connection, user_id: str, project_id: int,
                    upload_keys: list[str], payload: dict, *, include_audio: bool,
                    target_fps: float | None) -> dict:
    """#34: the uploaded files + the JSON payload are the truth (crops may not be in the db)."""
    project = project_row(conn, project_id)
    clips = payload.get("clips")
    if not isinstance(clips, list) or len(clips) != len(upload_keys):
        raise BadRequest("multi_clip_data_json must list one clip per uploaded video.")
    specs = []
    for index, (clip, key) in enumerate(zip(clips, upload_keys, strict=True)):
        if not isinstance(clip, dict):
            raise BadRequest(f"Clip {index} in multi_clip_data_json is not an object.")
        segments = clip.get("segments") if isinstance(clip.get("segments"), dict) else {}
        trim = clip.get("trimRange", segments.get("trimRange"))
        segments = {**segments, "trimRange": trim}
        keyframes = [
            {**kf, "frame": kf.get("frame", round(float(kf.get("time", 0)) * 30))}
            for kf in clip.get("cropKeyframes") or [] if isinstance(kf, dict)
        ]
        specs.append({"source_key": key, "crop_keyframes": keyframes, "segments": segments,
                      "name": clip.get("fileName") or f"clip_{index}"})
    transition = payload.get("transition") or {}
    kind = transition.get("type", "cut") if isinstance(transition, dict) else "cut"
    try:
        kind = Transition(kind).value
    except ValueError:
        raise BadRequest(f"Unknown transition {kind!r}.") from None
    aspect = payload.get("globalAspectRatio") or project["aspect_ratio"]
    try:
        duration = float(transition.get("duration", 0.5)) if isinstance(transition, dict) else 0.5
    except (TypeError, ValueError):
        raise BadRequest("transition.duration must be a number of seconds.") from None
    spec = _framing_spec(user_id, specs, aspect, include_audio, target_fps,
                         {"type": kind, "duration": duration})
    return {**spec, "uploads": upload_keys}


def overlay_spec(conn: sqlite3.Connection, user_id: str, project_id: int,
                 effect_type: str) -> dict:
    """#35: the database regions of the current working video + the request's effect."""
    project = project_row(conn, project_id)
    try:
        effect = EffectType(effect_type).value
    except ValueError:
        raise BadRequest(f"Unknown effect type {effect_type!r}.") from None
    if not project["working_video_id"]:
        raise BadRequest("Export the framing first: this project has no working video yet.")
    video = conn.execute("SELECT * FROM working_videos WHERE id = ?",
                         (project["working_video_id"],)).fetchone()
    return {
        "input_key": object_key(user_id, Kind.WORKING_VIDEOS, video["filename"]),
        "output_key": object_key(user_id, Kind.FINAL_VIDEOS, new_name(".mp4")),
        "regions": load_stored(video["highlights_data"]) or [],
        "effect_type": effect,
        "working_video_id": video["id"],
    }


def before_after_tracks(conn: sqlite3.Connection, user_id: str, project_id: int) -> list[dict]:
    """Where each clip of a final video came from: source key and range in editor ticks
    (1/30 s) of the source clip, in project order."""
    tracks = []
    for index, clip in enumerate(latest_clips(conn, project_id)):
        key = clip_source_key(user_id, clip)
        if key is None:
            continue
        trim = (_framing(clip)[1] or {}).get("trimRange")
        if isinstance(trim, dict):
            start, end = float(trim["start"]), float(trim["end"])
        else:
            start, end = 0.0, max(0.0, (clip["end_time"] or 0) - (clip["start_time"] or 0))
        tracks.append({"raw_clip_id": clip["raw_clip_id"], "source_key": key,
                       "start_frame": round(start * 30), "end_frame": round(end * 30),
                       "clip_index": index})
    return tracks


def annotate_spec(conn: sqlite3.Connection, user_id: str, game_id: int | None,
                  clips: list[dict], *, video_key: str | None = None,
                  min_rating: int = 1) -> tuple[dict, str | None]:
    """#41: the game's video (or an uploaded one) and the clips as the editor sent them."""
    game_name = None
    if game_id is not None:
        game = conn.execute("SELECT * FROM games WHERE id = ?", (game_id,)).fetchone()
        if game is None:
            raise NotFound("Game not found.")
        if not game["video_filename"]:
            raise BadRequest("This game has no video yet; upload it first.")
        video_key = object_key(user_id, Kind.GAMES, game["video_filename"])
        game_name = game_display_name(game)
    if video_key is None:
        raise BadRequest("Send a game_id or a video.")
    spec = {
        "input_key": video_key,
        "output_key": object_key(user_id, Kind.FINAL_VIDEOS, new_name(".mp4")),
        "clips": clips,
        "min_rating": min_rating,
    }
    return spec, game_name
