"""The two follow-the-player gestures' names; the tracking itself runs as the `follow` job
(lib.jobs.follow_ops.follow_keyframes) so the web process never imports the tracker."""

from __future__ import annotations

from lib.jobs.follow_ops import follow_keyframes

AUTO_FRAME = "auto_frame"
TRACK_REGION = "track_region"

__all__ = ["AUTO_FRAME", "TRACK_REGION", "follow_keyframes"]
