"""Audio for rendered videos: trim + speed (chained atempo) per clip, joined, AAC 192 kb/s.

One ffmpeg process builds the whole soundtrack while the video renders. Each clip's audio is cut
to exactly its video length (pad or trim), so clips never drift against their frames.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lib.media.tools import start_ffmpeg, wait_ffmpeg
from lib.timeline.segments import Segment

SAMPLE_RATE = 48000
AAC_BITRATE = "192k"
_FORMAT = f"aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"


def atempo_chain(speed: float) -> list[str]:
    """atempo filters whose product is `speed`, each factor within [0.5, 2] (pitch kept)."""
    if speed <= 0:
        raise ValueError("speed must be positive")
    steps: list[str] = []
    while speed > 2.0 + 1e-9:
        steps.append("atempo=2")
        speed /= 2.0
    while speed < 0.5 - 1e-9:
        steps.append("atempo=0.5")
        speed /= 0.5
    if abs(speed - 1.0) > 1e-9:
        steps.append(f"atempo={speed:.9g}")
    return steps


@dataclass(frozen=True)
class AudioPiece:
    """One clip's audio: `segments` in clip seconds (speed per segment), played from `path`.

    `offset` maps clip time to the file's timeline as ffmpeg sees it (first video frame minus
    the container start). `duration` is the exact length to produce (the clip's video length).
    `path` None (or a source without audio) gives silence.
    """

    path: str | None
    offset: float
    segments: tuple[Segment, ...]
    duration: float


def _piece_graph(index: int, input_index: int | None, piece: AudioPiece, t0: float) -> str:
    """Each segment is trimmed, re-timed and then cut/padded to exactly its output length, so
    atempo's edge effects never accumulate into A/V drift; the piece to the clip's length."""
    label = f"p{index}"
    fit = f"apad=whole_dur={piece.duration:.6f},atrim=end={piece.duration:.6f}[{label}]"
    if input_index is None:
        return (f"anullsrc=r={SAMPLE_RATE}:cl=stereo,atrim=end={piece.duration:.6f},"
                f"{_FORMAT},{fit}")
    n = len(piece.segments)
    parts = []
    if n > 1:
        parts.append(f"[{input_index}:a]asplit={n}" + "".join(f"[s{index}_{k}]" for k in range(n)))
    names = []
    for k, seg in enumerate(piece.segments):
        src = f"[s{index}_{k}]" if n > 1 else f"[{input_index}:a]"
        a, b = seg.start + piece.offset - t0, seg.end + piece.offset - t0
        length = seg.output_duration
        chain = [
            f"atrim=start={a:.6f}:end={b:.6f}",
            "asetpts=PTS-STARTPTS",
            *atempo_chain(seg.speed),
            _FORMAT,
            f"apad=whole_dur={length:.6f}",
            f"atrim=end={length:.6f}",
        ]
        parts.append(src + ",".join(chain) + f"[a{index}_{k}]")
        names.append(f"[a{index}_{k}]")
    if n > 1:
        parts.append("".join(names) + f"concat=n={n}:v=0:a=1," + fit)
    else:
        parts[-1] = parts[-1][: -len(names[0])] + "," + fit
    return ";".join(parts)


def audio_command(pieces: Sequence[AudioPiece], out_path: str | Path,
                  crossfade: float = 0.0) -> list[str]:
    """ffmpeg arguments that write the joined soundtrack to `out_path` (AAC in MP4)."""
    args: list[str] = []
    graphs: list[str] = []
    n_inputs = 0
    for i, piece in enumerate(pieces):
        if piece.path is None:
            graphs.append(_piece_graph(i, None, piece, 0.0))
            continue
        # Input seeking keeps long sources cheap: decode only this piece's span.
        t0 = max(0.0, min(s.start for s in piece.segments) + piece.offset - 1.0)
        t1 = max(s.end for s in piece.segments) + piece.offset + 1.0
        args += ["-ss", f"{t0:.6f}", "-t", f"{t1 - t0:.6f}", "-i", piece.path]
        graphs.append(_piece_graph(i, n_inputs, piece, t0))
        n_inputs += 1
    labels = [f"[p{i}]" for i in range(len(pieces))]
    if len(pieces) == 1:
        out_label = labels[0]
    elif crossfade > 0:
        prev = labels[0]
        for i, label in enumerate(labels[1:], start=1):
            nxt = f"[x{i}]"
            graphs.append(f"{prev}{label}acrossfade=d={crossfade:.6f}:c1=tri:c2=tri{nxt}")
            prev = nxt
        out_label = prev
    else:
        graphs.append("".join(labels) + f"concat=n={len(pieces)}:v=0:a=1[joined]")
        out_label = "[joined]"
    return [
        *args, "-filter_complex", ";".join(graphs), "-map", out_label,
        "-c:a", "aac", "-b:a", AAC_BITRATE, "-ar", str(SAMPLE_RATE), "-f", "mp4", str(out_path),
    ]


class AudioJob:
    """The soundtrack rendered by a background ffmpeg; `wait()` raises MediaError on failure."""

    def __init__(self, pieces: Sequence[AudioPiece], out_path: str | Path,
                 crossfade: float = 0.0):
        self.out_path = Path(out_path)
        self.proc: subprocess.Popen[str] = start_ffmpeg(
            audio_command(pieces, out_path, crossfade)
        )

    def wait(self) -> Path:
        wait_ffmpeg(self.proc, "Rendering the audio")
        return self.out_path

    def cancel(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
