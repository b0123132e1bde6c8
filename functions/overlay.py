"""Overlay export (the final video): the highlight effect over the working video (§4).

Smart rendering: only the GOPs overlapping an active enabled region are decoded, effected and
re-encoded; every other packet (and all audio) is copied. No active region: a plain stream
copy. A source that cannot be spliced cleanly is re-encoded in full, and the result says so.
"""

from __future__ import annotations

from pathlib import Path

import av

from functions.jobkit import publish, run_job
from lib.jobs.progress import Progress, ProgressSink
from lib.jobs.specs import OverlayResult, OverlaySpec
from lib.media import (
    FrameReader,
    MediaInfo,
    VideoEncoder,
    local_input,
    mux,
    new_frame,
    plane_views,
    probe,
    read_chapters,
)
from lib.media.effects import ColorModel, Effect, color_model, make_effect
from lib.media.smartcut import NotCuttable, check_cuttable, gops_to_reencode, scan_gops, splice
from lib.storage.base import ObjectStore
from lib.timeline.keyframes import HighlightRegion, active_region, active_spans, parse_regions


class OverlayRenderer:
    """Frame in, frame out: the effect where a region is active, the frame itself elsewhere."""

    def __init__(self, regions: list[HighlightRegion], effect: Effect, info: MediaInfo):
        self.regions, self.effect, self.info = regions, effect, info
        self.width, self.height = info.display_width, info.display_height
        self.colors: ColorModel | None = None
        self.effected = 0

    def process(self, frame: av.VideoFrame, t: float) -> av.VideoFrame:
        region = active_region(self.regions, t)
        rotation = self.info.rotation
        if region is None and not rotation:
            return frame
        if self.colors is None:
            self.colors = color_model(frame.colorspace, frame.color_range, self.height)
        if not rotation:
            # In place: make_writable copies only buffers the decoder still references.
            frame.make_writable()
            planes = plane_views(frame)
            self.effect.render(planes, planes, region.ellipse_at(t, self.width, self.height),
                               self.colors)
            self.effected += 1
            return frame
        src = plane_views(frame).rotated(rotation)
        out, dst = new_frame(self.width, self.height)
        out.pts = frame.pts
        if frame.time_base is not None:  # frames flushed by decode(None) carry none
            out.time_base = frame.time_base
        out.colorspace, out.color_range = frame.colorspace, frame.color_range
        if region is None:
            for s, d in zip(src.planes(), dst.planes(), strict=True):
                d[...] = s
            return out
        self.effect.render(src, dst, region.ellipse_at(t, self.width, self.height), self.colors)
        self.effected += 1
        return out


def run(spec: OverlaySpec | dict, store: ObjectStore, progress: ProgressSink) -> OverlayResult:
    """Render `spec.input_key` with the regions' effect into `spec.output_key`."""
    return run_job(OverlayResult, OverlaySpec, spec, progress,
                   lambda s, work, p: _overlay(s, store, work, p))


def _overlay(spec: OverlaySpec, store: ObjectStore, work: Path, progress: Progress
             ) -> OverlayResult:
    progress(1, "download", "Fetching the working video")
    src = local_input(store, spec.input_key, work)
    info = probe(src)
    regions = parse_regions(spec.regions)
    for region in regions:
        if region.enabled:
            region.validate(info.display_width, info.display_height)
    spans = [(max(0.0, s), min(info.duration, e)) for s, e in active_spans(regions)
             if e >= 0 and s <= info.duration]
    out = work / "final.mp4"
    progress(5, "processing", "Rendering the highlight")
    report = progress.span(5, 95, "processing")
    renderer = OverlayRenderer(regions, make_effect(spec.effect_type), info)
    method, note, frames = None, None, 0
    if not spans:
        mux(src, out, audio=src if info.has_audio else None, chapters=read_chapters(src),
            workdir=work)
        method = "copy"
    elif spec.smart:
        try:
            gops = scan_gops(src, info)
            reencode = gops_to_reencode(gops, spans)
            check_cuttable(info, gops, reencode)
            frames = splice(src, out, info, reencode, renderer.process,
                            lambda f: report(f, "Rendering the highlight"))
            method = "smart"
        except NotCuttable as err:
            note = f"The whole video was re-encoded because {err}."
    if method is None:
        frames = _full(src, out, info, renderer, work, report)
        method = "full"
    return publish(OverlayResult, store, spec.output_key, out, progress, method=method,
                   note=note, reencoded_seconds=round(frames / info.fps, 3))


def _full(src: Path, out: Path, info: MediaInfo, renderer: OverlayRenderer, work: Path,
          report) -> int:
    """Decode, effect and re-encode every frame; audio and chapters copied."""
    video = work / "video.mp4"
    total = info.frame_count or max(1, round(info.duration * info.fps))
    with VideoEncoder(video, info.display_width, info.display_height, info.frame_rate) as enc:
        for i, decoded in enumerate(FrameReader(src, info)):
            enc.write(renderer.process(decoded.frame, decoded.t))
            if i % 30 == 0:
                report(i / total, "Rendering the highlight")
        frames = enc.frames
    mux(video, out, audio=src if info.has_audio else None, chapters=read_chapters(src),
        workdir=work)
    return frames
