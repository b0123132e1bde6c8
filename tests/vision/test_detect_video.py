"""detect_video: §6 output on the real pedestrian video; bad requests raise one-sentence errors."""

from __future__ import annotations

import numpy as np
import pytest

from lib.errors import BadRequest, MediaError
from lib.vision.detect import detect_video
from tests.media_helpers import ffmpeg
from tests.vision.labelled import VIDEO, Score, labels, score, xyxy


def test_shape_and_accuracy(detector):
    spec = {f["timestamp"]: f for f in labels()["video"]["frames"]}
    asked = [34.0, 2.0, 2.03]  # any order; 2.03 s still shows frame 20
    result = detect_video(VIDEO, timestamps=asked, detector=detector)
    assert {k: result[k] for k in ("video_width", "video_height", "fps", "duration")} == {
        "video_width": 768, "video_height": 576, "fps": 10.0, "duration": 40.0}
    assert [d["timestamp"] for d in result["detections"]] == asked
    assert [d["frame_number"] for d in result["detections"]] == [340, 20, 20]
    total = Score()
    for entry in result["detections"][:2]:
        assert entry["boxes"], entry
        for box in entry["boxes"]:
            assert set(box) == {"bbox", "confidence", "class_name", "class_id"}
            assert box["class_name"] == "person" and box["class_id"] == 0
            assert 0.5 <= box["confidence"] <= 1
            assert set(box["bbox"]) == {"x", "y", "width", "height"}
        # bbox x, y is the centre: back to corners, the boxes fit the hand labels
        found = np.array([[b["bbox"]["x"] - b["bbox"]["width"] / 2,
                           b["bbox"]["y"] - b["bbox"]["height"] / 2,
                           b["bbox"]["x"] + b["bbox"]["width"] / 2,
                           b["bbox"]["y"] + b["bbox"]["height"] / 2] for b in entry["boxes"]])
        persons = spec[entry["timestamp"]]["persons"]
        truth = np.array([xyxy(p["box"]) for p in persons], np.float32)
        difficult = np.array([bool(p.get("occluded")) for p in persons])
        total.add(score(found, truth, difficult))
    assert total.recall >= 0.8 and total.precision >= 0.8, total
    assert result["detections"][1]["boxes"] == result["detections"][2]["boxes"]


def test_frame_number_and_confidence(detector):
    strict = detect_video(VIDEO, frame_number=180, confidence=0.8, detector=detector)
    loose = detect_video(VIDEO, frame_number=180, confidence=0.3, detector=detector)
    (s,), (lo,) = strict["detections"], loose["detections"]
    assert s["frame_number"] == 180 and s["timestamp"] == pytest.approx(18.0)
    assert len(s["boxes"]) < len(lo["boxes"])
    assert all(b["confidence"] >= 0.8 for b in s["boxes"])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"timestamps": [40.5]}, "Timestamp 40.5 s is outside the video"),
    ({"timestamps": [-1]}, "outside the video"),
    ({"timestamps": []}, "at least one timestamp"),
    ({"timestamps": ["1"]}, "numbers of seconds"),
    ({"frame_number": 400}, "Frame 400 is outside the video"),
    ({}, "either timestamps or a frame_number"),
    ({"timestamps": [1.0], "frame_number": 3}, "either timestamps or a frame_number"),
    ({"timestamps": [1.0], "confidence": 0}, "confidence"),
])
def test_bad_requests(kwargs, message, detector):
    with pytest.raises(BadRequest, match=message) as err:
        detect_video(VIDEO, detector=detector, **kwargs)
    assert err.value.status == 400 and err.value.message.endswith(".")


def test_inputs_that_are_not_videos(tmp_path, detector):
    audio = tmp_path / "tone.m4a"
    ffmpeg("-f", "lavfi", "-t", "1", "-i", "sine=frequency=440", "-c:a", "aac", audio)
    with pytest.raises(MediaError, match="no video stream"):
        detect_video(audio, timestamps=[0.5], detector=detector)
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(MediaError, match="not a readable video"):
        detect_video(text, timestamps=[0.5], detector=detector)


def test_rotated_video_boxes_in_display_pixels(tmp_path, detector):
    """Frames stored turned a quarter (as phones record) with a rotation tag that turns them
    upright: boxes are in the upright frame the editor shows, and fit the hand labels."""
    stored = tmp_path / "stored.mp4"
    ffmpeg("-i", VIDEO, "-t", "2.5", "-vf", "transpose=2", "-c:v", "libx264", "-crf", "18",
           "-pix_fmt", "yuv420p", stored)
    tagged = tmp_path / "tagged.mp4"
    ffmpeg("-display_rotation", "-90", "-i", stored, "-c", "copy", tagged)
    result = detect_video(tagged, timestamps=[2.0], detector=detector)
    assert (result["video_width"], result["video_height"]) == (768, 576)
    frame = next(f for f in labels()["video"]["frames"] if f["frame_number"] == 20)
    found = np.array([[b["bbox"]["x"] - b["bbox"]["width"] / 2,
                       b["bbox"]["y"] - b["bbox"]["height"] / 2,
                       b["bbox"]["x"] + b["bbox"]["width"] / 2,
                       b["bbox"]["y"] + b["bbox"]["height"] / 2]
                      for b in result["detections"][0]["boxes"]]).reshape(-1, 4)
    truth = np.array([xyxy(p["box"]) for p in frame["persons"]], np.float32)
    difficult = np.array([bool(p.get("occluded")) for p in frame["persons"]])
    s = score(found, truth, difficult)
    assert s.recall >= 0.75 and s.precision >= 0.75, s
