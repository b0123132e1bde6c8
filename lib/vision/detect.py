"""Person detection (spec/media.md §6): NanoDet on overlapping tiles, one box per person.

`PersonDetector.detect(frames)` takes frames a job already holds — RGB or BGR uint8 arrays
(H, W, 3) or `lib.media.Yuv420` planes — and returns boxes in each frame's pixels. A tracker can
run it on every k-th frame at reduced cost with `scale` (< 1 plans the tiles as for a frame that
much smaller: fewer tiles, boxes still in full-frame pixels). `detect_video` decodes the frames
at given timestamps of a file and answers in the §6 shape.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from lib.errors import BadRequest
from lib.media import FrameReader, MediaInfo, Yuv420, open_input, probe
from lib.media.frames import sample_frames
from lib.media.probe import video_stream
from lib.models import MAX_DETECT_TIMESTAMPS
from lib.vision.nanodet import CENTRE_OFFSET, INPUT_SIZE, PERSON, NanoDetModel, decode
from lib.vision.tiling import Candidate, Tile, cut_flags, merge, scaled_plan

Frame = np.ndarray | Yuv420


@dataclass(frozen=True)
class Box:
    """A person, in frame pixels: corners x1, y1 (top-left), x2, y2 (bottom-right)."""

    x1: float
    y1: float
    x2: float
    y2: float
    confidence: float

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    def to_dict(self) -> dict[str, Any]:
        """The §6 box: bbox x, y are the CENTRE."""
        return {
            "bbox": {
                "x": round((self.x1 + self.x2) / 2, 1),
                "y": round((self.y1 + self.y2) / 2, 1),
                "width": round(self.width, 1),
                "height": round(self.height, 1),
            },
            "confidence": round(self.confidence, 3),
            "class_name": "person",
            "class_id": PERSON,
        }


def _resize(region: np.ndarray, width: int, height: int) -> np.ndarray:
    h, w = region.shape[:2]
    shrink = w > width * 1.5 or h > height * 1.5
    # INTER_AREA only when shrinking a lot (aliasing would hide small players); it is slower
    interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(region), (width, height), interpolation=interp)


def frame_size(frame: Frame) -> tuple[int, int]:
    if isinstance(frame, Yuv420):
        return frame.width, frame.height
    return frame.shape[1], frame.shape[0]


def tile_rgb(frame: Frame, tile: Tile, bgr: bool = False) -> np.ndarray:
    """The tile's region of the frame as a 416x416 RGB uint8 image."""
    x, y, w, h = tile.x, tile.y, tile.width, tile.height
    if isinstance(frame, Yuv420):
        # Resize the planes, then convert at 416²: cheaper than converting the full frame.
        cx, cy = x // 2, y // 2
        cw, ch = (x + w + 1) // 2 - cx, (y + h + 1) // 2 - cy
        half = INPUT_SIZE // 2
        planes = [
            _resize(frame.y[y:y + h, x:x + w], INPUT_SIZE, INPUT_SIZE),
            _resize(frame.u[cy:cy + ch, cx:cx + cw], half, half),
            _resize(frame.v[cy:cy + ch, cx:cx + cw], half, half),
        ]
        i420 = np.concatenate([planes[0].ravel(), planes[1].ravel(), planes[2].ravel()])
        return cv2.cvtColor(i420.reshape(INPUT_SIZE * 3 // 2, INPUT_SIZE), cv2.COLOR_YUV2RGB_I420)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError("Frames must be uint8 arrays of shape (height, width, 3).")
    out = _resize(frame[y:y + h, x:x + w], INPUT_SIZE, INPUT_SIZE)
    return out[:, :, ::-1] if bgr else out


class PersonDetector:
    """NanoDet person detector with tiling; one onnxruntime session, reused for every call.

    confidence: minimum score of a box that is returned (§6 default 0.5).
    centre_offset: cell-centre convention of the decode (see nanodet.CENTRE_OFFSET).
    """

    def __init__(self, confidence: float = 0.5, model: NanoDetModel | None = None,
                 nms_iou: float = 0.5, centre_offset: float = CENTRE_OFFSET):
        self.model = model or NanoDetModel()
        self.confidence = confidence
        self.nms_iou = nms_iou
        self.centre_offset = centre_offset

    def plan(self, width: int, height: int, scale: float = 1.0) -> list[Tile]:
        return scaled_plan(width, height, scale)

    def detect(self, frames: Sequence[Frame], *, bgr: bool = False, scale: float = 1.0,
               confidence: float | None = None) -> list[list[Box]]:
        """Boxes per frame, highest confidence first. `bgr`: arrays are BGR (OpenCV order)."""
        threshold = self.confidence if confidence is None else confidence
        results = []
        for frame in frames:
            width, height = frame_size(frame)
            tiles = self.plan(width, height, scale)
            batch = np.stack([tile_rgb(frame, t, bgr) for t in tiles])
            tensor = batch.transpose(0, 3, 1, 2).astype(np.float32) * np.float32(1 / 255)
            raws = self.model.infer(tensor)
            results.append(self._boxes(raws, tiles, width, height, threshold))
        return results

    def _boxes(self, raws: list, tiles: list[Tile], width: int, height: int, threshold: float
               ) -> list[Box]:
        cands: list[Candidate] = []
        for index, (raw, tile) in enumerate(zip(raws, tiles, strict=True)):
            boxes, scores = decode(raw, threshold, centre_offset=self.centre_offset)
            if len(boxes) == 0:
                continue
            keep = cv2.dnn.NMSBoxes(
                np.column_stack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]]).tolist(),
                scores.tolist(), threshold, self.nms_iou,
            )
            keep = np.asarray(keep, int).reshape(-1)
            boxes, scores = boxes[keep], scores[keep]
            sx, sy = tile.width / INPUT_SIZE, tile.height / INPUT_SIZE
            boxes = boxes * np.array([sx, sy, sx, sy], np.float32)
            boxes += np.array([tile.x, tile.y, tile.x, tile.y], np.float32)
            np.clip(boxes, 0, [width, height, width, height], out=boxes)
            cut = cut_flags(boxes, tile, width, height, margin=3 * max(sx, sy))
            cands += [Candidate(b, float(s), index, bool(c))
                      for b, s, c in zip(boxes, scores, cut, strict=True)]
        return [Box(*map(float, c.box), c.score) for c in merge(cands, self.nms_iou)]


