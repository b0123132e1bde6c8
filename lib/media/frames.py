"""Streaming decode: YUV 4:2:0 frames as numpy planes with exact presentation times.

Memory stays bounded (the decoder's few frames in flight); at most one seek per reader, never
one per frame. Planes are views into PyAV's buffers: a frame to be changed is copied first
(`new_frame`), because the decoder may still reference the buffers it returned.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from lib.media.probe import TRUNCATED, MediaInfo, open_input, video_stream
from lib.media.tools import media_error


@dataclass
class Yuv420:
    """Y at full size, U and V at half size (rounded up)."""

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray

    @property
    def width(self) -> int:
        return self.y.shape[1]

    @property
    def height(self) -> int:
        return self.y.shape[0]

    def planes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.y, self.u, self.v

    def rotated(self, rotation: int) -> Yuv420:
        """The planes turned `rotation` degrees counter-clockwise (views, no copy)."""
        k = (rotation // 90) % 4
        if k == 0:
            return self
        return Yuv420(*(np.rot90(p, k) for p in self.planes()))


def plane_views(frame: av.VideoFrame) -> Yuv420:
    """Views of a yuv420p frame's planes (row padding cut off)."""
    views = [
        np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width]
        for p in frame.planes
    ]
    return Yuv420(*views)


def new_frame(width: int, height: int) -> tuple[av.VideoFrame, Yuv420]:
    """A fresh, writable yuv420p frame and views of its planes."""
    frame = av.VideoFrame(width, height, "yuv420p")
    return frame, plane_views(frame)


def copy_frame(src: av.VideoFrame) -> tuple[av.VideoFrame, Yuv420]:
    frame, dst = new_frame(src.width, src.height)
    for d, s in zip(dst.planes(), plane_views(src).planes(), strict=True):
        np.copyto(d, s)
    copy_color_tags(src, frame)
    return frame, dst


def copy_color_tags(src: av.VideoFrame, dst: av.VideoFrame) -> None:
    for attr in ("color_range", "colorspace", "color_primaries", "color_trc"):
        with contextlib.suppress(AttributeError, TypeError, ValueError):
            setattr(dst, attr, getattr(src, attr))


def full_range(frame: av.VideoFrame) -> bool:
    return frame.format.name.startswith("yuvj") or int(frame.color_range or 0) == 2


def to_yuv420p(frame: av.VideoFrame) -> av.VideoFrame:
    """The frame as limited-range yuv420p (8-bit); unchanged when it already is."""
    if frame.format.name == "yuv420p" and not full_range(frame):
        return frame
    out = frame.reformat(format="yuv420p", src_color_range=2 if full_range(frame) else None,
                         dst_color_range=1)
    out.pts, out.time_base = frame.pts, frame.time_base
    return out


@dataclass
class DecodedFrame:
    t: float  # seconds since the first frame of the video
    frame: av.VideoFrame  # yuv420p (see FrameReader.normalize)

    def planes(self, rotation: int = 0) -> Yuv420:
        return plane_views(self.frame).rotated(rotation)


class FrameReader:
    """Frames of the first video stream in presentation order, from `start` to `end` seconds.

    Times are relative to the first frame (the editor's time 0). Seeks once when `start` is
    far from the beginning. Raises MediaError when the stream is damaged or ends well before
    its announced duration (a truncated upload).
    """

    def __init__(
        self,
        path: str | Path,
        info: MediaInfo,
        start: float = 0.0,
        end: float | None = None,
        normalize: bool = True,
        threads: bool = True,
    ):
        self.path, self.info = str(path), info
        self.start, self.end = max(0.0, start), end
        self.normalize, self.threads = normalize, threads

    def __iter__(self) -> Iterator[DecodedFrame]:
        info = self.info
        last_t = None
        with open_input(self.path) as container:
            stream = video_stream(container)
            if self.threads:
                stream.thread_type = "AUTO"
            tb = stream.time_base
            if self.start > 2.0:
                target = int((self.start + info.start_time - 1.0) / tb)
                container.seek(max(target, 0), stream=stream, backward=True)
            try:
                for frame in container.decode(stream):
                    if frame.pts is None:
                        continue
                    t = float(frame.pts * tb) - info.start_time
                    if self.end is not None and t >= self.end:
                        return
                    if t < self.start - 1e-6:
                        continue
                    last_t = t
                    yield DecodedFrame(t, to_yuv420p(frame) if self.normalize else frame)
            except av.FFmpegError as err:
                raise media_error(TRUNCATED, str(err)) from None
        stop = info.duration if self.end is None else min(self.end, info.duration)
        slack = max(0.5, 3 * info.frame_duration)
        if (last_t is None and stop > self.start + slack) or (
            last_t is not None and last_t < stop - slack
        ):
            raise media_error(TRUNCATED)



def sample_frames(frames: Iterator[DecodedFrame], times: Iterator[float], fps: float
                  ) -> Iterator[DecodedFrame]:
    """For each time (non-decreasing), the frame shown then: the last one at or before it.

    Repeats frames when times come faster than frames (slow motion, a higher output rate) and
    skips them when slower. A frame counts as shown from a quarter frame early (timestamp
    jitter). Raises StopIteration-free: yields nothing when `frames` is empty.
    """
    tolerance = 0.25 / fps
    current = next(frames, None)
    if current is None:
        return
    upcoming = next(frames, None)
    for t in times:
        while upcoming is not None and upcoming.t <= t + tolerance:
            current, upcoming = upcoming, next(frames, None)
        yield current
