"""Probe a video with PyAV: duration, real fps, size, rotation, audio, codec; input checks (§8)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from lib.media.tools import media_error

_STANDARD_RATES = [
    Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30),
    Fraction(48), Fraction(50), Fraction(60000, 1001), Fraction(60), Fraction(120),
]

NOT_A_VIDEO = (
    "The input file is not a readable video (it may be truncated or in an unknown format)."
)
TRUNCATED = "The input video is truncated or damaged."


@dataclass(frozen=True)
class MediaInfo:
    path: str
    duration: float  # seconds of video, from the first frame
    fps: float  # real average frame rate
    frame_rate: Fraction  # the rate an encoder uses (fps snapped to a standard rate)
    width: int  # coded size
    height: int
    rotation: int  # display rotation, degrees counter-clockwise: 0, 90, 180 or 270
    has_audio: bool
    video_codec: str
    audio_codec: str | None
    pix_fmt: str
    start_time: float  # pts of the first video frame, seconds
    audio_start_time: float | None
    container_start: float  # the file's start as ffmpeg's command line counts time
    size: int
    frame_count: int | None

    @property
    def display_width(self) -> int:
        return self.height if self.rotation in (90, 270) else self.width

    @property
    def display_height(self) -> int:
        return self.width if self.rotation in (90, 270) else self.height

    @property
    def clip_offset(self) -> float:
        """Add to a clip time (0 = first frame) to get ffmpeg's command-line input time."""
        return self.start_time - self.container_start

    @property
    def frame_duration(self) -> float:
        return 1.0 / self.fps


def snap_rate(rate: Fraction | float) -> Fraction:
    """The nearest standard frame rate within 0.05 %, else the rate in 1/1001 steps."""
    rate = Fraction(rate).limit_denominator(1001)
    best = min(_STANDARD_RATES, key=lambda std: abs(float(rate) / float(std) - 1))
    return best if abs(float(rate) / float(best) - 1) < 0.0005 else rate


@contextmanager
def open_input(path: str | Path):
    """av.open with the input errors of spec §8 turned into one-sentence MediaErrors."""
    path = str(path)
    try:
        size = os.path.getsize(path)
    except OSError:
        raise media_error("The input video does not exist.") from None
    if size == 0:
        raise media_error("The input file is empty.")
    try:
        container = av.open(path, metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError) as err:
        raise media_error(NOT_A_VIDEO, str(err)) from None
    try:
        yield container
    finally:
        container.close()


def video_stream(container: Any) -> Any:
    if not container.streams.video:
        raise media_error("The input file has no video stream.")
    stream = container.streams.video[0]
    if stream.codec_context is None:
        raise media_error("The input video's codec is not supported.")
    return stream


def _seconds(ts: int | None, time_base: Fraction | None) -> float | None:
    return None if ts is None or time_base is None else float(ts * time_base)


def _index_truncated(stream: Any, size: int) -> bool:
    """mp4/mov: the sample index points past the end of the file."""
    try:
        entries = stream.index_entries
        if len(entries) == 0:
            return False
        last = entries[len(entries) - 1]
        return max(last.pos + last.size, entries[0].pos + entries[0].size) > size
    except (AttributeError, TypeError):
        return False


def probe(path: str | Path) -> MediaInfo:
    """Everything a job needs to plan a render; raises MediaError for unusable inputs."""
    path = str(path)
    with open_input(path) as container:
        stream = video_stream(container)
        cc = stream.codec_context
        size = os.path.getsize(path)
        if _index_truncated(stream, size):
            raise media_error(TRUNCATED)
        first = None
        try:
            for frame in container.decode(stream):
                first = frame
                break
        except av.FFmpegError as err:
            raise media_error("The input video could not be decoded; it may be corrupt.",
                              str(err)) from None
        if first is None:
            raise media_error("The input video contains no frames.")
        tb = stream.time_base
        start = _seconds(first.pts, tb)
        if start is None:
            start = _seconds(stream.start_time, tb) or 0.0
        duration = _seconds(stream.duration, tb)
        if not duration:
            duration = (container.duration or 0) / av.time_base - (start or 0.0)
        elif stream.start_time is not None:
            duration -= start - float(stream.start_time * tb)
        if duration <= 0:
            raise media_error("The input video has no duration.")
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        if stream.frames and duration > 0:
            measured = Fraction(stream.frames) / Fraction(duration).limit_denominator(1_000_000)
            if not rate or abs(float(measured) / float(rate) - 1) > 0.01:
                rate = measured
        if not rate or rate <= 0:
            raise media_error("The input video has no frame rate.")
        audio = container.streams.audio[0] if container.streams.audio else None
        audio_ok = audio is not None and audio.codec_context is not None
        return MediaInfo(
            path=path,
            duration=float(duration),
            fps=float(rate),
            frame_rate=snap_rate(rate),
            width=cc.width,
            height=cc.height,
            rotation=int(getattr(first, "rotation", 0) or 0) % 360,
            has_audio=audio_ok,
            video_codec=cc.name,
            audio_codec=audio.codec_context.name if audio_ok else None,
            pix_fmt=first.format.name,
            start_time=float(start),
            audio_start_time=_seconds(audio.start_time, audio.time_base) if audio_ok else None,
            container_start=(container.start_time or 0) / av.time_base,
            size=size,
            frame_count=stream.frames or None,
        )
