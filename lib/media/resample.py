"""Sub-pixel crop resampling: a fractional source box straight to an output size, one step.

The framing render's crop box comes from a spline (spec/media.md §2) and is fractional in
position and size; snapping it to whole pixels makes slow pans step instead of glide. Here each
plane is warped once (cv2.warpAffine with an inverse scale+translate matrix; bicubic luma,
bilinear chroma: a bicubic chroma warp costs ~4 ms a 1440p frame for no visible gain, and the
framing export's speed budget is tight) from the source plane to the output plane, so output
pixel i of a box (x, w) samples source position x + (i + 0.5) * w / out_w (pixel centres at
n + 0.5). Chroma is warped at its own subsampled
coordinates: 4:2:0 with MPEG-2/H.264 siting (horizontally co-sited with the even luma column,
vertically between the two luma rows), the same siting in and out. When the box is larger than
the output (a downscale), a Gaussian pre-filter sized to the scale keeps it from aliasing.

The one implementation for every framing path: LanczosUpscaler resamples straight to the output
size; a super-resolution upscaler resamples to its planned input size, then runs its model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import av
import cv2
import numpy as np

from lib.media.frames import Yuv420, new_frame

Box = tuple[float, float, float, float]  # x, y, width, height in source luma pixels

_LUMA = cv2.INTER_CUBIC
_CHROMA = cv2.INTER_LINEAR
_TAPS = 3  # bicubic reads 2 pixels either side; one more for safety at the box edges


@dataclass(frozen=True)
class SourceCrop:
    """What an upscaler gets per output frame: the whole (display-rotated) source frame and
    the fractional crop box in its luma pixels. `frame` holds views of the decoder's buffers:
    resample it before keeping it (see resample_crop)."""

    frame: Yuv420
    box: Box


def _prefilter_sigma(scale: float) -> float:
    """Gaussian sigma (source px) that band-limits a downscale by `scale` (> 1) before warping."""
    return 0.5 * math.sqrt(scale * scale - 1.0) if scale > 1.0 else 0.0


def _warp_plane(src: np.ndarray, dst: np.ndarray, sx: float, ox: float, sy: float, oy: float,
                interpolation: int) -> None:
    """dst[j, i] = src sampled at (sx * i + ox, sy * j + oy) (pixel-index coordinates)."""
    out_h, out_w = dst.shape
    sig_x, sig_y = _prefilter_sigma(sx), _prefilter_sigma(sy)
    mx = _TAPS + math.ceil(3 * sig_x)
    my = _TAPS + math.ceil(3 * sig_y)
    h, w = src.shape
    c0 = max(0, min(w - 1, math.floor(ox) - mx))
    c1 = max(c0 + 1, min(w, math.ceil(ox + sx * (out_w - 1)) + mx + 1))
    r0 = max(0, min(h - 1, math.floor(oy) - my))
    r1 = max(r0 + 1, min(h, math.ceil(oy + sy * (out_h - 1)) + my + 1))
    roi = src[r0:r1, c0:c1]
    if roi.strides[1] != 1 or roi.strides[0] <= 0:  # a rotated view: cv2 needs plain rows
        roi = np.ascontiguousarray(roi)
    if sig_x or sig_y:
        roi = cv2.GaussianBlur(roi, (0, 0), sigmaX=max(sig_x, 1e-3), sigmaY=max(sig_y, 1e-3),
                               borderType=cv2.BORDER_REPLICATE)
    matrix = np.array([[sx, 0.0, ox - c0], [0.0, sy, oy - r0]], np.float64)
    out = cv2.warpAffine(roi, matrix, (out_w, out_h), dst=dst,
                         flags=interpolation | cv2.WARP_INVERSE_MAP,
                         borderMode=cv2.BORDER_REPLICATE)
    if out is not dst and not np.shares_memory(out, dst):
        np.copyto(dst, out)


def _check(box: Box, out_w: int, out_h: int) -> tuple[float, float, float, float]:
    x, y, w, h = (float(v) for v in box)
    if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
        raise ValueError(f"Crop box {box!r} has no area.")
    if out_w < 1 or out_h < 1:
        raise ValueError(f"Output size {out_w}x{out_h} is empty.")
    return x, y, w, h


def resample_into(src: Yuv420, box: Box, dst: Yuv420) -> Yuv420:
    """Warp the fractional `box` of `src` onto all of `dst` (its size is the output size)."""
    x, y, w, h = _check(box, dst.width, dst.height)
    sx, sy = w / dst.width, h / dst.height
    # luma: output pixel i (centre i + 0.5) -> source centre x + (i + 0.5) * sx
    _warp_plane(src.y, dst.y, sx, x + 0.5 * sx - 0.5, sy, y + 0.5 * sy - 0.5, _LUMA)
    # chroma sample j sits at luma coordinate 2j + 0.5 across and 2j + 1 down, in and out
    cox = (x + 0.5 * sx - 0.5) / 2
    coy = (y + sy - 1.0) / 2
    for s, d in ((src.u, dst.u), (src.v, dst.v)):
        _warp_plane(s, d, sx, cox, sy, coy, _CHROMA)
    return dst


def resample_crop(src: Yuv420, box: Box, out_w: int, out_h: int) -> Yuv420:
    """The fractional `box` (x, y, w, h in source luma px) of `src` as out_w x out_h planes
    (chroma (out_w + 1) // 2 x (out_h + 1) // 2), in one resampling step per plane."""
    _check(box, out_w, out_h)
    cw, ch = (out_w + 1) // 2, (out_h + 1) // 2
    dst = Yuv420(np.empty((out_h, out_w), np.uint8), np.empty((ch, cw), np.uint8),
                 np.empty((ch, cw), np.uint8))
    return resample_into(src, box, dst)


def resample_frame(src: Yuv420, box: Box, out_w: int, out_h: int) -> av.VideoFrame:
    """resample_crop written straight into a new yuv420p frame (no extra copy)."""
    _check(box, out_w, out_h)
    frame, dst = new_frame(out_w, out_h)
    resample_into(src, box, dst)
    return frame
