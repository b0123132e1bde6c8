"""Joining clips in the frame domain: cut, fade (through black) and dissolve (cross-fade).

fade and dissolve overlap consecutive clips by `overlap` frames (xfade's `fadeblack` and
`fade`): the output is shorter by `overlap` frames per join, and the audio cross-fades over
the same span. Everything happens inside the one encode, so no clip is encoded twice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

import av
import cv2

from lib.media import new_frame, plane_views

BLACK_TV = (16.0, 128.0, 128.0)


def _mix(a: av.VideoFrame, wa: float, b: av.VideoFrame | None = None, wb: float = 0.0
         ) -> av.VideoFrame:
    """wa * a + wb * b + (1 - wa - wb) * black, per plane."""
    out, dst = new_frame(a.width, a.height)
    pa = plane_views(a).planes()
    pb = pa if b is None else plane_views(b).planes()
    for sa, sb, d, black in zip(pa, pb, dst.planes(), BLACK_TV, strict=True):
        cv2.addWeighted(sa, wa, sb, wb, black * (1.0 - wa - wb), dst=d)
    return out


def blend(a: av.VideoFrame, b: av.VideoFrame, p: float, kind: str) -> av.VideoFrame:
    """The transition frame at progress p in (0, 1) from clip a's tail to clip b's head."""
    if kind == "dissolve":
        return _mix(a, 1.0 - p, b, p)
    return _mix(a, 1.0 - 2.0 * p) if p <= 0.5 else _mix(b, 2.0 * p - 1.0)


def join(clips: Iterable[Iterable[av.VideoFrame]], kind: str, overlap: int
         ) -> Iterator[av.VideoFrame]:
    """The clips' frames in order; with fade/dissolve the last `overlap` frames of each clip
    blend with the first `overlap` frames of the next. Holds at most `overlap` frames."""
    clips = list(clips)
    if kind == "cut" or overlap <= 0 or len(clips) < 2:
        for frames in clips:
            yield from frames
        return
    tail: list[av.VideoFrame] = []
    for i, frames in enumerate(clips):
        it = iter(frames)
        for k, a in enumerate(tail):
            b = next(it, None)
            if b is None:
                raise ValueError("a clip is shorter than its transition")
            yield blend(a, b, (k + 1) / (len(tail) + 1), kind)
        if i == len(clips) - 1:
            yield from it
            return
        held: deque[av.VideoFrame] = deque()
        for frame in it:
            held.append(frame)
            if len(held) > overlap:
                yield held.popleft()
        tail = list(held)
