"""Upscalers: turn crops of the source into output-size frames.

The interface is a stream (crops in, frames out, same order) so a GPU super-resolution model
can batch frames internally (spec/media.md §5: Real-ESRGAN via spandrel, half precision,
the smallest scale that reaches the output). On CPU, and whenever no weights are available,
the Lanczos upscaler is used and the job result says `upscaler: "lanczos"`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from lib.media import Yuv420, new_frame


class Upscaler(Protocol):
    name: str

    def resize_stream(self, crops: Iterable[Yuv420], width: int, height: int
                      ) -> Iterator[av.VideoFrame]:
        """One yuv420p frame of width x height per crop, in order."""


class LanczosUpscaler:
    """swscale's Lanczos (the same filter as ffmpeg's `scale=flags=lanczos`), multithreaded."""

    name = "lanczos"

    def __init__(self) -> None:
        self._scaler = VideoReformatter()

    def resize(self, crop: Yuv420, width: int, height: int) -> av.VideoFrame:
        frame, dst = new_frame(crop.width, crop.height)
        for d, s in zip(dst.planes(), crop.planes(), strict=True):
            np.copyto(d, s)
        if (crop.width, crop.height) == (width, height):
            return frame
        return self._scaler.reformat(frame, width, height, "yuv420p", interpolation="LANCZOS")

    def resize_stream(self, crops: Iterable[Yuv420], width: int, height: int
                      ) -> Iterator[av.VideoFrame]:
        for crop in crops:
            yield self.resize(crop, width, height)


def make_upscaler(preference: str = "auto") -> Upscaler:
    """The best upscaler this machine can run. Only Lanczos exists on CPU; a GPU model plugs in
    here (selected when its weights and a GPU are present)."""
    if preference not in ("auto", "lanczos"):
        raise ValueError(f"Unknown upscaler {preference!r}.")
    return LanczosUpscaler()
