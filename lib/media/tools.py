"""The ffmpeg binary (from the imageio-ffmpeg wheel: no apt step) and how we run it."""

from __future__ import annotations

import functools
import logging
import subprocess
from collections.abc import Sequence
from pathlib import Path

from lib.errors import MediaError

log = logging.getLogger("media")


def media_error(message: str, detail: str | None = None) -> MediaError:
    """A MediaError with a plain sentence for the user; the technical detail goes to the log."""
    if detail:
        log.warning("%s %s", message, detail.strip()[-2000:])
    return MediaError(message)


@functools.cache
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg_cmd(args: Sequence[str | Path]) -> list[str]:
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *map(str, args)]


def run_ffmpeg(args: Sequence[str | Path], what: str, timeout: float | None = None) -> None:
    """Run ffmpeg; a failure becomes a MediaError naming `what` failed (stderr is logged)."""
    proc = subprocess.run(ffmpeg_cmd(args), capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise media_error(f"{what} failed.", proc.stderr)


def start_ffmpeg(args: Sequence[str | Path]) -> subprocess.Popen[str]:
    """ffmpeg in the background (e.g. audio while the video renders); finish with `wait_ffmpeg`."""
    return subprocess.Popen(
        ffmpeg_cmd(args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def wait_ffmpeg(proc: subprocess.Popen[str], what: str, timeout: float | None = None) -> None:
    _, err = proc.communicate(timeout=timeout)
    if proc.returncode != 0:
        raise media_error(f"{what} failed.", err)
