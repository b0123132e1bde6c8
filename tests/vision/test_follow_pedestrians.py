"""Real video: three walkers of pedestrians-a.mp4 chosen at 0 s from the detector's boxes,
followed for 4 s; the crop holds each hand-labelled position (tests/data/vision/follow_labels.json),
including W1 behind the signboard and the three meeting."""

from __future__ import annotations

import json

import pytest

from lib.timeline.keyframes import CropTrack
from lib.vision.detect import PersonDetector
from lib.vision.follow import auto_frame_keyframes
from lib.vision.tiling import xywh_iou
from lib.vision.track import PlayerTracker
from tests.conftest import DATA

VIDEO = DATA / "vision" / "pedestrians-a.mp4"
LABELS = json.loads((DATA / "vision" / "follow_labels.json").read_text())["walkers"]
SPAN = {"trimRange": {"start": 0.0, "end": 4.2}}  # the labelled part



@pytest.fixture(scope="module")
def first_frame_boxes():
    import av

    with av.open(str(VIDEO)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    return [(b.x1, b.y1, b.width, b.height)
            for b in PersonDetector(confidence=0.4).detect([frame])[0]]


@pytest.mark.parametrize("walker", sorted(LABELS))
def test_crop_holds_the_labelled_walker(walker, first_frame_boxes):
    labels = LABELS[walker]["labels"]
    # choose him as the user does: the detection box that is him at 0 s
    chosen = max(first_frame_boxes, key=lambda b: xywh_iou(b, labels[0]["box"]))
    assert xywh_iou(chosen, labels[0]["box"]) > 0.5
    out = auto_frame_keyframes(VIDEO, 0, chosen, SPAN, tracker=PlayerTracker())
    crops = CropTrack(out["keyframes"], 768, 576)
    assert all(k["frame"] <= round(4.2 * 30) for k in out["keyframes"])
    for label in labels:
        x, y, w, h = label["box"]
        crop = crops.at(label["time"])
        assert crop.x <= x and x + w <= crop.x + crop.width, (walker, label["time"], crop)
