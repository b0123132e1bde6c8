"""Overlay effects with the editor preview's formulas (spec/media.md §4), on YUV 4:2:0 planes.

Every effect is a blend toward one constant colour, `out = px + A * (C - px)`, with a per-pixel
alpha A built from the ellipse coverage. RGB -> YUV is affine, so the same blend applied to
Y (full size, alpha A) and to U/V (alpha averaged over each 2x2 block) equals the RGB blend
followed by the encoder's colour conversion - no RGB round trip, and only the ellipse's bounding
box is computed per pixel (dark_overlay darkens the rest of the frame with a lookup table).

Coverage: pixel centres sit at (i + 0.5, j + 0.5); d is the distance to the ellipse edge in
pixels (first-order: (rho - 1) / |grad rho|, negative inside). The fill covers
m = clip(0.5 - d, 0, 1) (a 1 px anti-aliased edge); the 3 px outline of `original` covers
o = clip(2 - |d|, 0, 1).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from lib.media.frames import Yuv420
from lib.timeline.keyframes import DEFAULT_HIGHLIGHT_COLOR, Ellipse

DARK_ALPHA = 0.4  # black at alpha 0.4 outside the ellipse
BRIGHT_ALPHA = 0.3  # white at alpha 0.3 inside
OUTLINE_ALPHA = 0.6
OUTLINE_WIDTH = 3.0
_MARGIN = 3  # pixels around the ellipse that the feather and the outline can touch


@dataclass(frozen=True)
class ColorModel:
    """How RGB maps to the video's Y'CbCr: matrix coefficients and range."""

    kr: float = 0.2126
    kb: float = 0.0722
    full_range: bool = False

    def yuv(self, rgb: tuple[float, float, float]) -> tuple[float, float, float]:
        r, g, b = (c / 255.0 for c in rgb)
        ey = self.kr * r + (1 - self.kr - self.kb) * g + self.kb * b
        pb = (b - ey) / (2 * (1 - self.kb))
        pr = (r - ey) / (2 * (1 - self.kr))
        if self.full_range:
            return 255 * ey, 128 + 255 * pb, 128 + 255 * pr
        return 16 + 219 * ey, 128 + 224 * pb, 128 + 224 * pr


BT709 = ColorModel(0.2126, 0.0722)
BT601 = ColorModel(0.299, 0.114)


def color_model(colorspace: int | None, color_range: int | None, height: int) -> ColorModel:
    """The frame's matrix (bt601 tags → 601; unspecified → 709 for HD, 601 for SD)."""
    space = int(colorspace or 2)
    base = BT601 if space in (5, 6) or (space not in (1,) and height < 720) else BT709
    return ColorModel(base.kr, base.kb, full_range=int(color_range or 0) == 2)


def parse_color(value: str | None) -> tuple[int, int, int]:
    """'#RRGGBB' or '#RGB' (the editor's colours); anything else is the default yellow."""
    text = (value or "").strip()
    if re.fullmatch(r"#[0-9a-fA-F]{3}", text):
        text = "#" + "".join(c * 2 for c in text[1:])
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", text):
        text = DEFAULT_HIGHLIGHT_COLOR
    return int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16)


