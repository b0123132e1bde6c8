"""Job body: the before/after comparison video (#40). Plain Python: no Modal, no DB, no HTTP.

`run(spec, store, progress) -> JobResult`. For each track (in clip order) the source range
[start_frame, end_frame] of `source_key` (editor ticks of 1/30 s, as the overlay export
records them: lib.jobs.export_specs.before_after_tracks) plays in the top
half of a 1080×1920 frame under a "Before" title, and the matching part of the final video in
the bottom half under "After". The final video is shared between the tracks in proportion to
their source lengths (exact for cut joins at 1× speed: the final video is the clips one after
another). The shorter half holds its last frame until the longer one ends. 30 fps, H.264
with the media engine's encoder settings, no audio.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from functions.jobkit import publish, run_job
from lib.errors import DomainError
from lib.jobs.progress import Progress, ProgressSink
from lib.jobs.specs import JobResult
from lib.media import MediaInfo, local_input, probe, run_ffmpeg, x264_cli_args
from lib.storage import ObjectStore
from lib.timeline.keyframes import EDITOR_FPS

FPS = 30
ASSETS = Path(__file__).resolve().parent / "assets"
TITLE_FONT = "DejaVuSans-Bold.ttf"
TITLE_SIZE = 64


class Track(BaseModel):
    model_config = ConfigDict(extra="ignore")
    source_key: str
    start_frame: int = Field(ge=0)
    end_frame: int
    clip_index: int = 0

    @model_validator(mode="after")
    def check_order(self) -> Track:
        if self.end_frame <= self.start_frame:
            raise ValueError("end_frame must be after start_frame")
        return self


class BeforeAfterSpec(BaseModel):
    model_config = ConfigDict(extra="ignore")
    final_key: str
    output_key: str
    tracks: list[Track] = Field(min_length=1)
    width: int = Field(1080, ge=16, le=4096)
    height: int = Field(1920, ge=16, le=4096)


def title_font() -> Path:
    """The media engine's bundled bold font (no system fonts assumed)."""
    font = ASSETS / TITLE_FONT
    if not font.is_file():
        raise DomainError("The bundled title font is missing from functions/assets.")
    return font


def _escape(path: Path) -> str:
    """A path as a filter-graph option value."""
    return str(path).replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'")


def _half(label_in: str, start: float, end: float, pad: float, title: str, width: int,
          height: int, font: Path, label_out: str) -> str:
    """One half: cut [start, end], 30 fps, fit into width×height, hold, title."""
    return (
        f"[{label_in}]trim=start={start:.6f}:end={end:.6f},setpts=PTS-STARTPTS,fps={FPS},"
        f"scale={width}:{height}:force_original_aspect_ratio=decrease:flags=lanczos,"
        f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=yuv420p,"
        f"tpad=stop_mode=clone:stop_duration={pad:.6f},"
        f"drawtext=fontfile='{_escape(font)}':text={title}:fontcolor=white:"
        f"fontsize={TITLE_SIZE}:box=1:boxcolor=black@0.55:boxborderw=18:"
        f"x=(w-text_w)/2:y=36[{label_out}]"
    )


def plan_parts(tracks: list[Track], sources: dict[str, MediaInfo],
               final: MediaInfo) -> list[dict[str, float]]:
    """Per track: the source range (seconds) and its share of the final video."""
    ranges = []
    for track in tracks:
        info = sources[track.source_key]
        start = min(track.start_frame / EDITOR_FPS, info.duration)
        end = min(track.end_frame / EDITOR_FPS, info.duration)
        if end - start < 1 / FPS:
            raise DomainError(f"Clip {track.clip_index + 1}'s source range is empty.")
        ranges.append((start, end))
    total = sum(end - start for start, end in ranges)
    parts, offset = [], 0.0
    for start, end in ranges:
        share = final.duration * (end - start) / total
        parts.append({"before_start": start, "before_end": end,
                      "after_start": offset, "after_end": offset + share})
        offset += share
    return parts


def filter_graph(parts: list[dict[str, float]], source_inputs: list[int], width: int,
                 height: int, font: Path) -> str:
    half = height // 2
    n = len(parts)
    chains = []  # an input stream may feed several chains: ffmpeg decodes it for each
    for i, (part, src) in enumerate(zip(parts, source_inputs, strict=True)):
        before = part["before_end"] - part["before_start"]
        after = part["after_end"] - part["after_start"]
        length = max(before, after)
        chains.append(_half(f"{src}:v", part["before_start"], part["before_end"],
                            length - before, "Before", width, half, font, f"b{i}"))
        chains.append(_half("0:v", part["after_start"],
                            part["after_end"], length - after, "After", width, half, font,
                            f"a{i}"))
        chains.append(f"[b{i}][a{i}]vstack=inputs=2,trim=duration={length:.6f},"
                      f"setpts=PTS-STARTPTS[s{i}]")
    chains.append("".join(f"[s{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=0[joined]")
    return ";".join(chains)


def encoder_args() -> tuple[list[str], str]:
    """The media engine's x264 settings, with its `-vf` tail (the bt709 tags) returned
    separately: a -filter_complex output cannot also take -vf."""
    args = x264_cli_args(FPS)
    i = args.index("-vf")
    tail = args[i + 1]
    return args[:i] + args[i + 2:], tail


def render(spec: BeforeAfterSpec, workdir: Path, store: ObjectStore,
           progress: Progress) -> JobResult:
    progress(2, "download", "Fetching the videos")
    final_path = local_input(store, spec.final_key, workdir)
    final = probe(final_path)
    keys = list(dict.fromkeys(t.source_key for t in spec.tracks))
    paths: dict[str, Path] = {}
    infos: dict[str, MediaInfo] = {}
    for i, key in enumerate(keys):
        paths[key] = local_input(store, key, workdir)
        infos[key] = probe(paths[key])
        progress(5 + 25 * (i + 1) / len(keys), "download", "Fetching the source clips")
    tracks = sorted(spec.tracks, key=lambda t: t.clip_index)
    parts = plan_parts(tracks, infos, final)
    progress(35, "processing", "Rendering the comparison")
    inputs: list[str | Path] = ["-i", final_path]
    for key in keys:
        inputs += ["-i", paths[key]]
    source_inputs = [1 + keys.index(t.source_key) for t in tracks]
    graph = filter_graph(parts, source_inputs, spec.width, spec.height, title_font())
    x264, tags = encoder_args()
    out_path = workdir / "before_after.mp4"
    run_ffmpeg([*inputs, "-filter_complex", f"{graph};[joined]{tags}[out]", "-map", "[out]",
                "-an", *x264, "-r", str(FPS), "-movflags", "+faststart", out_path],
               "Rendering the before/after video")
    return publish(JobResult, store, spec.output_key, out_path, progress, method="render")


def run(spec: BeforeAfterSpec | dict, store: ObjectStore,
        progress: ProgressSink | None = None) -> JobResult:
    """The job: a complete result (output_key, duration, size) or an error result."""
    return run_job(JobResult, BeforeAfterSpec, spec, progress,
                   lambda parsed, workdir, reporter: render(parsed, workdir, store, reporter))
