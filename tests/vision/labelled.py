"""The hand-labelled test data (tests/data/vision/labels.json) and scoring against it.

Used by the tests and by bench/detect.py. Labels are [x, y, width, height] (top-left, pixels);
persons marked `occluded` are "difficult": matching them is neither a hit nor a false alarm.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from lib.media import Yuv420
from lib.vision.tiling import iou_matrix

DATA = Path(__file__).resolve().parents[1] / "data" / "vision"
LABELS = DATA / "labels.json"
VIDEO = DATA / "pedestrians-a.mp4"


def labels() -> dict:
    return json.loads(LABELS.read_text())


@dataclass
class LabelledFrame:
    frame_number: int
    timestamp: float
    rgb: np.ndarray
    boxes: np.ndarray  # (N, 4) x1, y1, x2, y2
    difficult: np.ndarray  # (N,) bool


def xyxy(box: list[float]) -> list[float]:
    x, y, w, h = box
    return [x, y, x + w, y + h]


def pedestrian_frames() -> list[LabelledFrame]:
    """The labelled frames of pedestrians-a.mp4, decoded as RGB."""
    spec = labels()["video"]["frames"]
    wanted = {f["frame_number"]: f for f in spec}
    out = []
    with av.open(str(VIDEO)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                f = wanted[index]
                out.append(LabelledFrame(
                    index, f["timestamp"], frame.to_ndarray(format="rgb24"),
                    np.array([xyxy(p["box"]) for p in f["persons"]], np.float32),
                    np.array([bool(p.get("occluded")) for p in f["persons"]]),
                ))
            if index >= max(wanted):
                break
    return out


def mosaic(frames: list[LabelledFrame]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """1920x1080 of labelled frames side by side at their own scale: 33-105 px people in a
    1080p frame, as far-side players are. Labels cut below 60 % by a panel edge are ignored."""
    panels = [(0, 0, 0, 768, 576), (1, 768, 0, 768, 576), (2, 1536, 0, 384, 576),
              (3, 0, 576, 768, 504), (4, 768, 576, 768, 504), (0, 1536, 576, 384, 504)]
    image = np.zeros((1080, 1920, 3), np.uint8)
    boxes, difficult = [], []
    for i, x, y, w, h in panels:
        f = frames[i]
        image[y:y + h, x:x + w] = f.rgb[:h, :w]
        for box, hard in zip(f.boxes, f.difficult, strict=True):
            clip = np.minimum(np.maximum(box, 0), [w, h, w, h])
            if clip[2] <= clip[0] or clip[3] <= clip[1]:
                continue
            visible = np.prod(clip[2:] - clip[:2]) / np.prod(box[2:] - box[:2])
            boxes.append(clip + [x, y, x, y])
            difficult.append(bool(hard) or visible < 0.6)
    return image, np.array(boxes, np.float32), np.array(difficult)


def to_yuv(rgb: np.ndarray) -> Yuv420:
    """The frame as lib.media planes (BT.601, as a decoder hands them to a job)."""
    i420 = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)
    h, w = rgb.shape[:2]
    u = i420[h:h + h // 4].reshape(h // 2, w // 2)
    v = i420[h + h // 4:].reshape(h // 2, w // 2)
    return Yuv420(i420[:h], u, v)


def image_rgb(name: str) -> np.ndarray:
    bgr = cv2.imread(str(DATA / name), cv2.IMREAD_COLOR)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def image_boxes(name: str) -> np.ndarray:
    return np.array([xyxy(p["box"]) for p in labels()["images"][name]["persons"]], np.float32)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix of x1y1x2y2 boxes a (N, 4) and b (M, 4)."""
    return iou_matrix(a, b)


@dataclass
class Score:
    hits: int = 0
    misses: int = 0
    false_alarms: int = 0

    @property
    def recall(self) -> float:
        return self.hits / max(1, self.hits + self.misses)

    @property
    def precision(self) -> float:
        return self.hits / max(1, self.hits + self.false_alarms)

    def add(self, other: Score) -> None:
        self.hits += other.hits
        self.misses += other.misses
        self.false_alarms += other.false_alarms


def score(detected: np.ndarray, truth: np.ndarray, difficult: np.ndarray,
          threshold: float = 0.5) -> Score:
    """Greedy one-to-one matching, detections in the order given (highest confidence first)."""
    matrix = iou(detected, truth)
    taken = np.zeros(len(truth), bool)
    result = Score()
    for d in range(len(detected)):
        candidates = [(matrix[d, t], t) for t in range(len(truth)) if not taken[t]]
        best_iou, best = max(candidates, default=(0.0, -1))
        if best_iou >= threshold:
            taken[best] = True
            if not difficult[best]:
                result.hits += 1
        else:
            result.false_alarms += 1
    result.misses = int((~taken & ~difficult).sum())
    return result


def boxes_array(boxes: list) -> np.ndarray:
    """Detector boxes (lib.vision.detect.Box) as an (N, 4) x1y1x2y2 array."""
    return np.array([[b.x1, b.y1, b.x2, b.y2] for b in boxes], np.float32).reshape(-1, 4)
