"""Person detection benchmark (issue 13): tiled NanoDet on 1080p frames vs bare inference.

Frames: the 5 hand-labelled frames of tests/data/vision/pedestrians-a.mp4 upscaled to
1920x1080, and one 1920x1080 mosaic of those frames at their own scale (33-105 px people, like
far-side players). For each frame, `PersonDetector.detect` (tile cutting + resize + inference +
decode + merge) is timed against the floor: the same session running the same number of
416² inputs, prepared beforehand (`session.run` only), interleaved, best of `--repeats`
(the machine is shared). overhead_ratio = detect time / floor time. The frames are passed as
RGB arrays and as lib.media Yuv420 planes (what the framing job holds); the RESULT line
reports the Yuv420 path, the one jobs use.
Accuracy: recall / precision at IoU ≥ 0.5 against labels.json (occluded persons ignored),
over the six 1080p frames; the native 768x576 frames and the decode's centre convention
((i + 0.5)·stride vs i·stride: mean IoU of matched boxes) are printed above.

The last line is `RESULT ms_per_frame_1080p=.. tiles=.. overhead_ratio=.. recall=..
precision=..`.

Usage: python bench/detect.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from lib.vision.detect import PersonDetector  # noqa: E402
from lib.vision.nanodet import INPUT_SIZE  # noqa: E402
from tests.vision.labelled import (  # noqa: E402
    Score,
    boxes_array,
    image_boxes,
    image_rgb,
    iou,
    mosaic,
    pedestrian_frames,
    score,
    to_yuv,
)

W, H = 1920, 1080


def labelled_1080p() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(rgb, truth boxes in 1080p pixels, difficult) for the six benchmark frames."""
    frames = pedestrian_frames()
    k = np.array([W / 768, H / 576] * 2, np.float32)
    out = [(cv2.resize(f.rgb, (W, H), interpolation=cv2.INTER_LINEAR), f.boxes * k, f.difficult)
           for f in frames]
    out.append(mosaic(frames))
    return out


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def timing(detector: PersonDetector, frames: list, repeats: int) -> tuple[float, float, int]:
    """Summed best-of times (seconds) of detect and of the floor, and the tile count."""
    tiles = len(detector.plan(W, H))
    session, name = detector.model.session, detector.model.input_name
    inputs = [np.random.default_rng(i).random((1, 3, INPUT_SIZE, INPUT_SIZE), np.float32)
              for i in range(tiles)]
    detector.detect(frames[:1])  # warm-up
    job = floor = 0.0
    for frame in frames:
        floor_t, job_t = [], []
        for _ in range(repeats):  # interleaved, so both see the same machine load
            floor_t.append(best(lambda: [session.run(None, {name: x}) for x in inputs], 1))
            job_t.append(best(lambda f=frame: detector.detect([f]), 1))
        floor += min(floor_t)
        job += min(job_t)
    return job, floor, tiles


def accuracy(detector: PersonDetector, data) -> Score:
    total = Score()
    for rgb, truth, difficult in data:
        total.add(score(boxes_array(detector.detect([rgb])[0]), truth, difficult))
    return total


def centre_fit(model) -> dict[float, float]:
    """Mean IoU of matched (≥ 0.3) boxes with the labels, per centre convention."""
    frames = pedestrian_frames()
    images = [(image_rgb(n), image_boxes(n)) for n in ("messi5.jpg", "basketball1.png")]
    images += [(f.rgb, f.boxes[~f.difficult]) for f in frames]
    fit = {}
    for offset in (0.5, 0.0):
        detector = PersonDetector(confidence=0.3, model=model, centre_offset=offset)
        ious = []
        for rgb, truth in images:
            m = iou(boxes_array(detector.detect([rgb])[0]), truth)
            if m.size:
                best_per_label = m.max(axis=0)
                ious += best_per_label[best_per_label >= 0.3].tolist()
        fit[offset] = float(np.mean(ious))
    return fit


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    detector = PersonDetector()
    print("providers:", detector.model.providers, "load average:", os.getloadavg())
    fit = centre_fit(detector.model)
    print(f"centre convention, mean IoU with labels: (i+0.5)*stride {fit[0.5]:.3f}, "
          f"i*stride {fit[0.0]:.3f}")
    native = Score()
    for f in pedestrian_frames():
        native.add(score(boxes_array(detector.detect([f.rgb])[0]), f.boxes, f.difficult))
    print(f"native 768x576 ({len(detector.plan(768, 576))} views): recall {native.recall:.3f} "
          f"precision {native.precision:.3f} ({native.hits} hits, {native.misses} misses, "
          f"{native.false_alarms} false)")
    data = labelled_1080p()
    acc = accuracy(detector, data)
    print(f"1080p (upscaled x5 + mosaic): recall {acc.recall:.3f} precision {acc.precision:.3f} "
          f"({acc.hits} hits, {acc.misses} misses, {acc.false_alarms} false)")
    rgb = [d[0] for d in data]
    yuv = [to_yuv(x) for x in rgb]
    results = {}
    for label, frames in (("rgb", rgb), ("yuv420", yuv)):
        job, floor, tiles = timing(detector, frames, args.repeats)
        ms = 1000 * job / len(frames)
        results[label] = (ms, tiles, job / floor)
        print(f"{label}: {ms:.1f} ms/frame, {tiles} views, floor {1000 * floor / len(frames):.1f}"
              f" ms/frame ({1000 * floor / len(frames) / tiles:.1f} ms per 416² run), "
              f"overhead ratio {job / floor:.3f}")
    ms, tiles, ratio = results["yuv420"]
    print("load average:", os.getloadavg(), "(2 cores: above 2, other processes share them)")
    print(f"RESULT ms_per_frame_1080p={ms:.1f} tiles={tiles} overhead_ratio={ratio:.3f} "
          f"recall={acc.recall:.3f} precision={acc.precision:.3f}")


if __name__ == "__main__":
    main()
