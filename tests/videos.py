"""Small real videos for API tests (a thin front of tests/media_helpers.make_video)."""

from __future__ import annotations

from pathlib import Path

from tests.media_helpers import make_video as _make_video


def make_video(
    path: Path | str,
    seconds: float = 2.0,
    fps: int = 30,
    size: tuple[int, int] = (320, 180),
    audio: bool = True,
) -> Path:
    """An H.264/AAC MP4: a moving test pattern and (optionally) a 440 Hz tone."""
    return _make_video(Path(path), width=size[0], height=size[1], fps=fps, duration=seconds,
                       audio=audio)
