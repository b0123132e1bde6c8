"""Players in the automatic highlight regions of a framing export (media.md §6).

The framing job hands every output frame it encodes to `RegionDetections.offer`; the few frames
the regions need (4 per clip, in its first 2 s) are copied, and `detections()` runs the person
detector on them once the video is written. So detection costs no second decode, and its boxes
are in working-video pixels by construction. A detector failure leaves the regions without
detections: it never fails the export.
"""

from __future__ import annotations

import logging
import time
from fractions import Fraction
from typing import Any

import av
import numpy as np

from lib.media.frames import Yuv420, plane_views
from lib.models import AUTO_REGION_MIN_CLIP, AUTO_REGION_SAMPLES, AUTO_REGION_SECONDS

log = logging.getLogger(__name__)


def sample_frames(clip_starts: list[int], clip_frames: list[int], rate: Fraction
                  ) -> list[list[int]]:
    """Output frame indices to detect on, per clip: evenly spaced over its automatic region
    (none for a clip under AUTO_REGION_MIN_CLIP)."""
    picks = []
    for start, frames in zip(clip_starts, clip_frames, strict=True):
        duration = float(frames / rate)
        if duration < AUTO_REGION_MIN_CLIP:
            picks.append([])
            continue
        span = min(AUTO_REGION_SECONDS, duration) * float(rate)
        picks.append(sorted({start + min(frames - 1, int(span * k / AUTO_REGION_SAMPLES))
                             for k in range(AUTO_REGION_SAMPLES)}))
    return picks


class RegionDetections:
    """Collects the region frames during the encode, then detects players on them."""

    def __init__(self, clip_starts: list[int], clip_frames: list[int], rate: Fraction,
                 detector: Any = None) -> None:
        self.rate = rate
        self.picks = sample_frames(clip_starts, clip_frames, rate)
        self._wanted = {n for clip in self.picks for n in clip}
        self._frames: dict[int, Yuv420] = {}
        self._detector = detector
        self.seconds = 0.0  # time spent detecting (copying and inference)

    def offer(self, index: int, frame: av.VideoFrame) -> None:
        """The output frame `index` (0-based) as encoded; kept only if a region needs it."""
        if index in self._wanted:
            views = plane_views(frame)
            self._frames[index] = Yuv420(*(np.array(p) for p in views.planes()))

    def detections(self, confidence: float = 0.5) -> list[list[dict[str, Any]]]:
        """Per clip: [{timestamp, frame_number, boxes}] (working-video seconds and pixels)."""
        started = time.perf_counter()
        try:
            return self._detect(confidence)
        except Exception:  # the regions just lose their boxes; the video is fine
            log.exception("player detection for the automatic regions failed")
            return [[] for _ in self.picks]
        finally:
            self.seconds = time.perf_counter() - started
            self._frames.clear()

    def _detect(self, confidence: float) -> list[list[dict[str, Any]]]:
        order = sorted(self._frames)
        if not order:
            return [[] for _ in self.picks]
        if self._detector is None:
            from lib.vision.detect import shared_detector  # onnxruntime only when detecting

            self._detector = shared_detector()
        found = self._detector.detect([self._frames[n] for n in order], confidence=confidence)
        boxes = dict(zip(order, found, strict=True))
        return [
            [{"timestamp": round(float(n / self.rate), 3), "frame_number": n,
              "boxes": [b.to_dict() for b in boxes[n]]} for n in clip if n in boxes]
            for clip in self.picks
        ]
