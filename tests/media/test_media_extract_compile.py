"""functions.extract (frame-accurate start, copy when on a keyframe) and functions.compile."""

from __future__ import annotations

import shutil

import av
import numpy as np
import pytest

from functions import compile as compilation
from functions import extract
from functions.compile import NOTATION, RATING_COLORS
from lib.media import probe
from lib.media.effects import BT601, parse_color
from tests.media_helpers import (
    cached,
    counter_source,
    is_faststart,
    stream_durations,
    yuv_frames,
)

W, H, FPS = 320, 180, 30


def game():
    """8 s game video whose frame n is a flat grey of level 16 + 2 * (n mod 110): the frame
    index (mod 110) is readable from any pixel."""
    return cached("game", width=W, height=H, fps=FPS, duration=8.0,
                  source=counter_source(W, H, FPS))


def frame_index(y: np.ndarray) -> int:
    return round((float(np.median(y)) - 16) / 2)


def put(store, path, key="u/games/g.mp4"):
    root = getattr(store, "root", None)
    if root is not None:
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, root / key)
    else:
        store.upload_file(key, path)
    return key


def cut(store, tmp_path, start, end):
    result = extract.run({"input_key": put(store, game()), "output_key": "u/raw_clips/c.mp4",
                          "start": start, "end": end}, store, None)
    assert result.status == "complete", result.error
    out = tmp_path / "clip.mp4"
    store.download_file(result.output_key, out)
    return result, out


def test_extract_on_a_keyframe_is_a_stream_copy(local_store, tmp_path):
    result, out = cut(local_store, tmp_path, 2.0, 3.5)  # 2 s GOPs: a keyframe at 2.0
    assert result.method == "copy" and is_faststart(out)
    frames = yuv_frames(out)
    assert frame_index(frames[0][1].y) == 60
    assert 45 <= len(frames) <= 48  # up to the B-frame reorder depth past the end
    assert [frame_index(y.y) for _, y in frames[:45]] == list(range(60, 105))
    assert abs(stream_durations(out)["audio"] - 1.5) < 0.1


@pytest.mark.parametrize("start", [2.5, 3.0 + 1 / FPS, 0.1])
def test_extract_off_keyframe_is_frame_accurate(local_store, tmp_path, start):
    result, out = cut(local_store, tmp_path, start, start + 1.0)
    assert result.method == "reencode"
    frames = yuv_frames(out)
    first = round(start * FPS)
    assert [frame_index(y.y) for _, y in frames] == [n % 110 for n in range(first, first + 30)]
    assert result.duration == pytest.approx(1.0, abs=1 / FPS)
    assert abs(stream_durations(out)["audio"] - 1.0) <= 1 / FPS
    with av.open(str(out)) as container:  # +faststart: the index comes first
        assert container.streams.video[0].codec_context.name == "h264"
    assert is_faststart(out)


def test_extract_errors_and_end_clamp(local_store, tmp_path):
    key = put(local_store, game())
    late = extract.run({"input_key": key, "output_key": "u/raw_clips/x.mp4", "start": 9,
                        "end": 10}, local_store, None)
    assert late.status == "error" and "after the end" in late.error
    result, _ = cut(local_store, tmp_path, 7.0, 30.0)
    assert result.duration == pytest.approx(1.0, abs=2 / FPS)
    bad = extract.run({"input_key": key, "output_key": "u/raw_clips/y.mp4", "start": 3,
                       "end": 2}, local_store, None)
    assert bad.status == "error" and "invalid" in bad.error


def test_extract_on_s3(s3_store, tmp_path):
    result, out = cut(s3_store, tmp_path, 2.5, 3.0)
    assert result.method == "reencode" and frame_index(yuv_frames(out)[0][1].y) == 75


CLIPS = [
    {"start_time": 4.0, "end_time": 5.0, "name": "Shot on goal", "rating": 3,
     "notes": "Curled it " * 20, "tags": ["Shot"]},
    {"start_time": 1.0, "end_time": 2.5, "name": "Great pass", "rating": 5, "notes": ""},
    {"start_time": 6.0, "end_time": 7.0, "name": "Lost the ball", "rating": 1, "notes": "x"},
]


def test_compile_one_part_per_clip_with_title_and_border(local_store, tmp_path):
    key = put(local_store, game())
    result = compilation.run({"input_key": key, "output_key": "u/final_videos/a.mp4",
                              "clips": CLIPS, "min_rating": 3}, local_store, None)
    assert result.status == "complete", result.error
    out = tmp_path / "a.mp4"
    local_store.download_file(result.output_key, out)
    assert [p.name for p in result.parts] == [f"{NOTATION[5]}  Great pass",
                                              f"{NOTATION[3]}  Shot on goal"]
    assert result.duration == pytest.approx(2.5, abs=1 / FPS)
    with av.open(str(out)) as container:
        assert len(container.chapters()) == 2
    frames = yuv_frames(out)
    assert len(frames) == 75
    for index, (clip, first) in enumerate(((CLIPS[1], 0), (CLIPS[0], 45))):
        y = frames[first + 5][1]
        expected = BT601.yuv(parse_color(RATING_COLORS[clip["rating"]]))
        assert abs(float(np.median(y.y[:2, :])) - expected[0]) < 6  # border, rating colour
        assert abs(float(np.median(y.u[:1, :])) - expected[1]) < 6
        box = y.y[14:30, 14:60]
        assert np.median(box) > 200  # the white title box
        assert box.min() < 120  # with dark text in it
        inner = y.y[H // 2 - 10 : H // 2 + 10, W // 2 - 10 : W // 2 + 10]
        assert frame_index(inner) == (round(clip["start_time"] * FPS) + 5) % 110, index
    assert abs(stream_durations(out)["audio"] - 2.5) <= 1 / FPS


def test_compile_with_nothing_to_show(local_store):
    key = put(local_store, game())
    result = compilation.run({"input_key": key, "output_key": "u/final_videos/b.mp4",
                              "clips": CLIPS, "min_rating": 5 + 0}, local_store, None)
    assert result.status == "complete" and len(result.parts) == 1
    none = compilation.run({"input_key": key, "output_key": "u/final_videos/c.mp4",
                            "clips": [dict(CLIPS[2])], "min_rating": 2}, local_store, None)
    assert none.status == "error" and "rating" in none.error
    assert local_store.head("u/final_videos/c.mp4") is None
    assert probe(game()).duration == pytest.approx(8.0, abs=0.05)
