"""SrUpscaler on CPU with the converted offline weights: sizes, determinism, batching, plan."""

from __future__ import annotations

import numpy as np
import pytest

from lib.media import Yuv420, plane_views
from lib.media.resample import SourceCrop
from lib.vision.sr import SrUpscaler
from lib.vision.sr_plan import plan_crop
from lib.vision.upscale import LanczosUpscaler
from tests.vision import sr_support

sr_cache, anime_weights = sr_support.sr_cache, sr_support.anime_weights  # fixtures

OUT_W, OUT_H = 162, 288  # model input 40x72 → 160x288 → Lanczos to 162x288


@pytest.fixture(scope="module")
def sr(anime_weights):
    return SrUpscaler.from_weights(*anime_weights, device="cpu")


def whole(frame: Yuv420) -> SourceCrop:
    return SourceCrop(frame, (0.0, 0.0, float(frame.width), float(frame.height)))


def scene(w: int, h: int, t: int) -> SourceCrop:
    """A moving pattern with edges and colour (frame t), cropped whole."""
    yy, xx = np.mgrid[0:h, 0:w]
    y = (16 + (((xx + 3 * t) // 7 + yy // 9) % 2) * 180 + (xx * 30) // max(w, 1)).astype(np.uint8)
    cy, cx = np.mgrid[0 : h // 2, 0 : w // 2]
    u = (128 + 60 * np.sin((cx + t) / 5)).astype(np.uint8)
    v = (128 + 60 * np.cos(cy / 4)).astype(np.uint8)
    return whole(Yuv420(y, u, v))


def planes(frame):
    return [p.copy() for p in plane_views(frame).planes()]


def record_inputs(sr):
    shapes: list[tuple[int, ...]] = []
    handle = sr.model.register_forward_pre_hook(lambda _m, args: shapes.append(args[0].shape))
    return shapes, handle


def test_output_size_determinism_and_difference_from_lanczos(sr):
    crops = [scene(120, 216, t) for t in range(3)]
    first = [planes(f) for f in sr.resize_stream(crops, OUT_W, OUT_H)]
    again = [planes(f) for f in sr.resize_stream(crops, OUT_W, OUT_H)]
    assert [p[0].shape for p in first] == [(OUT_H, OUT_W)] * 3
    assert [p[1].shape for p in first] == [(OUT_H // 2, OUT_W // 2)] * 3
    for a, b in zip(first, again, strict=True):
        assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    lanczos = [planes(f) for f in LanczosUpscaler().resize_stream(crops, OUT_W, OUT_H)]
    diff = np.abs(first[0][0].astype(int) - lanczos[0][0].astype(int))
    assert diff.mean() > 1.0  # a different picture, yet the same scene
    assert abs(first[0][0].mean() - lanczos[0][0].mean()) < 8


def test_batch_sizes_give_identical_frames(anime_weights):
    crops = [scene(60, 108, t) for t in range(9)]  # 9 frames: batches of 7 + 2
    one = SrUpscaler.from_weights(*anime_weights, device="cpu", batch_size=1)
    seven = SrUpscaler.from_weights(*anime_weights, device="cpu", batch_size=7)
    a = [planes(f) for f in one.resize_stream(crops, OUT_W, OUT_H)]
    b = [planes(f) for f in seven.resize_stream(crops, OUT_W, OUT_H)]
    assert (one.stats.batches, seven.stats.batches) == (9, 2)
    for x, y in zip(a, b, strict=True):
        assert all(np.array_equal(p, q) for p, q in zip(x, y, strict=True))


def test_large_crops_skip_the_model(sr):
    shapes, handle = record_inputs(sr)
    try:
        crops = [scene(200, 300, t) for t in range(2)]
        out = [planes(f) for f in sr.resize_stream(crops, OUT_W, OUT_H)]
    finally:
        handle.remove()
    assert shapes == []
    expected = [planes(f) for f in LanczosUpscaler().resize_stream(crops, OUT_W, OUT_H)]
    for x, y in zip(out, expected, strict=True):
        assert all(np.array_equal(p, q) for p, q in zip(x, y, strict=True))


def test_vertical_crop_is_downscaled_to_output_over_four(sr):
    shapes, handle = record_inputs(sr)
    try:
        (frame,) = sr.resize_stream([scene(540, 960, 0)], 810, 1440)
    finally:
        handle.remove()
    assert [tuple(s) for s in shapes] == [(1, 3, 360, 202)]
    assert (frame.width, frame.height) == (810, 1440)
    assert sr.plan(540, 960, 810, 1440).model_output == (808, 1440)


def test_plan_never_upscales_before_the_model():
    assert plan_crop(810, 1440, 810, 1440).model_input is None
    assert plan_crop(2000, 1500, 810, 1440).model_input is None
    assert plan_crop(540, 960, 810, 1440).model_input == (202, 360)
    assert plan_crop(150, 270, 810, 1440).model_input == (150, 270)  # smaller: as it is
    assert plan_crop(151, 269, 810, 1440).model_input == (150, 268)  # odd: an edge dropped
    assert plan_crop(301, 100, 811, 1441).model_input == (202, 100)  # per side
    assert plan_crop(900, 200, 810, 1440).model_input == (202, 200)  # one side too short


@pytest.mark.parametrize(("crop", "out", "model_in"), [
    ((31, 55), (162, 288), (30, 54)),
    ((97, 171), (161, 287), (40, 72)),
])
def test_odd_sizes(sr, crop, out, model_in):
    w, h = crop
    y = 100 + scene(w + 1, h + 1, 0).frame.y[:h, :w] // 8  # mid grey: the colours stay in gamut
    odd = whole(Yuv420(y, np.full((h // 2, w // 2), 90, np.uint8),
                       np.full((h // 2, w // 2), 160, np.uint8)))
    shapes, handle = record_inputs(sr)
    try:
        (frame,) = sr.resize_stream([odd], *out)
    finally:
        handle.remove()
    assert (frame.width, frame.height) == out
    assert tuple(shapes[0][2:]) == (model_in[1], model_in[0])
    u = plane_views(frame).u
    assert abs(float(u.mean()) - 90) < 6  # colour survives YUV→RGB→model→YUV


def test_tiles_match_the_whole_frame(anime_weights):
    crops = [scene(40, 72, 1)]
    whole = SrUpscaler.from_weights(*anime_weights, device="cpu")
    tiled = SrUpscaler.from_weights(*anime_weights, device="cpu", tile=16)
    a = planes(next(iter(whole.resize_stream(crops, 160, 288))))
    b = planes(next(iter(tiled.resize_stream(crops, 160, 288))))
    for p, q in zip(a, b, strict=True):
        assert np.abs(p.astype(int) - q.astype(int)).max() <= 1


def test_errors_reach_the_caller_and_early_stop_ends_the_threads(sr):
    import threading

    def broken():
        yield scene(60, 108, 0)
        raise ValueError("The clip has no frames in its trim range.")

    with pytest.raises(ValueError, match="trim range"):
        list(sr.resize_stream(broken(), OUT_W, OUT_H))
    stream = sr.resize_stream((scene(60, 108, t) for t in range(50)), OUT_W, OUT_H)
    next(stream)
    stream.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("sr-")]
