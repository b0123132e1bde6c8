"""Annotated compilation (spec/media.md §7): the rated clips of a game video, each with a
4 px border in its rating colour and a white title box ("{notation}  {name}" and the first
100 characters of the notes), joined into one H.264/AAC video with a chapter per clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from functions.jobkit import publish, run_job
from lib.jobs.progress import Progress, ProgressSink
from lib.jobs.specs import CompileClip, CompileResult, CompileSpec, Part
from lib.media import (
    AudioJob,
    AudioPiece,
    Chapter,
    FrameReader,
    MediaInfo,
    VideoEncoder,
    Yuv420,
    local_input,
    media_error,
    mux,
    new_frame,
    probe,
)
from lib.media.effects import BT601, BT709, ColorModel, parse_color
from lib.media.frames import sample_frames
from lib.storage.base import ObjectStore
from lib.timeline.segments import Segment

ASSETS = Path(__file__).resolve().parent / "assets"
RATING_COLORS = {1: "#C62828", 2: "#F9A825", 3: "#1565C0", 4: "#2E7D32", 5: "#66BB6A"}
NOTATION = {1: "??", 2: "?", 3: "!?", 4: "!", 5: "!!"}
BORDER = 4
NOTES_CHARS = 100
BOX_OPACITY = 0.92


def title_text(clip: CompileClip) -> tuple[str, str]:
    return f"{NOTATION[clip.rating]}  {clip.name}".rstrip(), clip.notes[:NOTES_CHARS]


@dataclass
class Overlay:
    """A pre-rendered patch blended at (x, y) of every frame: YUV planes + alpha."""

    x: int
    y: int
    yuv: Yuv420
    alpha: np.ndarray  # float32, luma size
    alpha_uv: np.ndarray


def _font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(ASSETS / name), size)


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
         ) -> list[str]:
    """Greedy word wrap to `width` pixels (a too-long word is cut)."""
    lines: list[str] = []
    for word in text.split():
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(trial, font=font) <= width:
            lines[-1] = trial
            continue
        while draw.textlength(word, font=font) > width and len(word) > 1:
            word = word[:-1]
        lines.append(word)
    return lines


def render_title(clip: CompileClip, frame_w: int, frame_h: int, colors: ColorModel) -> Overlay:
    """The white title box for a clip, as YUV planes + alpha at the top-left inside the border."""
    title, notes = title_text(clip)
    t_size, n_size = max(12, round(frame_h * 0.045)), max(10, round(frame_h * 0.03))
    pad, margin = max(4, t_size // 3), BORDER + max(4, round(frame_h * 0.02))
    max_text = max(20, frame_w - 2 * margin - 2 * pad)
    scratch = ImageDraw.Draw(Image.new("L", (1, 1)))
    t_font, n_font = _font(True, t_size), _font(False, n_size)
    lines = [(line, t_font) for line in _fit(scratch, title, t_font, max_text)[:1]]
    lines += [(line, n_font) for line in _fit(scratch, notes, n_font, max_text)[:3]]
    text_w = max((scratch.textlength(text, font=font) for text, font in lines), default=0)
    box_w = min(frame_w - 2 * margin, int(text_w) + 2 * pad) & ~1
    box_h = (sum(round(font.size * 1.25) for _, font in lines) + 2 * pad + 1) & ~1
    x0, y0 = margin & ~1, margin & ~1
    box_h = min(box_h, frame_h - y0) & ~1
    image = Image.new("RGB", (box_w, box_h), "white")
    draw = ImageDraw.Draw(image)
    y = pad
    for text, font in lines:
        draw.text((pad, y), text, fill="black", font=font)
        y += round(font.size * 1.25)
    rgb = np.asarray(image, dtype=np.float32)
    kr, kb = colors.kr, colors.kb
    ey = (kr * rgb[..., 0] + (1 - kr - kb) * rgb[..., 1] + kb * rgb[..., 2]) / 255
    pb = (rgb[..., 2] / 255 - ey) / (2 * (1 - kb))
    pr = (rgb[..., 0] / 255 - ey) / (2 * (1 - kr))
    y_plane = 16 + 219 * ey
    u_plane = (128 + 224 * pb).reshape(box_h // 2, 2, box_w // 2, 2).mean(axis=(1, 3))
    v_plane = (128 + 224 * pr).reshape(box_h // 2, 2, box_w // 2, 2).mean(axis=(1, 3))
    alpha = np.full((box_h, box_w), BOX_OPACITY, np.float32)
    return Overlay(x0, y0, Yuv420(y_plane, u_plane, v_plane), alpha, alpha[::2, ::2])


def decorate(src: Yuv420, dst: Yuv420, border_yuv: tuple[float, float, float], title: Overlay
             ) -> None:
    """dst = src with the border and the title box."""
    for s, d in zip(src.planes(), dst.planes(), strict=True):
        d[...] = s
    for plane, value, width in zip(dst.planes(), border_yuv, (BORDER, BORDER // 2, BORDER // 2),
                                   strict=True):
        v = int(round(value))
        plane[:width, :], plane[-width:, :] = v, v
        plane[:, :width], plane[:, -width:] = v, v
    for plane, patch, alpha, scale in (
        (dst.y, title.yuv.y, title.alpha, 1), (dst.u, title.yuv.u, title.alpha_uv, 2),
        (dst.v, title.yuv.v, title.alpha_uv, 2),
    ):
        x, y = title.x // scale, title.y // scale
        h, w = min(patch.shape[0], plane.shape[0] - y), min(patch.shape[1], plane.shape[1] - x)
        region = plane[y : y + h, x : x + w].astype(np.float32)
        mixed = region + alpha[:h, :w] * (patch[:h, :w] - region)
        plane[y : y + h, x : x + w] = (mixed + 0.5).astype(np.uint8)


def run(spec: CompileSpec | dict, store: ObjectStore, progress: ProgressSink) -> CompileResult:
    """Render the annotated compilation of `spec.input_key` into `spec.output_key`."""
    return run_job(CompileResult, CompileSpec, spec, progress,
                   lambda s, work, p: _compile(s, store, work, p))


def _compile(spec: CompileSpec, store: ObjectStore, work: Path, progress: Progress
             ) -> CompileResult:
    progress(1, "download", "Fetching the game video")
    src = local_input(store, spec.input_key, work)
    info = probe(src)
    clips = sorted((c for c in spec.clips if c.rating >= spec.min_rating
                    and min(c.end, info.duration) - c.start >= info.frame_duration),
                   key=lambda c: c.start)
    if not clips:
        raise media_error("No annotated clip in this video matches the requested rating.")
    rate = info.frame_rate
    counts = [max(1, round((min(c.end, info.duration) - c.start) * rate)) for c in clips]
    total = sum(counts)
    width, height = info.display_width, info.display_height
    audio = None
    if info.has_audio:
        pieces = [AudioPiece(str(src), info.clip_offset,
                             (Segment(c.start, c.start + float(n / rate), 1.0),),
                             float(n / rate)) for c, n in zip(clips, counts, strict=True)]
        audio = AudioJob(pieces, work / "audio.m4a")
    report = progress.span(3, 93, "processing")
    video = work / "video.mp4"
    parts: list[Part] = []
    try:
        with VideoEncoder(video, width, height, rate) as encoder:
            for index, (clip, count) in enumerate(zip(clips, counts, strict=True)):
                start = encoder.frames
                _render_clip(encoder, src, info, clip, count, rate)
                parts.append(Part(index=index, start=float(start / rate),
                                  end=float(encoder.frames / rate), name=title_text(clip)[0]))
                report(encoder.frames / total, f"Rendered clip {index + 1}/{len(clips)}")
        audio_path = audio.wait() if audio is not None else None
    except BaseException:
        if audio is not None:
            audio.cancel()
        raise
    out = work / "annotated.mp4"
    mux(video, out, audio=audio_path, chapters=[Chapter(p.start, p.end, p.name) for p in parts],
        workdir=work)
    return publish(CompileResult, store, spec.output_key, out, progress, method="render",
                   parts=parts)


def _render_clip(encoder: VideoEncoder, src: Path, info: MediaInfo, clip: CompileClip,
                 count: int, rate: Fraction) -> None:
    width, height = info.display_width, info.display_height
    colors = BT709 if height >= 720 else BT601
    title = render_title(clip, width, height, colors)
    border = colors.yuv(parse_color(RATING_COLORS[clip.rating]))
    times = iter([clip.start + float(n / rate) for n in range(count)])
    reader = FrameReader(src, info, start=clip.start, end=clip.end + 2 * info.frame_duration)
    for shown in sample_frames(iter(reader), times, info.fps):
        frame, dst = new_frame(width, height)
        decorate(shown.planes(info.rotation), dst, border, title)
        encoder.write(frame)
