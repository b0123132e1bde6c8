"""The SR plan per crop (spec/media.md §5) and the plane helpers the SR stream packs with.

A crop at least as large as the output needs no model (Lanczos down); otherwise it is
area-downscaled to output/scale when larger (never upscaled before the model), the model runs
once, and Lanczos takes the result to the exact output size. Model inputs are even-sided, so
4:2:0 chroma is exactly half.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


def even(value: float) -> int:
    return max(2, 2 * round(value / 2))


@dataclass(frozen=True)
class SrPlan:
    """What happens to one crop: `model_input` (w, h) is None when no model runs."""

    model_input: tuple[int, int] | None
    scale: int

    @property
    def model_output(self) -> tuple[int, int] | None:
        if self.model_input is None:
            return None
        return self.model_input[0] * self.scale, self.model_input[1] * self.scale


def plan_crop(crop_w: int, crop_h: int, out_w: int, out_h: int, scale: int = 4) -> SrPlan:
    if crop_w >= out_w and crop_h >= out_h:
        return SrPlan(None, scale)
    target_w, target_h = even(out_w / scale), even(out_h / scale)
    in_w = target_w if crop_w > target_w else max(2, crop_w - crop_w % 2)
    in_h = target_h if crop_h > target_h else max(2, crop_h - crop_h % 2)
    return SrPlan((in_w, in_h), scale)


@dataclass
class SrStats:
    """What the last streams did, for the job result."""

    frames_sr: int = 0
    model_inputs: Counter[tuple[int, int]] = field(default_factory=Counter)
    batches: int = 0




def frame_bytes(w: int, h: int) -> int:
    return w * h + 2 * (h // 2) * (w // 2)

