"""The `detect` job body (media.md §6): persons at given times of a stored video.

spec `{input_key, timestamps? | frame_number?, confidence}` → `{status, video_width,
video_height, fps, duration, detections:[{timestamp, frame_number, boxes}]}`; boxes in the
video's pixels, bbox x,y the centre. Times outside the video or an unreadable file are
`{status: "error", error}`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from functions.jobkit import run_job
from lib.jobs.progress import Progress, ProgressSink
from lib.jobs.specs import JobResult, _Model
from lib.media import local_input
from lib.models import MAX_DETECT_TIMESTAMPS
from lib.storage.base import ObjectStore
from lib.vision.detect import detect_video, shared_detector


class DetectSpec(_Model):
    input_key: str
    timestamps: list[float] | None = Field(None, max_length=MAX_DETECT_TIMESTAMPS)
    frame_number: int | None = Field(None, ge=0)
    confidence: float = Field(0.5, gt=0, le=1)


class DetectResult(JobResult):
    video_width: int | None = None
    video_height: int | None = None
    detections: list[dict[str, Any]] = Field(default_factory=list)


def _body(spec: DetectSpec, workdir: Path, progress: Progress, store: ObjectStore
          ) -> DetectResult:
    progress(5, "download", "Reading the video")
    path = local_input(store, spec.input_key, workdir)
    progress(20, "processing", "Finding the players")
    found = detect_video(path, spec.timestamps, spec.frame_number, spec.confidence,
                         detector=shared_detector())
    return DetectResult(status="complete", **found)


def run(spec: DetectSpec | dict, store: ObjectStore, sink: ProgressSink | None = None
        ) -> DetectResult:
    return run_job(DetectResult, DetectSpec, spec, sink,
                   lambda s, work, progress: _body(s, work, progress, store))
