"""Running the `follow` job for the two follow-the-player gestures (auto_frame, track_region).

The web process never imports the tracker: the job runs through the runner (in this process's
worker threads locally, in the GPU image on Modal) and answers keyframes; the caller applies
them in its own unit of work. A refused input comes back as one sentence → 400.
"""

from __future__ import annotations

from lib.errors import BadRequest
from lib.jobs.runner import Runner

AUTO_FRAME = "auto_frame"
TRACK_REGION = "track_region"
FOLLOW_TIMEOUT = 300.0  # seconds: a 10 s clip takes ~5-20 s on 2 CPU cores
_JOB_FIELDS = ("kind", "input_key", "box", "frame", "segments_data", "aspect", "time", "start",
               "end", "style")


def follow_keyframes(runner: Runner, spec: dict) -> dict:
    """The job's complete result (keyframes, gaps, ...); BadRequest with its sentence."""
    payload = {k: spec[k] for k in _JOB_FIELDS if k in spec}
    result = runner.call("follow", payload, timeout=FOLLOW_TIMEOUT)
    if result.get("status") != "complete" or not result.get("keyframes"):
        raise BadRequest(result.get("error") or "The player could not be tracked.")
    return result
