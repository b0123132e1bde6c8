"""Framing export (the working video): crop + trim + speed + resize + encode, one or many clips.

Per output frame n (time n / fps) of a clip, the segment plan gives the source time s; the
shown source frame is the last one at or before s (slow motion repeats frames evenly, fast
motion skips them); the crop is the keyframe spline at s (editor ticks s * 30), kept
fractional; the upscaler resamples it to the output size (lib.media.resample, sub-pixel).
Clips are joined in the frame domain (cut, fade, dissolve) inside a single encode; the
soundtrack (trim, atempo, cross-fades) is rendered by a parallel ffmpeg, cut to each clip's
exact video length, so A/V stay within a frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from functions.jobkit import publish, run_job
from lib.errors import DomainError
from lib.jobs.progress import Progress, ProgressSink
from lib.jobs.specs import FramingClip, FramingResult, FramingSpec, Part
from lib.media import (
    AudioJob,
    AudioPiece,
    Chapter,
    FrameReader,
    MediaInfo,
    VideoEncoder,
    local_input,
    media_error,
    mux,
    probe,
)
from lib.media.frames import sample_frames
from lib.media.probe import snap_rate
from lib.media.resample import SourceCrop
from lib.media.transitions import join
from lib.models import aspect_value
from lib.storage.base import ObjectStore
from lib.timeline.keyframes import CropTrack
from lib.timeline.segments import SegmentPlan, parse_segments
from lib.vision.choose import choose_upscaler
from lib.vision.region_detect import RegionDetections
from lib.vision.upscale import Upscaler

VERTICAL_SIZE = (810, 1440)
MAX_WIDE = (2560, 1440)


@dataclass
class ClipPlan:
    index: int
    spec: FramingClip
    path: Path
    info: MediaInfo
    plan: SegmentPlan
    crops: CropTrack
    frames: int  # output frames of this clip (set once the output rate is known)

    @property
    def label(self) -> str:
        return self.spec.name or f"Clip {self.index + 1}"


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def output_size(spec: FramingSpec) -> tuple[int, int]:
    """Requested size (made even), else 810x1440 for 9:16 and a fit in 2560x1440 otherwise."""
    if spec.output_width and spec.output_height:
        return _even(spec.output_width), _even(spec.output_height)
    aspect = aspect_value(spec.aspect_ratio)
    if aspect is None or abs(aspect - 9 / 16) < 1e-3:
        return VERTICAL_SIZE
    max_w, max_h = MAX_WIDE
    if aspect >= max_w / max_h:
        return max_w, _even(max_w / aspect)
    return _even(max_h * aspect), max_h


def run(spec: FramingSpec | dict, store: ObjectStore, progress: ProgressSink) -> FramingResult:
    """Render `spec.clips` into `spec.output_key`."""
    return run_job(FramingResult, FramingSpec, spec, progress,
                   lambda s, work, p: _framing(s, store, work, p))


def _plan_clips(spec: FramingSpec, store: ObjectStore, work: Path, out_aspect: float
                ) -> list[ClipPlan]:
    plans: list[ClipPlan] = []
    paths: dict[str, Path] = {}
    for i, clip in enumerate(spec.clips):
        try:
            if clip.source_key not in paths:
                paths[clip.source_key] = local_input(store, clip.source_key, work)
            path = paths[clip.source_key]
            info = probe(path)
            plan = parse_segments(clip.segments, info.duration, clip.trim_range)
            crops = CropTrack(clip.crop_keyframes, info.display_width, info.display_height,
                              default_aspect=out_aspect)
        except DomainError as err:
            if len(spec.clips) > 1:
                err.message = f"Clip {i + 1}: {err.message}"
            raise
        plans.append(ClipPlan(i, clip, path, info, plan, crops, frames=0))
    return plans


def _framing(spec: FramingSpec, store: ObjectStore, work: Path, progress: Progress
             ) -> FramingResult:
    progress(1, "download", "Fetching the clips")
    width, height = output_size(spec)
    target = snap_rate(spec.fps) if spec.fps else None
    clips = _plan_clips(spec, store, work, width / height)
    rate = target or clips[0].info.frame_rate
    for clip in clips:
        clip.frames = max(1, round(clip.plan.duration * rate))
    kind = spec.transition.type if len(clips) > 1 else "cut"
    overlap = 0
    if kind != "cut":
        overlap = min(round(spec.transition.duration * rate), min(c.frames for c in clips) // 2)
    starts, t = [], 0
    for clip in clips:
        starts.append(t)
        t += clip.frames - overlap
    total_frames = t + overlap

    audio = None
    if spec.include_audio and any(c.info.has_audio for c in clips):
        pieces = [
            AudioPiece(str(c.path) if c.info.has_audio else None, c.info.clip_offset,
                       c.plan.segments, float(c.frames / rate))
            for c in clips
        ]
        audio = AudioJob(pieces, work / "audio.m4a", crossfade=float(overlap / rate))
    choice = choose_upscaler(spec.upscaler)
    upscaler, label = choice.upscaler, choice.progress_label()
    progress(3, "processing", "Rendering the video")
    report = progress.span(3, 93, "upscaling")
    regions = RegionDetections(starts, [c.frames for c in clips], rate)
    video = work / "video.mp4"
    try:
        with VideoEncoder(video, width, height, rate) as encoder:
            frames = join((_clip_frames(c, rate, upscaler, width, height) for c in clips),
                          kind, overlap)
            for frame in frames:
                regions.offer(encoder.frames, frame)
                encoder.write(frame)
                if encoder.frames % 15 == 0:
                    report(encoder.frames / total_frames,
                           f"{label} frame {encoder.frames}/{total_frames}")
        progress(94, "processing", "Finding the players")
        detections = regions.detections()
        audio_path = audio.wait() if audio is not None else None
    except BaseException:
        if audio is not None:
            audio.cancel()
        raise
    parts = [
        Part(index=c.index, start=float(s / rate), end=float((s + c.frames) / rate),
             name=c.label)
        for c, s in zip(clips, starts, strict=True)
    ]
    chapters = [Chapter(p.start, p.end, p.name) for p in parts] if len(parts) > 1 else []
    out = work / "working.mp4"
    mux(video, out, audio=audio_path, chapters=chapters, workdir=work)
    return publish(
        FramingResult, store, spec.output_key, out, progress, method="render",
        **choice.report(), parts=parts,
        clip_starts=[p.start for p in parts], clip_durations=[p.end - p.start for p in parts],
        detections=detections,
    )


def _clip_frames(clip: ClipPlan, rate: Fraction, upscaler: Upscaler, width: int,
                 height: int) -> Iterator[av.VideoFrame]:
    return upscaler.resize_stream(_crops(clip, rate), width, height)


def _crops(clip: ClipPlan, rate: Fraction) -> Iterator[SourceCrop]:
    """The shown source frame and its fractional crop box for each output frame of the clip."""
    info, plan = clip.info, clip.plan
    reader = FrameReader(clip.path, info, start=plan.source_start,
                         end=plan.source_end + 2.0 / info.fps)
    times = [plan.to_source(float(n / rate)) for n in range(clip.frames)]
    shown = sample_frames(iter(reader), iter(times), info.fps)
    for s in times:
        current = next(shown, None)
        if current is None:
            raise media_error(f"{clip.label} has no frames in its trim range.")
        box = clip.crops.at(s)
        yield SourceCrop(current.planes(info.rotation), (box.x, box.y, box.width, box.height))
