"""A position-encoded picture and a fit that reads back which source box a frame shows.

Luma at continuous source position (u, v) (pixel n's centre is n + 0.5) is
`128 + KX (u - 960) + A sin(2π u / PX) + KY (v - 540) + A sin(2π v / PY)`: a gradient in x and
y fixes the absolute position, the fine texture the sub-pixel phase. The pattern is a sum of an
x part and a y part, so an output frame's column means depend on x alone and its row means on y
alone; fitting them gives the box edge and size in each axis.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import av
import numpy as np

from tests.media_helpers import media_dir

SRC_W, SRC_H = 1920, 1080
KX, KY, AMP, PX, PY = 0.03, 0.04, 22.0, 23.0, 19.0


def fx(u: np.ndarray) -> np.ndarray:
    return KX * (u - SRC_W / 2) + AMP * np.sin(2 * np.pi * u / PX)


def fy(v: np.ndarray) -> np.ndarray:
    return KY * (v - SRC_H / 2) + AMP * np.sin(2 * np.pi * v / PY)


def _to_u8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def luma_plane() -> np.ndarray:
    u = np.arange(SRC_W) + 0.5
    v = np.arange(SRC_H) + 0.5
    return _to_u8(128 + fy(v)[:, None] + fx(u)[None, :])


def chroma_plane() -> np.ndarray:
    """The same pattern at 4:2:0 chroma sample positions (2j + 0.5 across, 2j + 1 down)."""
    u = 2 * np.arange(SRC_W // 2) + 0.5
    v = 2 * np.arange(SRC_H // 2) + 1.0
    return _to_u8(128 + fy(v)[:, None] + fx(u)[None, :])


@functools.cache
def position_video(seconds: float = 2.5, fps: int = 30) -> Path:
    """A still 1920x1080 H.264 video of the pattern (near-lossless, grey chroma)."""
    path = media_dir() / f"position-{seconds}-{fps}.mp4"
    y = luma_plane()
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = SRC_W, SRC_H, "yuv420p"
        stream.options = {"crf": "4", "preset": "ultrafast"}
        for n in range(round(seconds * fps)):
            frame = av.VideoFrame(SRC_W, SRC_H, "yuv420p")
            for plane, data in zip(frame.planes, (y, None, None), strict=True):
                view = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
                view[:, : plane.width] = 128 if data is None else data
            frame.pts = n
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def fit_axis(means: np.ndarray, start: float, length: float, pattern, first: float = 0.5,
             step: float = 1.0) -> tuple[float, float, float]:
    """(start, length, rms) of the source interval whose samples best explain `means`.

    Sample i sits at output coordinate first + i * step (luma: 0.5 + i; 4:2:0 chroma across:
    0.5 + 2 i) of an axis `len(means) * step` long, i.e. at source position
    start + (first + i * step) * length / n. The pattern's gradient is known; its offset and the
    texture's amplitude (softened by resampling) are fitted with the position (Gauss-Newton
    from the guess).
    """
    n_out = len(means) * step
    pos = first + np.arange(len(means)) * step
    gradient, period = (KX, PX) if pattern is fx else (KY, PY)

    def residual(p: np.ndarray) -> np.ndarray:
        u = p[0] + pos * p[1] / n_out
        basis = np.stack([np.ones_like(u), np.sin(2 * np.pi * u / period)], axis=1)
        target = means - gradient * u
        coef, *_ = np.linalg.lstsq(basis, target, rcond=None)
        return target - basis @ coef

    p = np.array([start, length], np.float64)
    for _ in range(12):
        r = residual(p)
        jac = np.stack([(residual(p + d) - r) / 1e-4 for d in np.eye(2) * 1e-4], axis=1)
        delta, *_ = np.linalg.lstsq(jac, -r, rcond=None)
        p += delta
        if np.abs(delta).max() < 1e-5:
            break
    rms = float(math.sqrt(np.mean(residual(p) ** 2)))
    return float(p[0]), float(p[1]), rms


def fit_box(plane: np.ndarray, guess: tuple[float, float, float, float], first: float = 0.5,
            step: float = 1.0, first_y: float | None = None
            ) -> tuple[tuple[float, float, float, float], float]:
    """The (x, y, w, h) source box a luma (or chroma) plane shows, and the worse fit's rms."""
    img = plane.astype(np.float64)
    x, w, rx = fit_axis(img.mean(axis=0), guess[0], guess[2], fx, first, step)
    y, h, ry = fit_axis(img.mean(axis=1), guess[1], guess[3], fy,
                        first if first_y is None else first_y, step)
    return (x, y, w, h), max(rx, ry)


def box_error(found: tuple[float, ...], want: tuple[float, ...]) -> float:
    """The largest miss of any edge (x, y, x + w, y + h), source pixels."""
    (x, y, w, h), (ex, ey, ew, eh) = found, want
    return max(abs(x - ex), abs(y - ey), abs(x + w - ex - ew), abs(y + h - ey - eh))
