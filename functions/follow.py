"""The `follow` job body: track a chosen player through a stored video and answer keyframes.

spec `{kind: "auto_frame", input_key, frame, box, segments_data?, aspect?}` → crop keyframes
of a clip; spec `{kind: "track_region", input_key, time, box, start, end, style?}` → highlight
keyframes of an overlay region. Nothing is written anywhere: the caller applies the keyframes
in its own unit of work. A refused input or an unreadable video is `{status: "error", error}`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from functions.jobkit import run_job
from lib.jobs.progress import Progress, ProgressSink
from lib.jobs.specs import JobResult, _Model
from lib.media import local_input
from lib.models import AUTO_FRAME
from lib.storage.base import ObjectStore
from lib.vision.follow import auto_frame_keyframes, parse_box, spotlight_keyframes


class FollowSpec(_Model):
    kind: Literal["auto_frame", "track_region"]
    input_key: str
    box: dict[str, Any]
    frame: int | None = None  # auto_frame: editor tick of source time
    segments_data: Any = None
    aspect: float = 9 / 16
    time: float | None = None  # track_region: working-video seconds
    start: float | None = None
    end: float | None = None
    style: dict[str, Any] | None = None


class FollowResult(JobResult):
    keyframes: list[dict] | None = None
    gaps: list[list[float]] | None = None
    seen_share: float | None = None
    track_ids: list[int] | None = None
    video_width: int | None = None
    video_height: int | None = None


def _body(spec: FollowSpec, workdir: Path, progress: Progress, store: ObjectStore
          ) -> FollowResult:
    progress(5, "download", "Reading the video")
    path = local_input(store, spec.input_key, workdir)
    box = parse_box(spec.box)
    progress(10, "processing", "Following the player")
    if spec.kind == AUTO_FRAME:
        out = auto_frame_keyframes(path, int(spec.frame or 0), box, spec.segments_data,
                                   spec.aspect)
    else:
        out = spotlight_keyframes(path, float(spec.time or 0.0), box, float(spec.start or 0.0),
                                  float(spec.end or 0.0), style=spec.style)
    return FollowResult(status="complete", keyframes=out["keyframes"], gaps=out["gaps"],
                        seen_share=out["seen_share"], track_ids=out["track_ids"],
                        video_width=out.get("videoWidth"), video_height=out.get("videoHeight"))


def run(spec: FollowSpec | dict, store: ObjectStore, sink: ProgressSink | None = None
        ) -> FollowResult:
    return run_job(FollowResult, FollowSpec, spec, sink,
                   lambda s, workdir, progress: _body(s, workdir, progress, store))
