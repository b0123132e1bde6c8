"""Smart rendering: re-encode only the GOPs that need new pixels, stream-copy the rest.

One pass over the source: packets of untouched GOPs (and all audio) are copied; the packets of
GOPs to re-encode are decoded, each frame goes through `process`, and a fresh libx264 encoder
per contiguous range writes them back. Joins are seamless because (1) every GOP starts with an
IDR picture (closed GOPs), (2) the encoder's SPS/PPS equal the source's byte for byte, so one
`avcC` describes the whole stream, and (3) re-encoded frames keep their timestamps, so audio
stays in sync. When any of this does not hold, `NotCuttable` says why and the caller
re-encodes everything instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from lib.media.encode import standalone_x264
from lib.media.h264 import annexb_to_avcc, avcc_length_size, parameter_sets, starts_with_idr
from lib.media.probe import MediaInfo, open_input, video_stream


class NotCuttable(Exception):
    """The source cannot be spliced cleanly; the message says why (one sentence)."""


@dataclass(frozen=True)
class Gop:
    index: int
    start: float  # first and last frame times (seconds since the first frame)
    end: float
    packets: int
    idr: bool


def scan_gops(path: str | Path, info: MediaInfo) -> list[Gop]:
    """The GOPs of the video stream in decode order, from packet headers (no decoding)."""
    gops: list[Gop] = []
    with open_input(path) as container:
        stream = video_stream(container)
        tb = stream.time_base
        length_size = avcc_length_size(stream.codec_context.extradata)
        cur: dict[str, Any] | None = None
        for packet in container.demux(stream):
            if packet.size == 0 or packet.pts is None:
                continue
            t = float(packet.pts * tb) - info.start_time
            if packet.is_keyframe or cur is None:
                if cur is not None:
                    gops.append(Gop(len(gops), cur["start"], cur["end"], cur["n"], cur["idr"]))
                idr = packet.is_keyframe and starts_with_idr(bytes(packet), length_size)
                cur = {"start": t, "end": t, "n": 0, "idr": idr}
            cur["start"], cur["end"] = min(cur["start"], t), max(cur["end"], t)
            cur["n"] += 1
        if cur is not None:
            gops.append(Gop(len(gops), cur["start"], cur["end"], cur["n"], cur["idr"]))
    return gops


def gops_to_reencode(gops: Iterable[Gop], spans: Iterable[tuple[float, float]]) -> set[int]:
    spans = list(spans)
    return {g.index for g in gops if any(s <= g.end and e >= g.start for s, e in spans)}


def check_cuttable(info: MediaInfo, gops: list[Gop], reencode: set[int]) -> None:
    if info.video_codec != "h264":
        raise NotCuttable(f"the video is {info.video_codec}, not H.264")
    if info.pix_fmt != "yuv420p":
        raise NotCuttable(f"the video's pixel format is {info.pix_fmt}")
    if info.rotation:
        raise NotCuttable("the video carries a rotation")
    for g in gops:
        if g.index in reencode or g.index == 0:
            continue
        if g.index - 1 in reencode and not g.idr:
            raise NotCuttable("the video has open GOPs (keyframes that are not IDR pictures)")


def matching_encoder(stream: Any, info: MediaInfo) -> tuple[Fraction, bool]:
    """(encoder time base, pc range) with which our x264 writes the source's exact SPS/PPS."""
    cc = stream.codec_context
    wanted = parameter_sets(cc.extradata)
    if not wanted[0]:
        raise NotCuttable("the video has no global H.264 parameter sets")
    pc_range = int(cc.color_range or 0) == 2
    candidates = [1 / info.frame_rate, Fraction(stream.time_base)]
    for tb in dict.fromkeys(candidates):
        enc = standalone_x264(info.width, info.height, info.frame_rate, tb, pc_range)
        if parameter_sets(enc.extradata) == wanted:
            return tb, pc_range
    raise NotCuttable("the video was encoded with settings our encoder cannot reproduce")


ProcessFrame = Callable[[av.VideoFrame, float], av.VideoFrame]


