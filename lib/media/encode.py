"""Streaming H.264 encoder: libx264 CRF 23 preset fast, yuv420p, bt709 tags, 2 s GOPs.

Every video we produce goes through `configure_x264`, so a later job (the smart overlay) can
open an encoder whose SPS/PPS equal those of a video we made and splice its output into it.
Frames are encoded in a worker thread so decoding/processing overlaps with encoding.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

X264_PRESET = "fast"
X264_CRF = 23
GOP_SECONDS = 2.0
BT709 = 1
RANGE_TV, RANGE_PC = 1, 2


def gop_size(rate: Fraction) -> int:
    return max(1, round(GOP_SECONDS * float(rate)))


def configure_x264(
    cc: Any,
    width: int,
    height: int,
    rate: Fraction,
    time_base: Fraction | None = None,
    pc_range: bool = False,
) -> None:
    """The one set of encoder settings for every H.264 video the jobs write."""
    cc.width, cc.height = width, height
    cc.pix_fmt = "yuv420p"
    cc.framerate = rate
    cc.time_base = time_base or 1 / Fraction(rate)
    cc.sample_aspect_ratio = Fraction(1, 1)
    cc.gop_size = gop_size(rate)
    cc.color_primaries = cc.color_trc = cc.colorspace = BT709
    cc.color_range = RANGE_PC if pc_range else RANGE_TV
    cc.thread_type = "FRAME"
    cc.options = {"preset": X264_PRESET, "crf": str(X264_CRF)}


BT709_TAGS_FILTER = "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"


def x264_cli_args(rate: Fraction | float, vf: str | None = None) -> list[str]:
    """The same settings for an ffmpeg command line (test media, benchmarks), `vf` included:
    the bt709 tags are set by a filter because ffmpeg's output options no longer reach x264's
    VUI for filtered input."""
    rate = Fraction(rate).limit_denominator(1001)
    chain = f"{vf},{BT709_TAGS_FILTER}" if vf else BT709_TAGS_FILTER
    return [
        "-vf", chain, "-c:v", "libx264", "-preset", X264_PRESET, "-crf", str(X264_CRF),
        "-pix_fmt", "yuv420p", "-g", str(gop_size(rate)),
    ]


def standalone_x264(
    width: int, height: int, rate: Fraction, time_base: Fraction | None = None,
    pc_range: bool = False,
) -> Any:
    """An opened libx264 context outside any container (its extradata = SPS/PPS)."""
    cc = av.CodecContext.create("libx264", "w")
    configure_x264(cc, width, height, rate, time_base, pc_range)
    cc.flags |= av.codec.context.Flags.global_header
    cc.open()
    return cc


_STOP = object()


class VideoEncoder:
    """Encodes yuv420p frames into a video-only MP4 at a constant frame rate.

    `write(frame)` stamps the frame with the next index (pts = n / rate) and hands it to a
    worker thread (bounded queue), so the caller prepares the next frame while x264 works.
    """

    def __init__(self, path: str | Path, width: int, height: int, rate: Fraction,
                 queue_size: int = 4):
        self.path = str(path)
        self.rate = Fraction(rate)
        self.container = av.open(self.path, "w", format="mp4")
        self.stream = self.container.add_stream("libx264", rate=self.rate)
        configure_x264(self.stream.codec_context, width, height, self.rate)
        self.time_base = self.stream.codec_context.time_base
        self.frames = 0
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="x264", daemon=True)
        self._thread.start()
        self._closed = False

    def _work(self) -> None:
        try:
            while True:
                frame = self._queue.get()
                if frame is _STOP:
                    break
                for packet in self.stream.encode(frame):
                    self.container.mux(packet)
            for packet in self.stream.encode(None):
                self.container.mux(packet)
        except BaseException as err:  # re-raised in the caller's thread
            self._error = err
            while self._queue.get() is not _STOP:  # unblock the producer
                pass

    def write(self, frame: av.VideoFrame) -> None:
        if self._error is not None:
            raise self._error
        frame.pts = self.frames
        frame.time_base = self.time_base
        frame.pict_type = av.video.frame.PictureType.NONE
        self._queue.put(frame)
        self.frames += 1

    @property
    def duration(self) -> float:
        return float(self.frames / self.rate)

    def close(self) -> None:
        """Flush and finish the file; raises what the encoder thread hit."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join()
        self.container.close()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join()
        with contextlib.suppress(av.FFmpegError):
            self.container.close()

    def __enter__(self) -> VideoEncoder:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
