"""Sub-pixel crop resampling: a fractional source box straight to an output size, one step.

The framing render's crop box comes from a spline (spec/media.md §2) and is fractional in
position and size; snapping it to whole pixels makes slow pans step instead of glide. Here each
plane is resampled once, separably, with a Lanczos-3 kernel (spec/media.md §3: "resize with
Lanczos"), so output pixel i of a box (x, w) is centred on source position
x + (i + 0.5) * w / out_w (pixel centres at n + 0.5). When the box is larger than the output
(a downscale) the kernel is stretched by the scale, which band-limits it (no aliasing), as
swscale and Pillow do. Chroma is resampled at its own subsampled coordinates: 4:2:0 with
MPEG-2/H.264 siting (horizontally co-sited with the even luma column, vertically between the
two luma rows), the same siting in and out. Borders repeat the edge pixel.

The passes are lib.media.resample_kernels (compiled): across on the transposed crop, then down;
the intermediate stays float. OpenCV's resize has no sub-pixel origin and its bicubic
warpAffine is scalar code (17 ms a 1440p luma plane on one core, against ~3 ms here).

The one implementation for every framing path: LanczosUpscaler resamples straight to the output
size; a super-resolution upscaler resamples to its planned input size, then runs its model.
"""

from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass

import av
import cv2
import numpy as np

from lib.media.frames import Yuv420, new_frame

Box = tuple[float, float, float, float]  # x, y, width, height in source luma pixels

_LOBES = 3  # Lanczos-3


@dataclass(frozen=True)
class SourceCrop:
    """What an upscaler gets per output frame: the whole (display-rotated) source frame and
    the fractional crop box in its luma pixels. `frame` holds views of the decoder's buffers:
    resample it before keeping it (see resample_crop)."""

    frame: Yuv420
    box: Box


def _lanczos(t: np.ndarray) -> np.ndarray:
    return np.where(np.abs(t) < _LOBES, np.sinc(t) * np.sinc(t / _LOBES), 0.0)


@functools.lru_cache(maxsize=16)  # a still camera asks for the same axes every frame
def _axis(n_out: int, origin: float, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Output sample i is centred on source index coordinate origin + scale * i: the first
    source index it reads and its weights (n_out, taps), which sum to 1."""
    stretch = max(scale, 1.0)
    support = _LOBES * stretch
    taps = 2 * math.ceil(support) + 1
    centre = origin + scale * np.arange(n_out)
    first = np.floor(centre - support).astype(np.int64) + 1
    weights = _lanczos((first[:, None] + np.arange(taps) - centre[:, None]) / stretch)
    weights /= weights.sum(axis=1, keepdims=True)
    return first.astype(np.int32), weights.astype(np.float32)  # shared by the cache: not mutated


class _Scratch(threading.local):
    """Work arrays kept between frames (per thread): multi-MB temporaries allocated per call
    are fresh pages each time, and the page faults cost as much as the filtering."""

    def __init__(self) -> None:
        self.buffers: dict[str, np.ndarray] = {}

    def array(self, name: str, shape: tuple[int, int], dtype: type) -> np.ndarray:
        size = shape[0] * shape[1]
        buffer = self.buffers.get(name)
        if buffer is None or buffer.size < size or buffer.dtype != dtype:
            buffer = self.buffers[name] = np.empty(size, dtype)
        return buffer[:size].reshape(shape)


_scratch = _Scratch()


@functools.cache
def _kernels():  # noqa: ANN202
    """Imported on first use: numba and the compiled passes take ~1 s to load (~2 s the first
    time, compiling), which processes that never resample should not pay."""
    from lib.media import resample_kernels

    return resample_kernels


def _transpose(src: np.ndarray, name: str) -> np.ndarray:
    out = _scratch.array(name, (src.shape[1], src.shape[0]), src.dtype.type)
    result = cv2.transpose(src, dst=out)
    return out if np.shares_memory(result, out) else np.ascontiguousarray(result)


def _resample_plane(src: np.ndarray, dst: np.ndarray, sx: float, ox: float, sy: float,
                    oy: float) -> None:
    """dst[j, i] = src resampled at (sx * i + ox, sy * j + oy) (pixel-index coordinates)."""
    out_h, out_w = dst.shape
    h, w = src.shape
    first_x, weights_x = _axis(out_w, ox, sx)
    first_y, weights_y = _axis(out_h, oy, sy)
    # only the lines the taps read; indices past the frame edge clamp to it (repeat the edge)
    c0, c1 = max(0, int(first_x[0])), min(w, int(first_x[-1]) + weights_x.shape[1])
    r0, r1 = max(0, int(first_y[0])), min(h, int(first_y[-1]) + weights_y.shape[1])
    c0, r0 = min(c0, w - 1), min(r0, h - 1)
    c1, r1 = max(c1, c0 + 1), max(r1, r0 + 1)
    roi = src[r0:r1, c0:c1]
    if roi.strides[1] != 1 or roi.strides[0] <= 0:  # a rotated view: cv2 needs plain rows
        roi = np.ascontiguousarray(roi)
    across = _scratch.array("across", (out_w, r1 - r0), np.float32)
    kernels = _kernels()
    kernels.filter_lines_to_float(_transpose(roi, "crop"), first_x - c0, weights_x, across)
    kernels.filter_lines_to_u8(_transpose(across, "across.t"), first_y - r0, weights_y, dst)


def _check(box: Box, out_w: int, out_h: int) -> tuple[float, float, float, float]:
    x, y, w, h = (float(v) for v in box)
    if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
        raise ValueError(f"Crop box {box!r} has no area.")
    if out_w < 1 or out_h < 1:
        raise ValueError(f"Output size {out_w}x{out_h} is empty.")
    return x, y, w, h


def resample_into(src: Yuv420, box: Box, dst: Yuv420) -> Yuv420:
    """Resample the fractional `box` of `src` onto all of `dst` (its size is the output size)."""
    x, y, w, h = _check(box, dst.width, dst.height)
    sx, sy = w / dst.width, h / dst.height
    # luma: output pixel i (centre i + 0.5) -> source centre x + (i + 0.5) * sx
    _resample_plane(src.y, dst.y, sx, x + 0.5 * sx - 0.5, sy, y + 0.5 * sy - 0.5)
    # chroma sample j sits at luma coordinate 2j + 0.5 across and 2j + 1 down, in and out
    cox = (x + 0.5 * sx - 0.5) / 2
    coy = (y + sy - 1.0) / 2
    for s, d in ((src.u, dst.u), (src.v, dst.v)):
        _resample_plane(s, d, sx, cox, sy, coy)
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