@dataclass(frozen=True)
class Box:
    """A region in luma pixels with even edges (so chroma covers it exactly)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def empty(self) -> bool:
        return self.x1 <= self.x0 or self.y1 <= self.y0

    def luma(self, plane: np.ndarray) -> np.ndarray:
        return plane[self.y0 : self.y1, self.x0 : self.x1]

    def chroma(self, plane: np.ndarray) -> np.ndarray:
        return plane[self.y0 // 2 : (self.y1 + 1) // 2, self.x0 // 2 : (self.x1 + 1) // 2]


def ellipse_box(e: Ellipse, width: int, height: int) -> Box:
    x0 = max(0, math.floor(e.x - e.radius_x) - _MARGIN) & ~1
    y0 = max(0, math.floor(e.y - e.radius_y) - _MARGIN) & ~1
    x1 = min(width, math.ceil(e.x + e.radius_x) + _MARGIN + 1)
    y1 = min(height, math.ceil(e.y + e.radius_y) + _MARGIN + 1)
    x1 = min(width, x1 + (x1 - x0) % 2)
    y1 = min(height, y1 + (y1 - y0) % 2)
    return Box(x0, y0, x1, y1)


def edge_distance(e: Ellipse, box: Box) -> np.ndarray:
    """Signed distance (pixels, negative inside) from each pixel centre in `box` to the edge."""
    rx, ry = max(e.radius_x, 1e-3), max(e.radius_y, 1e-3)
    f32 = np.float32
    ux = (np.arange(box.x0, box.x1, dtype=f32) + f32(0.5 - e.x)) / f32(rx)
    uy = (np.arange(box.y0, box.y1, dtype=f32) + f32(0.5 - e.y)) / f32(ry)
    ux2, uy2 = ux * ux, uy * uy
    rho = np.sqrt(ux2[None, :] + uy2[:, None])
    grad = np.sqrt((ux2 / f32(rx * rx))[None, :] + (uy2 / f32(ry * ry))[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        d = rho - f32(1.0)
        d *= rho
        d /= grad
    np.putmask(d, rho < 0.5, -f32(min(rx, ry)))  # deep inside (and the centre: grad = 0)
    return d


def _chroma_alpha(alpha: np.ndarray) -> np.ndarray:
    """Average each 2x2 block (edge rows/columns of odd sizes averaged with themselves)."""
    h, w = alpha.shape
    if h % 2 or w % 2:
        alpha = np.pad(alpha, ((0, h % 2), (0, w % 2)), mode="edge")
    return cv2.resize(alpha, (alpha.shape[1] // 2, alpha.shape[0] // 2),
                      interpolation=cv2.INTER_AREA)


def _blend(src: np.ndarray, dst: np.ndarray, alpha: np.ndarray, target: float) -> None:
    """dst = src + alpha * (target - src), rounded (all float32)."""
    s = src.astype(np.float32)
    out = s + alpha * (np.float32(target) - s)
    np.add(out, 0.5, out=out)
    dst[...] = out.astype(np.uint8)


def _patches(src: Yuv420, box: Box) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return box.luma(src.y), box.chroma(src.u), box.chroma(src.v)


def _blend_box(src: tuple[np.ndarray, ...], dst: Yuv420, box: Box, alpha: np.ndarray,
               color: tuple[float, float, float]) -> None:
    """Blend the box of `dst` from the source patches toward `color` with luma alpha."""
    _blend(src[0], box.luma(dst.y), alpha, color[0])
    a_uv = _chroma_alpha(alpha)
    for s, d, c in zip(src[1:], (dst.u, dst.v), color[1:], strict=True):
        dc = box.chroma(d)
        _blend(s, dc, a_uv[: dc.shape[0], : dc.shape[1]], c)


def _copy(src: Yuv420, dst: Yuv420) -> None:
    for s, d in zip(src.planes(), dst.planes(), strict=True):
        if s is not d:
            np.copyto(d, s)


class Effect(Protocol):
    name: str

    def render(self, src: Yuv420, dst: Yuv420, ellipse: Ellipse, colors: ColorModel) -> None:
        """Write the whole effected frame into `dst` (same size as `src`; may be `src`)."""


class BrightnessBoost:
    """Inside the ellipse: out = px * 0.7 + 255 * 0.3 (white at alpha 0.3)."""

    name = "brightness_boost"

    def render(self, src: Yuv420, dst: Yuv420, ellipse: Ellipse, colors: ColorModel) -> None:
        _copy(src, dst)
        box = ellipse_box(ellipse, src.width, src.height)
        if box.empty:
            return
        m = np.clip(0.5 - edge_distance(ellipse, box), 0.0, 1.0)
        _blend_box(_patches(src, box), dst, box, m * np.float32(BRIGHT_ALPHA),
                   colors.yuv((255, 255, 255)))


class DarkOverlay:
    """Outside the ellipse: out = px * 0.6 (black at alpha 0.4); inside unchanged."""

    name = "dark_overlay"

    def __init__(self) -> None:
        self._luts: dict[ColorModel, tuple[np.ndarray, np.ndarray]] = {}

    def _lut(self, colors: ColorModel) -> tuple[np.ndarray, np.ndarray]:
        if colors not in self._luts:
            black = colors.yuv((0, 0, 0))
            v = np.arange(256, dtype=np.float64)
            lut_y = v + DARK_ALPHA * (black[0] - v)
            lut_c = v + DARK_ALPHA * (black[1] - v)
            self._luts[colors] = tuple(
                np.floor(lut + 0.5).astype(np.uint8) for lut in (lut_y, lut_c)
            )
        return self._luts[colors]

    def render(self, src: Yuv420, dst: Yuv420, ellipse: Ellipse, colors: ColorModel) -> None:
        box = ellipse_box(ellipse, src.width, src.height)
        keep = None if box.empty else tuple(p.copy() for p in _patches(src, box))
        lut_y, lut_c = self._lut(colors)
        cv2.LUT(src.y, lut_y, dst=dst.y)
        cv2.LUT(src.u, lut_c, dst=dst.u)
        cv2.LUT(src.v, lut_c, dst=dst.v)
        if keep is None:
            return
        inside = np.clip(0.5 - edge_distance(ellipse, box), 0.0, 1.0)
        alpha = (1.0 - inside) * np.float32(DARK_ALPHA)
        _blend_box(keep, dst, box, alpha, colors.yuv((0, 0, 0)))


class OriginalHighlight:
    """Inside: out = px * (1 - opacity) + colour * opacity, plus a 3 px colour outline at 0.6."""

    name = "original"

    def render(self, src: Yuv420, dst: Yuv420, ellipse: Ellipse, colors: ColorModel) -> None:
        _copy(src, dst)
        box = ellipse_box(ellipse, src.width, src.height)
        if box.empty:
            return
        d = edge_distance(ellipse, box)
        fill = np.clip(0.5 - d, 0.0, 1.0) * np.float32(ellipse.opacity)
        line = np.clip(OUTLINE_WIDTH / 2 + 0.5 - np.abs(d), 0.0, 1.0) * np.float32(OUTLINE_ALPHA)
        alpha = 1.0 - (1.0 - fill) * (1.0 - line)  # the outline is drawn over the fill
        _blend_box(_patches(src, box), dst, box, alpha, colors.yuv(parse_color(ellipse.color)))


EFFECTS: dict[str, type] = {
    "original": OriginalHighlight,
    "brightness_boost": BrightnessBoost,
    "dark_overlay": DarkOverlay,
}


def make_effect(effect_type: str) -> Effect:
    try:
        return EFFECTS[effect_type]()
    except KeyError:
        raise ValueError(f"Unknown effect type {effect_type!r}.") from None
