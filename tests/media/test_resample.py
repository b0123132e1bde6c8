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


def _dense_weights(centres: np.ndarray, scale: float, n_src: int) -> np.ndarray:
    """The resampling as a dense (n_out, n_src) matrix, in float64: Lanczos-3 centred on each
    output sample's source index coordinate, stretched by the scale when shrinking, taps past
    the edge added to the edge sample. An independent statement of what the kernels compute."""
    stretch = max(scale, 1.0)
    matrix = np.zeros((len(centres), n_src))
    for i, centre in enumerate(centres):
        reach = 3 * stretch
        taps = np.arange(int(np.floor(centre - reach)), int(np.ceil(centre + reach)) + 1)
        t = (taps - centre) / stretch
        w = np.where(np.abs(t) < 3, np.sinc(t) * np.sinc(t / 3), 0.0)
        np.add.at(matrix[i], np.clip(taps, 0, n_src - 1), w / w.sum())
    return matrix


@pytest.mark.parametrize("box, size", [
    ((438.40, 109.04, 480.96, 855.04), (540, 960)),  # upscale
    ((205.55, 120.25, 1210.9, 681.1), (160, 90)),    # downscale ~7.5x
    ((-12.3, 1050.6, 100.2, 60.7), (64, 40)),        # past the top-left and bottom edges
    ((1800.5, 0.0, 300.0, 1080.0), (101, 361)),      # past the right edge, odd sizes
])
def test_the_planes_equal_a_dense_float_reference(box, size):
    rng = np.random.default_rng(7)
    src = Yuv420(rng.integers(0, 256, (1080, 1920), np.uint8),
                 rng.integers(0, 256, (540, 960), np.uint8),
                 rng.integers(0, 256, (540, 960), np.uint8))
    (x, y, w, h), (out_w, out_h) = box, size
    sx, sy = w / out_w, h / out_h
    out = resample_crop(src, box, out_w, out_h)
    # luma: output pixel i (centre i + 0.5) shows source centre x + (i + 0.5) * sx
    across = _dense_weights(x + (np.arange(out_w) + 0.5) * sx - 0.5, sx, 1920)
    down = _dense_weights(y + (np.arange(out_h) + 0.5) * sy - 0.5, sy, 1080)
    assert np.abs(out.y - np.clip(down @ src.y @ across.T, 0, 255)).max() <= 0.51
    # chroma sample j sits at luma centre 2j + 0.5 across and 2j + 1 down, in and out
    j, k = np.arange(out.u.shape[1]), np.arange(out.u.shape[0])
    across = _dense_weights((x + (2 * j + 0.5) * sx - 0.5) / 2, sx, 960)
    down = _dense_weights((y + (2 * k + 1) * sy - 1) / 2, sy, 540)
    for plane, source in ((out.u, src.u), (out.v, src.v)):
        assert np.abs(plane - np.clip(down @ source @ across.T, 0, 255)).max() <= 0.51


def test_threads_resampling_at_once_get_the_serial_result(source):
    from concurrent.futures import ThreadPoolExecutor

    boxes = [(300.0 + 7.3 * n, 100.0 + 3.1 * n, 600.0 - n, 900.0 - 2 * n) for n in range(16)]
    serial = [resample_crop(source, b, 270 + n % 3 * 2, 480) for n, b in enumerate(boxes)]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda nb: resample_crop(source, nb[1], 270 + nb[0] % 3 * 2,
                                                          480), enumerate(boxes)))
    for a, b in zip(serial, threaded, strict=True):
        assert all(np.array_equal(p, q) for p, q in zip(a.planes(), b.planes(), strict=True))
