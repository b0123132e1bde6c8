"""Test media made with the ffmpeg binary: moving patterns, markers, flashes + beeps, counters.

Videos are small and short so the suite stays fast on two cores; each distinct video is made
once per test session (`cached`) in a process-wide temp dir.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import av
import numpy as np

from lib.media import Yuv420, ffmpeg_exe, x264_cli_args
from lib.media.effects import ColorModel, parse_color
from lib.timeline.keyframes import Ellipse

_DIR: Path | None = None


def media_dir() -> Path:
    global _DIR
    if _DIR is None:
        _DIR = Path(tempfile.mkdtemp(prefix="rb-test-media-"))
        atexit.register(shutil.rmtree, _DIR, True)
    return _DIR


def ffmpeg(*args: str | Path) -> None:
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {proc.stderr[-1500:]}")


def make_video(
    path: Path,
    *,
    width: int = 320,
    height: int = 240,
    fps: float = 30,
    duration: float = 2.0,
    audio: bool = True,
    source: str | None = None,
    vf: str | None = None,
    audio_source: str | None = None,
    video_args: list[str] | None = None,
    container_args: list[str] | None = None,
) -> Path:
    """A video of a moving test pattern (or `source`, a lavfi graph) with a 440 Hz tone."""
    src = source or f"testsrc2=size={width}x{height}:rate={fps}"
    args: list[str | Path] = ["-f", "lavfi", "-t", str(duration), "-i", src]
    if audio:
        tone = audio_source or "sine=frequency=440:sample_rate=48000"
        args += ["-f", "lavfi", "-t", str(duration), "-i", tone]
    if video_args is None:
        args += x264_cli_args(fps, vf)
    else:
        args += (["-vf", vf] if vf else []) + video_args
    if audio:
        args += ["-c:a", "aac", "-b:a", "128k", "-shortest"]
    args += ["-t", str(duration), *(container_args or ["-movflags", "+faststart"]), path]
    ffmpeg(*args)
    return path


def cached(name: str, **params) -> Path:
    """`make_video(**params)` made once per session (keyed by name and parameters)."""
    key = hashlib.sha1(json.dumps([name, params], sort_keys=True, default=str).encode())
    suffix = params.pop("suffix", ".mp4")
    path = media_dir() / f"{name}-{key.hexdigest()[:10]}{suffix}"
    return _make(path, json.dumps(params, sort_keys=True, default=str))


@functools.cache
def _make(path: Path, params_json: str) -> Path:
    return make_video(path, **json.loads(params_json))


def marker_source(width: int, height: int, fps: float, x: int, y: int, size: int) -> str:
    """Dark frame with a white size x size square whose top-left corner is (x, y)."""
    return (
        f"color=c=0x303030:size={width}x{height}:rate={fps},"
        f"drawbox=x={x}:y={y}:w={size}:h={size}:color=white:t=fill"
    )


def sync_sources(width: int, height: int, fps: float, flash: float = 0.1) -> tuple[str, str]:
    """Video flashing white and audio beeping for `flash` s at every whole second."""
    video = (
        f"color=c=0x202020:size={width}x{height}:rate={fps},"
        f"drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='lt(mod(t\\,1)\\,{flash})'"
    )
    audio = (
        "aevalsrc='0.8*sin(2*PI*1000*t)*lt(mod(t\\,1)\\,"
        f"{flash})':s=48000"
    )
    return video, audio


def counter_source(width: int, height: int, fps: float) -> str:
    """Frame n is a flat grey of level 16 + 2 * (n mod 110): the frame index is readable."""
    return (
        f"color=c=black:size={width}x{height}:rate={fps},"
        "geq=lum='16+2*mod(N\\,110)':cb=128:cr=128"
    )


# -- reading outputs -------------------------------------------------------------------------


def decode_video(path: Path, fmt: str = "yuv420p") -> list[tuple[float, np.ndarray]]:
    """(time since the first frame, image) for every frame; rgb24 gives HxWx3 arrays."""
    out = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        first = None
        for frame in container.decode(stream):
            t = float(frame.pts * stream.time_base)
            first = t if first is None else first
            out.append((t - first, frame.to_ndarray(format=fmt)))
    return out


def yuv_frames(path: Path) -> list[tuple[float, Yuv420]]:
    out = []
    for t, img in decode_video(path, "yuv420p"):
        h = img.shape[0] * 2 // 3
        w = img.shape[1]
        chroma = img[h:].reshape(2, h // 2, w // 2)
        out.append((t, Yuv420(img[:h], chroma[0], chroma[1])))
    return out


def rgb_frames(path: Path, model: ColorModel | None = None) -> list[tuple[float, np.ndarray]]:
    """Frames as float RGB through `yuv_to_rgb` (one conversion for sources and outputs)."""
    from lib.media.effects import BT709

    return [(t, yuv_to_rgb(yuv, model or BT709)) for t, yuv in yuv_frames(path)]


def luma_frames(path: Path) -> list[tuple[float, np.ndarray]]:
    return [(t, img[: img.shape[0] * 2 // 3]) for t, img in decode_video(path, "yuv420p")]


def audio_samples(path: Path) -> tuple[np.ndarray, int]:
    """Mono float samples of the first audio stream and the sample rate."""
    chunks = []
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        for frame in container.decode(stream):
            data = frame.to_ndarray().astype(np.float32)
            if frame.format.is_planar:
                data = data.mean(axis=0)
            else:
                data = data.reshape(-1, len(frame.layout.channels)).mean(axis=1)
            chunks.append(data)
    return (np.concatenate(chunks) if chunks else np.zeros(0, np.float32)), rate


def stream_durations(path: Path) -> dict[str, float]:
    """Seconds of video (frames x frame duration) and of audio (samples / rate)."""
    frames = decode_video(path)
    out = {"video": len(frames) / _fps(path), "frames": float(len(frames))}
    with av.open(str(path)) as container:
        has_audio = bool(container.streams.audio)
    if has_audio:
        samples, rate = audio_samples(path)
        out["audio"] = len(samples) / rate
    return out


def is_faststart(path: Path) -> bool:
    """The MP4 index (moov) comes before the media data (mdat): playable while downloading."""
    data = path.read_bytes()
    return -1 < data.find(b"moov") < data.find(b"mdat")


def _fps(path: Path) -> float:
    with av.open(str(path)) as container:
        return float(container.streams.video[0].average_rate)


def onsets(values: np.ndarray, times: np.ndarray, threshold: float, gap: float) -> list[float]:
    """Times where `values` rises above `threshold` after staying below it for `gap` s."""
    above = values > threshold
    found: list[float] = []
    for i in np.flatnonzero(above & ~np.concatenate([[False], above[:-1]])):
        if not found or times[i] - found[-1] >= gap:
            found.append(float(times[i]))
    return found


def flash_onsets(path: Path) -> list[float]:
    frames = luma_frames(path)
    times = np.array([t for t, _ in frames])
    means = np.array([float(img.mean()) for _, img in frames])
    return onsets(means, times, 128.0, 0.3)


def burst_centre(path: Path, start: float, end: float) -> float:
    """Energy-weighted centre (seconds) of the audio between start and end: where a beep is,
    independent of the pre-echo a time-stretcher smears onto its edges."""
    samples, rate = audio_samples(path)
    part = samples[max(0, int(start * rate)) : int(end * rate)].astype(np.float64) ** 2
    return start + float((part * np.arange(len(part))).sum() / part.sum()) / rate


def beep_onsets(path: Path) -> list[float]:
    samples, rate = audio_samples(path)
    win = rate // 1000  # 1 ms envelope
    env = np.abs(samples[: len(samples) // win * win]).reshape(-1, win).max(axis=1)
    return onsets(env, np.arange(len(env)) / 1000.0, 0.2, 0.3)


# -- the §4 effects as a plain RGB reference --------------------------------------------


def yuv_to_rgb(yuv: Yuv420, model: ColorModel) -> np.ndarray:
    """Limited-range Y'CbCr -> RGB in float, chroma repeated 2x2 (nearest), not clipped: the
    comparison is then exact linear algebra even for test-pattern colours outside the gamut."""
    y = (yuv.y.astype(np.float64) - 16) / 219
    up = [np.repeat(np.repeat(p, 2, 0), 2, 1)[: yuv.height, : yuv.width].astype(np.float64)
          for p in (yuv.u, yuv.v)]
    pb, pr = (up[0] - 128) / 224, (up[1] - 128) / 224
    r = y + 2 * (1 - model.kr) * pr
    b = y + 2 * (1 - model.kb) * pb
    g = (y - model.kr * r - model.kb * b) / (1 - model.kr - model.kb)
    return np.stack([r, g, b], -1) * 255


def through_420(rgb: np.ndarray, model: ColorModel) -> np.ndarray:
    """What a yuv420p video can carry of an RGB image: chroma averaged over 2x2 blocks."""
    r, g, b = (rgb[..., i] / 255 for i in range(3))
    ey = model.kr * r + (1 - model.kr - model.kb) * g + model.kb * b
    u = 128 + 224 * (b - ey) / (2 * (1 - model.kb))
    v = 128 + 224 * (r - ey) / (2 * (1 - model.kr))
    h, w = rgb.shape[:2]
    u, v = (p.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)) for p in (u, v))
    return yuv_to_rgb(Yuv420(*(np.round(p) for p in (16 + 219 * ey, u, v))), model)


def coverage(e: Ellipse, w: int, h: int, band: float | None = None, n: int = 4):
    """Supersampled (n x n per pixel) coverage of the ellipse, or of a band around its edge."""
    offs = (np.arange(n) + 0.5) / n
    xs = (np.arange(w)[:, None] + offs[None, :]).reshape(-1)
    ys = (np.arange(h)[:, None] + offs[None, :]).reshape(-1)
    ux = (xs[None, :] - e.x) / e.radius_x
    uy = (ys[:, None] - e.y) / e.radius_y
    rho = np.sqrt(ux**2 + uy**2)
    if band is None:
        hit = rho <= 1.0
    else:
        grad = np.sqrt((ux / e.radius_x) ** 2 + (uy / e.radius_y) ** 2) / np.maximum(rho, 1e-9)
        hit = np.abs(rho - 1) / np.maximum(grad, 1e-9) <= band
    return hit.reshape(h, n, w, n).mean(axis=(1, 3))


def reference(rgb: np.ndarray, effect: str, e: Ellipse) -> np.ndarray:
    """§4 in RGB, per pixel (frame of any size; even sizes for through_420)."""
    h, w = rgb.shape[:2]
    m = coverage(e, w, h)[..., None]
    if effect == "dark_overlay":
        return rgb * (1 - 0.4 * (1 - m))  # black at 0.4 outside
    if effect == "brightness_boost":
        a = 0.3 * m
        return rgb * (1 - a) + 255 * a
    color = np.array(parse_color(e.color), dtype=np.float64)
    a = e.opacity * m
    out = rgb * (1 - a) + color * a
    line = 0.6 * coverage(e, w, h, band=1.5)[..., None]
    return out * (1 - line) + color * line
