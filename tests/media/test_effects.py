"""lib.media.effects on YUV planes vs a straightforward RGB rendering of spec/media.md §4."""

from __future__ import annotations

import numpy as np
import pytest

from lib.media import Yuv420
from lib.media.effects import (
    BT601,
    BT709,
    BrightnessBoost,
    ColorModel,
    DarkOverlay,
    OriginalHighlight,
    color_model,
    make_effect,
    parse_color,
)
from lib.timeline.keyframes import Ellipse
from tests.media_helpers import reference, through_420, yuv_to_rgb

W, H = 162, 288


def frame(seed: int = 1) -> Yuv420:
    """Smooth gradients plus mild noise, limited range."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:H, 0:W]
    y = 40 + 150 * xx / W + 20 * np.sin(yy / 9) + rng.normal(0, 3, (H, W))
    u = 128 + 40 * np.cos(np.mgrid[0 : H // 2, 0 : W // 2][0] / 13)
    v = 128 + 30 * np.sin(np.mgrid[0 : H // 2, 0 : W // 2][1] / 7)
    return Yuv420(*(np.clip(p, 16, 235).astype(np.uint8) for p in (y, u, v)))


def empty() -> Yuv420:
    return Yuv420(np.zeros((H, W), np.uint8), np.zeros((H // 2, W // 2), np.uint8),
                  np.zeros((H // 2, W // 2), np.uint8))


ELLIPSES = [
    Ellipse(81.0, 144.0, 10.0, 35.0, 0.15, "#FFFF00"),  # the editor default's shape
    Ellipse(40.3, 60.7, 25.5, 18.2, 0.6, "#FF0000"),
    Ellipse(150.0, 280.0, 30.0, 30.0, 1.0, "#00F"),  # partly outside the frame
]


@pytest.mark.parametrize("effect", ["dark_overlay", "brightness_boost", "original"])
@pytest.mark.parametrize("ellipse", ELLIPSES)
def test_effect_matches_rgb_reference(effect, ellipse):
    src = frame()
    dst = empty()
    make_effect(effect).render(src, dst, ellipse, BT709)
    got = yuv_to_rgb(dst, BT709)
    want = through_420(reference(yuv_to_rgb(src, BT709), effect, ellipse), BT709)
    err = np.abs(got - want)
    assert err.mean() <= 2.0, err.mean()
    x0, x1 = int(ellipse.x - ellipse.radius_x - 3), int(ellipse.x + ellipse.radius_x + 4)
    y0, y1 = int(ellipse.y - ellipse.radius_y - 3), int(ellipse.y + ellipse.radius_y + 4)
    box = err[max(0, y0) : y1, max(0, x0) : x1]
    assert box.mean() <= 2.0, box.mean()


def test_effects_change_only_where_the_formula_says():
    src, e = frame(2), ELLIPSES[1]
    far = (slice(200, 280), slice(100, 160))
    for cls in (BrightnessBoost, OriginalHighlight):
        dst = empty()
        cls().render(src, dst, e, BT709)
        assert np.array_equal(dst.y[far], src.y[far])
    dst = empty()
    DarkOverlay().render(src, dst, e, BT709)
    centre = (slice(55, 66), slice(35, 46))
    assert np.array_equal(dst.y[centre], src.y[centre])  # inside unchanged
    expected = np.floor(src.y[far] * 0.6 + 16 * 0.4 + 0.5)
    assert np.abs(dst.y[far].astype(int) - expected).max() <= 1


def test_in_place_rendering():
    src = frame(3)
    copy = Yuv420(src.y.copy(), src.u.copy(), src.v.copy())
    out = empty()
    DarkOverlay().render(src, out, ELLIPSES[0], BT709)
    DarkOverlay().render(copy, copy, ELLIPSES[0], BT709)
    assert all(np.array_equal(a, b) for a, b in zip(out.planes(), copy.planes(), strict=True))


def test_colour_models():
    assert BT709.yuv((255, 255, 255)) == pytest.approx((235, 128, 128))
    assert BT709.yuv((0, 0, 0)) == pytest.approx((16, 128, 128))
    y, u, v = BT709.yuv((255, 255, 0))
    assert (y, u, v) == pytest.approx((16 + 219 * 0.9278, 16.0, 138.0), abs=0.6)
    assert ColorModel(full_range=True).yuv((255, 255, 255)) == pytest.approx((255, 128, 128))
    assert color_model(1, 1, 480) == BT709
    assert color_model(6, 1, 1080) == BT601
    assert color_model(2, 1, 1080) == BT709 and color_model(2, 1, 480) == BT601
    assert color_model(1, 2, 1080).full_range
    assert parse_color("#0f0") == (0, 255, 0) and parse_color("red") == (255, 255, 0)
    with pytest.raises(ValueError):
        make_effect("sparkles")
