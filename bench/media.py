"""Media engine benchmark (issue 3): job bodies vs the ffmpeg floor, in one run.

Generated 90 s, 30 fps videos with audio (ffmpeg's moving testsrc2 pattern + a tone):
  (a)  overlay render, a highlight across the whole 810x1440 working video, vs
       `ffmpeg -i in.mp4 -c:v libx264 -preset fast -crf 23 -c:a copy out.mp4` (the floor);
  (a2) the typical overlay: one 3 s highlight in the same video, vs the same floor;
  (b)  framing render of a 1920x1080 game clip (moving crop + Lanczos resize to 810x1440 +
       encode + AAC audio) vs one ffmpeg command with a static crop + Lanczos scale + encode;
  peak RSS of the job process, for 30 s and 90 s inputs (memory must not grow with length).
The overlay uses the editor's default effect (`original`: a filled, outlined ellipse).
Each job runs in a child process (its own peak RSS); times cover the job body only. The
machine may be shared, so every timing is the best of `--repeats` runs, floor and job
interleaved.
The last line is `RESULT overlay_ratio=.. overlay_fps=.. typical_overlay_ratio=..
framing_ratio=.. framing_fps=.. peak_rss_mb=..`.

Usage: python bench/media.py [--seconds 90] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.media import ffmpeg_exe, x264_cli_args  # noqa: E402

FPS = 30
WORK_W, WORK_H = 810, 1440
GAME_W, GAME_H = 1920, 1080
CROP_W = 608


def ffmpeg(*args: str | Path) -> float:
    """Run ffmpeg; return its wall time in seconds."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *map(str, args)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - start


def make_inputs(workdir: Path, seconds: int) -> dict[str, Path]:
    """The working video (our encoder settings, as a framing export writes it) and a game clip."""
    tone = ["-f", "lavfi", "-t", str(seconds), "-i", "sine=frequency=440:sample_rate=48000"]
    working = workdir / f"working{seconds}.mp4"
    ffmpeg("-f", "lavfi", "-t", str(seconds), "-i", f"testsrc2=size={WORK_W}x{WORK_H}:rate={FPS}",
           *tone, *x264_cli_args(FPS), "-c:a", "aac", "-b:a", "192k",
           "-movflags", "+faststart", working)
    game = workdir / f"game{seconds}.mp4"
    ffmpeg("-f", "lavfi", "-t", str(seconds), "-i", f"testsrc2=size={GAME_W}x{GAME_H}:rate={FPS}",
           *tone, "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
           "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k", "-movflags", "+faststart", game)
    return {"working": working, "game": game}


