"""Clip extraction: cut [start, end] of a game video into a raw clip (spec/media.md §7).

When a keyframe sits at `start` (within half a frame) the packets are stream-copied from it;
otherwise the clip is re-encoded so it starts exactly on the requested frame. Both +faststart.
"""

from __future__ import annotations

import contextlib
from fractions import Fraction
from pathlib import Path

import av

from functions.jobkit import publish, run_job
from lib.jobs.progress import Progress, ProgressSink
from lib.jobs.specs import ExtractResult, ExtractSpec
from lib.media import (
    AudioJob,
    AudioPiece,
    FrameReader,
    MediaInfo,
    VideoEncoder,
    copy_frame,
    local_input,
    media_error,
    mux,
    new_frame,
    open_input,
    probe,
)
from lib.media.frames import sample_frames
from lib.media.probe import video_stream
from lib.storage.base import ObjectStore
from lib.timeline.segments import Segment


def run(spec: ExtractSpec | dict, store: ObjectStore, progress: ProgressSink) -> ExtractResult:
    """Cut `spec.start`..`spec.end` (seconds) of `spec.input_key` into `spec.output_key`."""
    return run_job(ExtractResult, ExtractSpec, spec, progress,
                   lambda s, work, p: _extract(s, store, work, p))


def _extract(spec: ExtractSpec, store: ObjectStore, work: Path, progress: Progress
             ) -> ExtractResult:
    progress(1, "download", "Fetching the game video")
    src = local_input(store, spec.input_key, work)
    info = probe(src)
    start, end = spec.start, min(spec.end, info.duration)
    if start >= info.duration:
        raise media_error("The clip starts after the end of the video.")
    if end - start < info.frame_duration:
        raise media_error("The clip is shorter than one frame.")
    out = work / "clip.mp4"
    progress(5, "processing", "Cutting the clip")
    keyframe = _keyframe_at_or_before(src, info, start)
    method = None
    if keyframe is not None and abs(keyframe - start) <= 0.5 * info.frame_duration:
        try:
            _copy(src, out, info, keyframe, end)
            method = "copy"
        except av.FFmpegError:
            out.unlink(missing_ok=True)  # e.g. a codec MP4 cannot hold: re-encode instead
    if method is None:
        _reencode(src, out, info, start, end, work, progress.span(5, 95, "processing"))
        method = "reencode"
    return publish(ExtractResult, store, spec.output_key, out, progress, method=method)


def _keyframe_at_or_before(src: Path, info: MediaInfo, t: float) -> float | None:
    """Time of the last keyframe at or before t (one seek, a few packets read)."""
    with open_input(src) as container:
        stream = video_stream(container)
        tb = stream.time_base
        target = int((t + info.start_time + 0.5 * info.frame_duration) / tb)
        with contextlib.suppress(av.FFmpegError):
            container.seek(max(0, target), stream=stream, backward=True, any_frame=False)
        for packet in container.demux(stream):
            if packet.pts is not None and packet.is_keyframe:
                return float(packet.pts * tb) - info.start_time
            if packet.pts is not None:
                return None
    return None


def _copy(src: Path, out_path: Path, info: MediaInfo, keyframe: float, end: float) -> None:
    """Stream copy from the keyframe; packets in decode order up to the last frame before
    `end` (frames it references are kept, so every copied frame decodes)."""
    with open_input(src) as container:
        stream = video_stream(container)
        audio = container.streams.audio[0] if info.has_audio else None
        tb = stream.time_base
        origin = keyframe + info.start_time  # seconds in the file's own timeline
        container.seek(int(origin / tb), stream=stream, backward=True)
        video_packets: list[av.Packet] = []
        audio_packets: list[av.Packet] = []
        started = False
        for packet in container.demux(*(s for s in (stream, audio) if s is not None)):
            if packet.pts is None or packet.size == 0:
                continue
            t = float(packet.pts * packet.time_base) - origin
            if packet.stream is stream:
                if not started:
                    started = packet.is_keyframe and t > -0.5 * info.frame_duration
                    if not started:
                        continue
                if packet.is_keyframe and t >= end - keyframe:
                    break
                video_packets.append(packet)
            elif started and -0.001 <= t < end - keyframe:
                audio_packets.append(packet)
        last = max((i for i, p in enumerate(video_packets)
                    if float(p.pts * tb) - origin < end - keyframe), default=-1)
        if last < 0:
            raise media_error("The clip contains no frames.")
        out = av.open(str(out_path), "w", format="mp4", options={"movflags": "+faststart"})
        try:
            ostream = out.add_stream_from_template(stream)
            oaudio = out.add_stream_from_template(audio) if audio_packets else None
            packets = [(p, ostream) for p in video_packets[: last + 1]]
            packets += [(p, oaudio) for p in audio_packets]
            for packet, target in packets:
                shift = round(origin / packet.time_base)
                packet.pts -= shift
                if packet.dts is not None:
                    packet.dts -= shift
                packet.stream = target
                out.mux(packet)
        finally:
            out.close()


def _reencode(src: Path, out: Path, info: MediaInfo, start: float, end: float, work: Path,
              report) -> None:
    """Frame-accurate: frames sampled on the source's frame grid from `start`."""
    rate = info.frame_rate
    count = max(1, round((end - start) * rate))
    times = [start + float(Fraction(n) / rate) for n in range(count)]
    audio = None
    if info.has_audio:
        piece = AudioPiece(str(src), info.clip_offset, (Segment(start, end, 1.0),),
                           float(count / rate))
        audio = AudioJob([piece], work / "audio.m4a")
    video = work / "video.mp4"
    width, height = info.display_width, info.display_height
    try:
        with VideoEncoder(video, width, height, rate) as encoder:
            reader = FrameReader(src, info, start=start, end=end + 2 * info.frame_duration)
            for i, shown in enumerate(sample_frames(iter(reader), iter(times), info.fps)):
                if info.rotation:
                    frame, dst = new_frame(width, height)
                    for d, s in zip(dst.planes(), shown.planes(info.rotation).planes(),
                                    strict=True):
                        d[...] = s
                else:
                    frame, _ = copy_frame(shown.frame)
                encoder.write(frame)
                if i % 15 == 0:
                    report(i / count, "Cutting the clip")
            if encoder.frames == 0:
                raise media_error("The clip contains no frames.")
        audio_path = audio.wait() if audio is not None else None
    except BaseException:
        if audio is not None:
            audio.cancel()
        raise
    mux(video, out, audio=audio_path, workdir=work)
