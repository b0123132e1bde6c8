"""The cheap probe of an uploaded video: the container opens, it has a video stream, its first
frames decode and its duration is plausible. Reads only what ffmpeg needs (headers and the
first frames), from a local file or a presigned URL (HTTP Range), never the whole object.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import av

from lib.action_fields import MAX_SECONDS
from lib.media.probe import NOT_A_VIDEO, TRUNCATED, _index_truncated, video_stream
from lib.media.tools import media_error

MIN_SECONDS = 0.1
FIRST_FRAMES = 3
NETWORK_TIMEOUT_US = "15000000"  # ffmpeg's rw_timeout: a stalled storage read fails in 15 s


@dataclass(frozen=True)
class UploadFacts:
    duration: float
    width: int
    height: int


def _duration(container, stream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return (container.duration or 0) / av.time_base


def verify_video(source: str, size: int) -> UploadFacts:
    """Facts of a playable video at `source` (a path or URL of `size` bytes); MediaError with
    one plain sentence otherwise."""
    if size <= 0:
        raise media_error("The uploaded file is empty.")
    options = {} if os.path.exists(source) else {"rw_timeout": NETWORK_TIMEOUT_US}
    try:
        container = av.open(source, metadata_errors="ignore", options=options)
    except (av.FFmpegError, UnicodeDecodeError, OSError) as err:
        raise media_error(NOT_A_VIDEO, str(err)) from None
    with container:
        stream = video_stream(container)
        if _index_truncated(stream, size):
            raise media_error(TRUNCATED)
        decoded = 0
        try:
            for _ in container.decode(stream):
                decoded += 1
                if decoded >= FIRST_FRAMES:
                    break
        except av.FFmpegError as err:
            raise media_error("The video could not be decoded; it may be corrupt.",
                              str(err)) from None
        if decoded == 0:
            raise media_error("The video contains no frames.")
        duration = _duration(container, stream)
        if not MIN_SECONDS <= duration <= MAX_SECONDS:
            raise media_error(f"The video's duration ({duration:.1f} s) is not plausible.")
        cc = stream.codec_context
        return UploadFacts(duration=duration, width=cc.width, height=cc.height)
