"""The follow-the-player gestures end to end, for callers outside a request (`modal run`):
read the spec in one unit of work, run the `follow` job, apply the keyframes in another.
`follow_keyframes` is shared with the web routes."""

from __future__ import annotations

from lib.errors import BadRequest
from lib.jobs.control import JobServices
from lib.jobs.runner import Runner
from lib.projects.auto_framing import apply_auto_frame, auto_frame_spec

FOLLOW_TIMEOUT = 300.0  # seconds: a 10 s 1080p clip takes ~5-20 s on 2 CPU cores
_JOB_FIELDS = ("kind", "input_key", "box", "frame", "segments_data", "aspect", "time", "start",
               "end", "style")


def follow_keyframes(runner: Runner, spec: dict) -> dict:
    """The `follow` job's complete result (keyframes, gaps, ...); BadRequest with its sentence."""
    payload = {k: spec[k] for k in _JOB_FIELDS if k in spec}
    result = runner.call("follow", payload, timeout=FOLLOW_TIMEOUT)
    if result.get("status") != "complete" or not result.get("keyframes"):
        raise BadRequest(result.get("error") or "The player could not be tracked.")
    return result


def auto_frame_clip(services: JobServices, user_id: str, project_id: int, clip_id: int,
                    frame: int, box: dict) -> dict:
    """The `auto_frame` gesture on one clip (what POST .../clips/{id}/actions does)."""
    data = {"frame": frame, "box": box}
    spec = services.dbs.read(user_id, lambda conn: auto_frame_spec(conn, user_id, project_id,
                                                                   clip_id, data))
    keyframes = follow_keyframes(services.runner, spec)["keyframes"]
    return services.dbs.write(user_id, lambda conn: apply_auto_frame(conn, project_id, clip_id,
                                                                     spec, keyframes))
