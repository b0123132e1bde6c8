"""The real NanoDet model on real images and video frames against hand labels (labels.json)."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from lib.errors import MediaError
from lib.vision.nanodet import MODEL_PATH, NanoDetModel
from tests.vision.labelled import (
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


@pytest.fixture(scope="module")
def frames():
    return pedestrian_frames()


def test_messi_one_player(detector):
    boxes = detector.detect([image_rgb("messi5.jpg")])[0]
    assert len(boxes) == 1
    assert iou(boxes_array(boxes), image_boxes("messi5.jpg"))[0, 0] >= 0.5
    assert 0.5 <= boxes[0].confidence <= 1.0


def test_basketball_two_players(detector):
    # Grey, indoor, close range: the model is unsure (scores ~0.45); at 0.5 it stays silent
    # rather than inventing boxes, at 0.3 it finds both men.
    rgb = image_rgb("basketball1.png")
    truth = image_boxes("basketball1.png")
    low = boxes_array(detector.detect([rgb], confidence=0.3)[0])
    assert len(low) == 2
    assert (iou(low, truth).max(axis=0) >= 0.5).all()
    strict = boxes_array(detector.detect([rgb])[0])
    assert (iou(strict, truth).max(axis=1, initial=0) >= 0.5).all()


def test_bgr_order(detector):
    bgr = cv2.imread(str(image_rgb.__globals__["DATA"] / "messi5.jpg"))
    boxes = detector.detect([bgr], bgr=True)[0]
    assert len(boxes) == 1 and iou(boxes_array(boxes), image_boxes("messi5.jpg"))[0, 0] >= 0.5


def pedestrians_score(detector, frames, size=None) -> Score:
    total = Score()
    for f in frames:
        image, k = f.rgb, np.ones(4, np.float32)
        if size:
            image = cv2.resize(f.rgb, size, interpolation=cv2.INTER_LINEAR)
            k = np.array([size[0] / 768, size[1] / 576] * 2, np.float32)
        found = boxes_array(detector.detect([image])[0]) / k
        total.add(score(found, f.boxes, f.difficult))
    return total


def test_pedestrians_native(detector, frames):
    s = pedestrians_score(detector, frames)
    assert s.recall >= 0.8 and s.precision >= 0.8, s


def test_pedestrians_upscaled_1080p(detector, frames):
    assert len(detector.plan(1920, 1080)) == 9  # the tiled path
    s = pedestrians_score(detector, frames, (1920, 1080))
    assert s.recall >= 0.8 and s.precision >= 0.8, s


def test_small_people_in_1080p(detector, frames):
    image, truth, difficult = mosaic(frames)
    s = score(boxes_array(detector.detect([image])[0]), truth, difficult)
    assert s.recall >= 0.8 and s.precision >= 0.8, s
    # The same frame shrunk to the model's input alone finds almost none of them.
    single = boxes_array(detector.detect([cv2.resize(image, (416, 416))])[0])
    assert len(single) < 0.3 * (~difficult).sum()


def test_person_cut_by_seams_is_one_box(detector):
    """Messi pasted where a column seam and the row seam of the 1080p plan cross."""
    photo = image_rgb("messi5.jpg")
    label = image_boxes("messi5.jpg")[0]
    canvas = np.full((1080, 1920, 3), 90, np.uint8)
    x0, y0 = 400, 330  # tiles: columns 0-599 / 440-1039, rows 0-599 / 481-1080
    canvas[y0:y0 + photo.shape[0], x0:x0 + photo.shape[1]] = photo
    boxes = detector.detect([canvas])[0]
    truth = (label + [x0, y0, x0, y0])[None]
    hits = iou(boxes_array(boxes), truth)[:, 0]
    assert (hits >= 0.5).sum() == 1
    assert ((hits > 0) & (hits < 0.5)).sum() == 0  # no leftover half-box at a seam


def test_yuv_frames_match_rgb(detector, frames):
    rgb = [frames[2].rgb]
    from_rgb = detector.detect(rgb)
    from_yuv = detector.detect([to_yuv(x) for x in rgb])
    for a, b in zip(from_rgb, from_yuv, strict=True):
        assert abs(len(a) - len(b)) <= 1
        matched = iou(boxes_array(a), boxes_array(b)).max(axis=1, initial=0)
        assert (matched >= 0.7).mean() >= 0.8


def test_reduced_resolution_for_tracking(detector, frames):
    """scale=0.5 on 1080p: fewer tiles, boxes still in the frame's pixels."""
    assert len(detector.plan(1920, 1080, scale=0.5)) < len(detector.plan(1920, 1080))
    k = np.array([1920 / 768, 1080 / 576] * 2, np.float32)
    total = Score()
    for f in frames:
        found = detector.detect([cv2.resize(f.rgb, (1920, 1080))], scale=0.5)[0]
        total.add(score(boxes_array(found) / k, f.boxes, f.difficult))
    assert total.recall >= 0.7 and total.precision >= 0.8, total


def test_damaged_model_is_refused(tmp_path):
    bad = tmp_path / MODEL_PATH.name
    shutil.copyfile(MODEL_PATH, bad)
    with open(bad, "r+b") as f:
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(MediaError, match="damaged"):
        NanoDetModel(bad)
    with pytest.raises(MediaError, match="missing"):
        NanoDetModel(tmp_path / "absent.onnx")


def test_cpu_provider_and_single_session(detector):
    assert detector.model.providers[-1] == "CPUExecutionProvider"
    assert detector.model.max_batch == 1  # the converted graph's input is fixed at 1x3x416x416
