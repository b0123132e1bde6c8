"""Typed specs and results of the media jobs (framing, overlay, extract, compile).

They cross Modal and the local runner as JSON (`model_dump(mode="json")`), so they hold only
plain data. Each job body accepts its spec model or the equivalent dict.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

EffectType = Literal["original", "brightness_boost", "dark_overlay"]
TransitionType = Literal["cut", "fade", "dissolve"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def _json_value(value: Any) -> Any:
    """The editor stores crop/segments as JSON strings; accept those too."""
    if isinstance(value, str):
        return json.loads(value) if value.strip() else None
    return value


# -- specs -----------------------------------------------------------------------------------


class Transition(_Model):
    type: TransitionType = "cut"
    duration: float = Field(0.5, ge=0.0, le=5.0)


class FramingClip(_Model):
    source_key: str
    crop_keyframes: list[dict[str, Any]] = Field(default_factory=list)
    segments: dict[str, Any] | None = None  # segments_data: boundaries, segmentSpeeds, trimRange
    trim_range: dict[str, Any] | list[float] | None = None  # used when segments has none
    name: str = ""

    @field_validator("crop_keyframes", "segments", mode="before")
    @classmethod
    def parse_json_strings(cls, v: Any) -> Any:
        return _json_value(v)

    @field_validator("crop_keyframes", mode="before")
    @classmethod
    def none_is_empty(cls, v: Any) -> Any:
        return [] if v is None else v


class FramingSpec(_Model):
    clips: list[FramingClip] = Field(min_length=1)
    output_key: str
    aspect_ratio: str = "9:16"
    output_width: int | None = Field(
        None, ge=2, le=7680, validation_alias=AliasChoices("output_width", "width"))
    output_height: int | None = Field(
        None, ge=2, le=4320, validation_alias=AliasChoices("output_height", "height"))
    # None: the first clip's real fps
    fps: float | None = Field(
        None, gt=0, le=240, validation_alias=AliasChoices("fps", "target_fps"))
    include_audio: bool = True
    transition: Transition = Field(default_factory=Transition)
    upscaler: Literal["auto", "lanczos", "sr"] = "auto"


class OverlaySpec(_Model):
    input_key: str
    output_key: str
    regions: list[dict[str, Any]] = Field(default_factory=list)
    effect_type: EffectType = "original"
    smart: bool = True  # False forces a full re-encode (benchmarks, diagnosis)

    @field_validator("regions", mode="before")
    @classmethod
    def parse_json_regions(cls, v: Any) -> Any:
        return _json_value(v) or []


class ExtractSpec(_Model):
    input_key: str
    output_key: str
    start: float = Field(ge=0.0)
    end: float

    @model_validator(mode="after")
    def check_order(self) -> ExtractSpec:
        if not self.end > self.start:
            raise ValueError("end must be after start")
        return self


class CompileClip(_Model):
    """A clip as the annotate screen sends it (`start_time`/`end_time` accepted)."""

    start: float = Field(ge=0.0, validation_alias=AliasChoices("start", "start_time", "startTime"))
    end: float = Field(validation_alias=AliasChoices("end", "end_time", "endTime"))
    name: str = ""
    notes: str = ""
    rating: int = Field(3, ge=1, le=5)
    tags: list[str] = Field(default_factory=list)

    @field_validator("notes", "name", mode="before")
    @classmethod
    def none_is_empty(cls, v: Any) -> Any:
        return "" if v is None else v


class CompileSpec(_Model):
    input_key: str
    output_key: str
    clips: list[CompileClip]
    min_rating: int = Field(0, ge=0, le=5)


# -- results ---------------------------------------------------------------------------------


class Part(_Model):
    """One clip's place in the output video (also written as a chapter)."""

    index: int
    start: float
    end: float
    name: str = ""


class JobResult(_Model):
    status: Literal["complete", "error"]
    error: str | None = None  # one plain sentence when status == "error"
    output_key: str | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    size: int | None = None
    method: str | None = None  # overlay: copy|smart|full; extract: copy|reencode; else render
    note: str | None = None  # e.g. why an overlay fell back to a full re-encode

    @classmethod
    def failure(cls, message: str) -> JobResult:
        return cls(status="error", error=message)


class FramingResult(JobResult):
    upscaler: str | None = None
    sr_scale: int | None = None  # the model's scale when AI upscaling ran
    sr_input_size: list[int] | None = None  # [w, h] the crops were brought to for the model
    parts: list[Part] = Field(default_factory=list)
    clip_starts: list[float] = Field(default_factory=list)  # working-video seconds, per clip
    clip_durations: list[float] = Field(default_factory=list)
    # per clip: players at its automatic region's sample times (§6), working-video pixels
    detections: list[list[dict[str, Any]]] = Field(default_factory=list)


class OverlayResult(JobResult):
    reencoded_seconds: float | None = None


class ExtractResult(JobResult):
    pass


class CompileResult(JobResult):
    parts: list[Part] = Field(default_factory=list)

