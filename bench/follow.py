"""Follow-the-player bench: a 1080p 30 fps 10 s synthetic scene (tests/vision/synthetic: a
crossing with a look-alike, a moment hidden behind a board, a camera pan).

Measures, on this machine:
- auto_frame end to end (probe, decode, detect + track, camera path, keyframe fit) in seconds
  per second of video (`cpu_x_realtime`, goal <= 2);
- the physical floors measured in the same run: decoding every frame of the clip once, and the
  detector's bare model time (one 416² inference) times the number of detections made; the
  `floor_ratio` = end-to-end / (decode + inference floor) says how much is overhead;
- tracking accuracy against the scene's truth: share of frames with the player's centre in the
  crop's central 60 % (`centred_pct`, goal >= 95), identity switches (sampled boxes that are
  someone else, goal 0), keyframes per second (goal <= 1).

Run: `.venv/bin/python bench/follow.py`. Last line:
`RESULT cpu_x_realtime=.. centred_pct=.. id_switches=.. keyframes_per_s=.. floor_ratio=..`
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.media import FrameReader, probe  # noqa: E402
from lib.timeline.segments import parse_segments  # noqa: E402
from lib.vision.camera_path import crop_path  # noqa: E402
from lib.vision.detect import PersonDetector  # noqa: E402
from lib.vision.nanodet import INPUT_SIZE  # noqa: E402
from lib.vision.track import PlayerTracker  # noqa: E402
from tests.vision.synthetic import Scene, render  # noqa: E402
from tests.vision.test_follow_scenes import centred_share, identity_switches  # noqa: E402

SCENE = Scene(width=1920, height=1080, fps=30, seconds=10.0)


class CountingDetector(PersonDetector):
    calls = 0

    def detect(self, frames, **kw):
        CountingDetector.calls += len(frames)
        return super().detect(frames, **kw)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scene-1080p.mp4"
        t0 = time.perf_counter()
        truth = render(path, SCENE)
        print(f"scene rendered in {time.perf_counter() - t0:.1f} s", flush=True)
        detector = CountingDetector(confidence=0.15)
        tracker = PlayerTracker(detector=detector)
        import supervision  # noqa: F401  - a one-off import (~3 s), not per clip

        detector.model.infer(np.zeros((1, 3, INPUT_SIZE, INPUT_SIZE), np.float32))  # warm up
        t0 = time.perf_counter()
        info = probe(path)
        result = tracker.follow(path, truth.boxes["A"][0], 0.0, info=info)
        cam = crop_path(result.times, result.centres, info.width, info.height,
                        parse_segments(None, info.duration))
        elapsed = time.perf_counter() - t0

        t0 = time.perf_counter()
        frames = sum(1 for _ in FrameReader(path, info))
        decode_s = time.perf_counter() - t0
        x = np.random.default_rng(0).random((1, 3, INPUT_SIZE, INPUT_SIZE), np.float32)
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            detector.model.infer(x)
            runs.append(time.perf_counter() - t0)
        infer_s = float(np.median(runs))
        floor = decode_s + infer_s * CountingDetector.calls

    x_rt = elapsed / SCENE.seconds
    centred = 100 * centred_share(cam.keyframes, truth)
    switches = identity_switches(result, truth)
    kps = len(cam.keyframes) / SCENE.seconds
    print(f"auto_frame 1080p {SCENE.seconds:.0f} s: {elapsed:.2f} s ({x_rt:.2f} x real time); "
          f"{CountingDetector.calls} detections of one 416² tile; decode floor {decode_s:.2f} s "
          f"for {frames} frames, inference floor {infer_s * 1000:.0f} ms x "
          f"{CountingDetector.calls} = {infer_s * CountingDetector.calls:.2f} s", flush=True)
    print(f"gaps {result.gaps}; seen {result.seen.mean():.0%} of samples; "
          f"track ids {result.track_ids}; {len(cam.keyframes)} keyframes", flush=True)
    print(f"RESULT cpu_x_realtime={x_rt:.3f} centred_pct={centred:.1f} id_switches={switches} "
          f"keyframes_per_s={kps:.2f} floor_ratio={elapsed / floor:.3f}")


if __name__ == "__main__":
    main()
