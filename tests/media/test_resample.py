"""lib.media.resample: a fractional box lands where it should, luma and chroma, up and down."""

from __future__ import annotations

import numpy as np
import pytest

from lib.media import Yuv420
from lib.media.resample import SourceCrop, resample_crop, resample_frame
from lib.vision.upscale import LanczosUpscaler
from tests.media.position_pattern import box_error, chroma_plane, fit_box, luma_plane


@pytest.fixture(scope="module")
def source() -> Yuv420:
    c = chroma_plane()
    return Yuv420(luma_plane(), c, c.copy())


@pytest.mark.parametrize("box, size", [
    ((438.40, 109.04, 480.96, 855.04), (540, 960)),   # upscale, the frame 36
    ((701.37, 233.81, 301.13, 535.35), (360, 640)),   # upscale, odd fractions
    ((205.55, 120.25, 1210.9, 681.1), (640, 360)),    # downscale ~1.9x (pre-filtered)
])
def test_luma_and_chroma_show_the_fractional_box(source, box, size):
    out_w, out_h = size
    out = resample_crop(source, box, out_w, out_h)
    assert out.y.shape == (out_h, out_w) and out.u.shape == out.v.shape == (out_h // 2, out_w // 2)
    found, rms = fit_box(out.y, box)
    assert rms < 1.0 and box_error(found, box) <= 0.05, (found, box, rms)
    # chroma sample j shows output-luma position 2j + 0.5 across and 2j + 1 down
    for plane in (out.u, out.v):
        found, rms = fit_box(plane, box, first=0.5, step=2.0, first_y=1.0)
        assert rms < 1.5 and box_error(found, box) <= 0.1, (found, box, rms)


def test_a_slow_pan_glides(source):
    xs = []
    for n in range(12):
        box = (600.0 + 0.3 * n, 200.0, 300.0, 533.0)
        found, _ = fit_box(resample_crop(source, box, 360, 640).y, box)
        xs.append(found[0])
    steps = np.diff(xs)
    assert np.abs(steps - 0.3).max() <= 0.05, steps


def test_rotated_views_and_frames_match_plain_planes(source):
    box = (500.25, 300.5, 400.75, 300.25)
    stored = Yuv420(*(np.ascontiguousarray(np.rot90(p, -1)) for p in source.planes()))
    turned = stored.rotated(90)  # what a source with display rotation gives: strided views
    assert turned.y.strides[1] != 1 and np.array_equal(turned.y, source.y)
    plain = resample_crop(source, box, 200, 160)
    viewed = resample_crop(turned, box, 200, 160)
    for a, b in zip(plain.planes(), viewed.planes(), strict=True):
        assert np.array_equal(a, b)
    frame = resample_frame(source, box, 200, 160)
    assert (frame.width, frame.height, frame.format.name) == (200, 160, "yuv420p")
    via_upscaler = next(LanczosUpscaler().resize_stream([SourceCrop(source, box)], 200, 160))
    assert np.array_equal(frame.to_ndarray(), via_upscaler.to_ndarray())
    expected = np.concatenate([plain.y, plain.u.reshape(-1, 200), plain.v.reshape(-1, 200)])
    assert np.array_equal(frame.to_ndarray(), expected)


def test_boxes_at_the_frame_edge_replicate_the_border(source):
    out = resample_crop(source, (0.0, 0.0, 1920.0, 1080.0), 192, 108)
    assert out.y.shape == (108, 192) and 0 < out.y.mean() < 255
    corner = resample_crop(source, (1900.3, 1060.7, 19.7, 19.3), 40, 40)
    inside = resample_crop(source, (1880.3, 1040.7, 19.7, 19.3), 40, 40)
    assert corner.y.std() > 1.0 and inside.y.std() > 1.0


@pytest.mark.parametrize("box, size", [((0, 0, 0, 10), (10, 10)), ((0, 0, 10, 10), (0, 4)),
                                       ((float("nan"), 0, 10, 10), (4, 4))])
def test_empty_boxes_or_sizes_are_refused(source, box, size):
    with pytest.raises(ValueError):
        resample_crop(source, box, *size)