_shared: PersonDetector | None = None
_shared_lock = threading.Lock()


def shared_detector() -> PersonDetector:
    """One PersonDetector per process: the model loads once per container, not per export or
    follow (onnxruntime sessions may run from several threads at once; every caller passes
    its own confidence to `detect`)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = PersonDetector()
        return _shared


SEEK_GAP = 3.0  # seconds ahead worth a seek, when the file has no keyframe index


def _times(info: MediaInfo, timestamps: Sequence[float] | None, frame_number: int | None
           ) -> list[float]:
    """The requested times, checked against the video (BadRequest with one sentence)."""
    if (timestamps is None) == (frame_number is None):
        raise BadRequest("Give either timestamps or a frame_number.")
    if frame_number is not None:
        count = info.frame_count or math.floor(info.duration * info.fps + 1e-6)
        if isinstance(frame_number, bool) or not isinstance(frame_number, int):
            raise BadRequest("frame_number must be a whole number.")
        if not 0 <= frame_number < count:
            raise BadRequest(
                f"Frame {frame_number} is outside the video (frames 0 to {count - 1}).")
        return [frame_number / info.fps]
    if not timestamps:
        raise BadRequest("Give at least one timestamp.")
    if len(timestamps) > MAX_DETECT_TIMESTAMPS:
        raise BadRequest(f"Give at most {MAX_DETECT_TIMESTAMPS} timestamps per request.")
    times = []
    for t in timestamps:
        if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t):
            raise BadRequest("Timestamps must be numbers of seconds.")
        if not 0 <= t < info.duration:
            raise BadRequest(
                f"Timestamp {t:g} s is outside the video (0 to {info.duration:.2f} s).")
        times.append(float(t))
    return times


def keyframe_times(path: str | Path, info: MediaInfo) -> list[float] | None:
    """Approximate times of the video's keyframes from the container index (None: no index)."""
    with open_input(path) as container:
        stream = video_stream(container)
        try:
            entries = stream.index_entries
            times = [float(e.timestamp * stream.time_base) - info.start_time
                     for e in entries if e.is_keyframe]
        except (AttributeError, TypeError):
            return None
    return times or None


def _groups(times: list[float], keyframes: list[float] | None) -> list[list[float]]:
    """Sorted distinct times, split where seeking to the next one beats decoding up to it: when
    a keyframe lies between (FrameReader seeks 1 s before its start), or, without an index,
    when the next time is SEEK_GAP ahead."""
    groups: list[list[float]] = []
    for t in sorted(set(times)):
        if groups:
            last = groups[-1][-1]
            if keyframes is None:
                ahead = t - last >= SEEK_GAP
            else:
                ahead = t > 2.0 and any(last < k <= t - 1.0 for k in keyframes)
            if not ahead:
                groups[-1].append(t)
                continue
        groups.append([t])
    return groups


def decode_at(path: str | Path, info: MediaInfo, times: list[float]
              ) -> dict[float, tuple[int, Yuv420]]:
    """The frame shown at each time (display orientation) and its frame number. One forward
    decode per group of times; a jump past a keyframe seeks (FrameReader seeks once)."""
    shown: dict[float, tuple[int, Yuv420]] = {}
    for group in _groups(times, keyframe_times(path, info)):
        start = max(0.0, group[0] - info.frame_duration)
        end = min(info.duration, group[-1] + 2 * info.frame_duration)
        reader = FrameReader(path, info, start=start, end=end)
        for t, frame in zip(group, sample_frames(iter(reader), iter(group), info.fps),
                            strict=False):
            shown[t] = (round(frame.t * info.fps), frame.planes(info.rotation))
        missing = [t for t in group if t not in shown]
        if missing:
            raise BadRequest(f"No frame of the video is shown at {missing[0]:g} s.")
    return shown


def detect_video(path: str | Path, timestamps: Sequence[float] | None = None,
                 frame_number: int | None = None, confidence: float = 0.5,
                 detector: PersonDetector | None = None, scale: float = 1.0) -> dict[str, Any]:
    """§6: persons at each requested time of a video file, boxes in the video's (display)
    pixels. Raises MediaError for an unreadable file or one without a video stream, and
    BadRequest for times outside the video."""
    if not 0 < confidence <= 1:
        raise BadRequest("confidence must be between 0 and 1.")
    info = probe(path)
    times = _times(info, timestamps, frame_number)
    shown = decode_at(path, info, times)
    detector = detector or PersonDetector()
    order = sorted(shown)
    boxes = detector.detect([shown[t][1] for t in order], scale=scale, confidence=confidence)
    by_time = dict(zip(order, boxes, strict=True))
    return {
        "video_width": info.display_width,
        "video_height": info.display_height,
        "fps": round(info.fps, 3),
        "duration": round(info.duration, 3),
        "detections": [
            {"timestamp": t, "frame_number": shown[t][0],
             "boxes": [b.to_dict() for b in by_time[t]]}
            for t in times
        ],
    }