def overlay_spec(seconds: float, start: float, end: float) -> dict:
    keyframes = [
        {"time": t, "x": 405 + 250 * ((t // 3) % 2 * 2 - 1) * (t % 3) / 3, "y": 720 + 100 * (t % 2),
         "radiusX": 86, "radiusY": 173, "opacity": 0.3, "color": "#FFFF00"}
        for t in range(int(start), int(end) + 1)
    ]
    return {"regions": [{"id": "r", "start_time": start, "end_time": end, "enabled": True,
                         "keyframes": keyframes}], "effect_type": "original"}


def framing_spec(seconds: float) -> dict:
    travel = GAME_W - CROP_W
    keyframes = [
        {"frame": t * 30, "x": travel * (0.5 + 0.45 * ((-1) ** (t // 3)) * ((t % 3) / 3)),
         "y": 0, "width": CROP_W, "height": GAME_H, "origin": "permanent"}
        for t in range(0, int(seconds) + 1, 3)
    ]
    return {"clips": [{"crop_keyframes": keyframes}], "output_width": WORK_W,
            "output_height": WORK_H}


def child(job: str, src: str, spec_json: str) -> None:
    """Run one job body on a local store rooted at a temp dir; print time and peak RSS."""
    from lib.storage import LocalDirStore

    with tempfile.TemporaryDirectory() as tmp:
        store = LocalDirStore(tmp)
        key = "bench/raw_clips/in.mp4"
        dest = Path(tmp) / key
        dest.parent.mkdir(parents=True)
        dest.symlink_to(Path(src).resolve())
        spec = json.loads(spec_json)
        if job == "framing":
            from functions.framing import run

            spec["clips"][0]["source_key"] = key
        else:
            from functions.overlay import run

            spec["input_key"] = key
        spec["output_key"] = "bench/final_videos/out.mp4"
        start = time.perf_counter()
        result = run(spec, store, None)
        seconds = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": rss_mb, "result": result.model_dump()}))


def measure(job: str, src: Path, spec: dict) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", job, str(src), json.dumps(spec)],
                          check=True, capture_output=True, text=True)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if out["result"]["status"] != "complete":
        raise SystemExit(f"{job} failed: {out['result']['error']}")
    return out


def best(repeats: int, floor: list, job: tuple) -> tuple[float, dict]:
    """Best floor time and best job run of `repeats` interleaved runs (peak RSS: the max)."""
    floors, runs = [], []
    for _ in range(repeats):
        floors.append(ffmpeg(*floor))
        runs.append(measure(*job))
    run = min(runs, key=lambda r: r["seconds"])
    return min(floors), {**run, "rss_mb": max(r["rss_mb"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=90)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--child", nargs=3, metavar=("JOB", "SRC", "SPEC"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    seconds, short, repeats = args.seconds, max(10, args.seconds // 3), args.repeats
    frames = seconds * FPS
    with tempfile.TemporaryDirectory(prefix="rb-bench-") as tmp:
        workdir = Path(tmp)
        t0 = time.perf_counter()
        long, small = make_inputs(workdir, seconds), make_inputs(workdir, short)
        print(f"inputs generated in {time.perf_counter() - t0:.1f} s", flush=True)

        floor_cmd = ["-i", long["working"], "-c:v", "libx264", "-preset", "fast", "-crf", "23",
                     "-c:a", "copy", workdir / "floor_overlay.mp4"]
        floor_overlay, full = best(repeats, floor_cmd, (
            "overlay", long["working"], overlay_spec(seconds, 0, seconds)))
        typical = min((measure("overlay", long["working"], overlay_spec(seconds, 10, 13))
                       for _ in range(repeats)), key=lambda r: r["seconds"])
        print(f"(a)  overlay, whole video: {full['seconds']:.2f} s ({full['result']['method']}), "
              f"floor {floor_overlay:.2f} s", flush=True)
        print(f"(a2) overlay, one 3 s highlight: {typical['seconds']:.2f} s "
              f"({typical['result']['method']}, re-encoded "
              f"{typical['result']['reencoded_seconds']} s)", flush=True)

        floor_cmd = [
            "-i", long["game"], "-vf",
            f"crop={CROP_W}:{GAME_H}:{(GAME_W - CROP_W) // 2}:0,"
            f"scale={WORK_W}:{WORK_H}:flags=lanczos",
            "-c:v", "libx264", "-preset", "fast", "-crf", "23", "-c:a", "aac", "-b:a", "192k",
            workdir / "floor_framing.mp4"]
        floor_framing, framed = best(repeats, floor_cmd,
                                     ("framing", long["game"], framing_spec(seconds)))
        print(f"(b)  framing 1920x1080 -> 810x1440: {framed['seconds']:.2f} s, "
              f"floor {floor_framing:.2f} s", flush=True)

        full_short = measure("overlay", small["working"], overlay_spec(short, 0, short))
        framed_short = measure("framing", small["game"], framing_spec(short))
        print(f"peak RSS MB, {short} s vs {seconds} s: overlay {full_short['rss_mb']:.0f} vs "
              f"{full['rss_mb']:.0f}, typical overlay {typical['rss_mb']:.0f}, framing "
              f"{framed_short['rss_mb']:.0f} vs {framed['rss_mb']:.0f}", flush=True)

    peak = max(r["rss_mb"] for r in (full, typical, framed, full_short, framed_short))
    print(
        f"RESULT overlay_ratio={full['seconds'] / floor_overlay:.3f} "
        f"overlay_fps={frames / full['seconds']:.1f} "
        f"typical_overlay_ratio={typical['seconds'] / floor_overlay:.3f} "
        f"framing_ratio={framed['seconds'] / floor_framing:.3f} "
        f"framing_fps={frames / framed['seconds']:.1f} "
        f"peak_rss_mb={peak:.0f}"
    )


if __name__ == "__main__":
    main()