class _Range:
    """One contiguous run of re-encoded GOPs: its own encoder, packets spliced into `ostream`."""

    def __init__(self, info: MediaInfo, tb: Fraction, pc_range: bool, src_tb: Fraction,
                 out: Any, ostream: Any, length_size: int, last_dts: list[float]):
        self.enc = standalone_x264(info.width, info.height, info.frame_rate, tb, pc_range)
        self.tb, self.src_tb = tb, src_tb
        self.out, self.ostream, self.length_size = out, ostream, length_size
        self.last_dts = last_dts  # shared with the copy path: [seconds]
        self.last_pts: int | None = None
        self.frames = 0

    def encode(self, frame: av.VideoFrame | None) -> None:
        if frame is not None:
            exact = frame.pts * self.src_tb / self.tb
            pts = round(exact)
            if abs(exact - pts) > 1e-3 or (self.last_pts is not None and pts <= self.last_pts):
                raise NotCuttable("the video's timestamps do not fall on its frame grid")
            self.last_pts = pts
            frame.pts, frame.time_base = pts, self.tb
            frame.pict_type = av.video.frame.PictureType.NONE
            self.frames += 1
        for packet in self.enc.encode(frame):
            data = annexb_to_avcc(bytes(packet), self.length_size)
            out = av.Packet(data)
            out.pts, out.dts, out.time_base = packet.pts, packet.dts, self.tb
            out.is_keyframe = packet.is_keyframe
            out.stream = self.ostream
            dts = float(packet.dts * self.tb)
            if dts <= self.last_dts[0]:
                raise NotCuttable("the re-encoded frames would overlap the copied ones")
            self.last_dts[0] = dts
            self.out.mux(out)


def splice(
    src: str | Path,
    out_path: str | Path,
    info: MediaInfo,
    reencode: set[int],
    process: ProcessFrame,
    on_progress: Callable[[float], None] = lambda f: None,
) -> int:
    """Write `out_path` (+faststart, chapters kept); returns how many frames were re-encoded."""
    with open_input(src) as container:
        stream = video_stream(container)
        stream.thread_type = "AUTO"
        tb_enc, pc_range = matching_encoder(stream, info)
        src_tb = Fraction(stream.time_base)
        length_size = avcc_length_size(stream.codec_context.extradata)
        audio = [a for a in container.streams.audio if a.codec_context is not None]
        total = info.frame_count or max(1, round(info.duration * info.fps))
        out = av.open(str(out_path), "w", format="mp4", options={"movflags": "+faststart"})
        try:
            ostream = out.add_stream_from_template(stream)
            oaudio = {a.index: out.add_stream_from_template(a) for a in audio}
            out.set_chapters(container.chapters())
            decoder = stream.codec_context
            last_dts = [-1e18]
            current: _Range | None = None
            gop, seen, reencoded = -1, 0, 0

            def drain() -> None:
                nonlocal current, reencoded
                if current is None:
                    return
                for frame in decoder.decode(None):
                    current.encode(process(frame, float(frame.pts * src_tb) - info.start_time))
                current.encode(None)
                reencoded += current.frames
                decoder.flush_buffers()
                current = None

            for packet in container.demux(stream, *audio):
                if packet.size == 0:
                    continue
                if packet.stream.index in oaudio:
                    packet.stream = oaudio[packet.stream.index]
                    out.mux(packet)
                    continue
                if packet.pts is None:
                    continue
                if packet.is_keyframe or gop < 0:
                    gop += 1
                seen += 1
                if seen % 30 == 0:
                    on_progress(seen / total)
                if gop in reencode:
                    if current is None:
                        current = _Range(info, tb_enc, pc_range, src_tb, out, ostream,
                                         length_size, last_dts)
                    for frame in decoder.decode(packet):
                        t = float(frame.pts * src_tb) - info.start_time
                        current.encode(process(frame, t))
                    continue
                drain()
                packet.stream = ostream
                if packet.dts is not None:
                    dts = float(packet.dts * src_tb)
                    if dts <= last_dts[0]:
                        raise NotCuttable("the copied frames would overlap the re-encoded ones")
                    last_dts[0] = dts
                out.mux(packet)
            drain()
        except BaseException:
            with contextlib.suppress(Exception):
                out.close()
            Path(out_path).unlink(missing_ok=True)
            raise
        out.close()
    return reencoded
