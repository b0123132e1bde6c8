"""Upscalers: turn fractional crops of source frames into output-size frames.

The interface is a stream (SourceCrop in: the source frame's planes and the spline's fractional
box; frames out, same order) so a GPU super-resolution model can batch frames internally. Every
upscaler takes its input through lib.media.resample (one sub-pixel resampling step): Lanczos
resamples straight to the output size; super-resolution resamples to its planned input size
(`resample_crop(crop.frame, crop.box, in_w, in_h)`), then runs its model (spec/media.md §5:
Real-ESRGAN via spandrel, half precision, the smallest scale that reaches the output). On CPU,
and whenever no weights are available, the Lanczos upscaler is used and the job result says
`upscaler: "lanczos"`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

import av

from lib.media.resample import SourceCrop, resample_frame


class Upscaler(Protocol):
    name: str

    def resize_stream(self, crops: Iterable[SourceCrop], width: int, height: int
                      ) -> Iterator[av.VideoFrame]:
        """One yuv420p frame of width x height per crop (its box, sub-pixel), in order."""


class LanczosUpscaler:
    """The non-AI path: each fractional crop resampled straight to the output size in one step
    (lib.media.resample; the job result's `upscaler: "lanczos"`)."""

    name = "lanczos"

    def resize(self, crop: SourceCrop, width: int, height: int) -> av.VideoFrame:
        return resample_frame(crop.frame, crop.box, width, height)

    def resize_stream(self, crops: Iterable[SourceCrop], width: int, height: int
                      ) -> Iterator[av.VideoFrame]:
        for crop in crops:
            yield self.resize(crop, width, height)
