"""Small real videos for API tests, made with the ffmpeg binary from imageio-ffmpeg."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg


def make_video(
    path: Path | str,
    seconds: float = 2.0,
    fps: int = 30,
    size: tuple[int, int] = (320, 180),
    audio: bool = True,
    gop: int | None = None,
) -> Path:
    """An H.264/AAC MP4: a moving test pattern and (optionally) a 440 Hz tone."""
    path = Path(path)
    w, h = size
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y",
           "-f", "lavfi", "-i", f"testsrc2=size={w}x{h}:rate={fps}:duration={seconds}"]
    if audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-g", str(gop or fps)]
    if audio:
        cmd += ["-c:a", "aac", "-b:a", "64k"]
    cmd += ["-movflags", "+faststart", "-shortest", str(path)]
    subprocess.run(cmd, check=True)
    return path
