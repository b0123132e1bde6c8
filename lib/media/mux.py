"""Final assembly: video + audio + chapters into one MP4 with +faststart (stream copy only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lib.media.tools import run_ffmpeg


@dataclass(frozen=True)
class Chapter:
    start: float
    end: float
    title: str


def _escape(value: str) -> str:
    for ch in ("\\", "=", ";", "#", "\n"):
        value = value.replace(ch, "\\" + ch)
    return value


def write_chapters(chapters: Sequence[Chapter], path: Path) -> Path:
    lines = [";FFMETADATA1"]
    for ch in chapters:
        lines += [
            "[CHAPTER]", "TIMEBASE=1/1000",
            f"START={round(ch.start * 1000)}", f"END={round(ch.end * 1000)}",
            f"title={_escape(ch.title)}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def mux(
    video: str | Path,
    out_path: str | Path,
    audio: str | Path | None = None,
    chapters: Sequence[Chapter] = (),
    workdir: Path | None = None,
) -> None:
    """Copy the video's first video stream and the audio file's first audio stream."""
    args: list[str] = ["-i", str(video)]
    maps = ["-map", "0:v:0"]
    if audio is not None:
        args += ["-i", str(audio)]
        maps += ["-map", "1:a:0"]
    if chapters:
        meta = write_chapters(chapters, (workdir or Path(out_path).parent) / "chapters.txt")
        args += ["-f", "ffmetadata", "-i", str(meta)]
        maps += ["-map_chapters", str(1 if audio is None else 2)]
    else:
        maps += ["-map_chapters", "-1"]
    run_ffmpeg(
        [*args, *maps, "-map_metadata", "-1", "-c", "copy", "-movflags", "+faststart",
         "-f", "mp4", str(out_path)],
        "Writing the output video",
    )


def read_chapters(path: str | Path) -> list[Chapter]:
    """The chapters of a video (e.g. clip starts of a multi-clip working video)."""
    import av

    with av.open(str(path), metadata_errors="ignore") as container:
        return [
            Chapter(float(c["start"] * c["time_base"]), float(c["end"] * c["time_base"]),
                    str(c.get("metadata", {}).get("title", "")))
            for c in container.chapters()
        ]
