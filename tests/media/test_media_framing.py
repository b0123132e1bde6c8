"""functions.framing: crop follows the spline, trim + speed durations and A/V sync, joins."""

from __future__ import annotations

import shutil

import av
import numpy as np
import pytest

from functions import framing
from lib.jobs.progress import RecordingProgress
from lib.media import probe
from lib.timeline.keyframes import crop_at
from lib.timeline.segments import parse_segments
from tests.media_helpers import (
    beep_onsets,
    burst_centre,
    cached,
    ffmpeg,
    flash_onsets,
    is_faststart,
    luma_frames,
    marker_source,
    stream_durations,
    sync_sources,
)

OUT_W, OUT_H = 162, 288


def put(store, path, name):
    key = f"u/raw_clips/{name}"
    root = getattr(store, "root", None)
    if root is not None:
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, root / key)
    else:
        store.upload_file(key, path)
    return key


def render(store, tmp_path, clips, **extra):
    progress = RecordingProgress()
    spec = {"clips": clips, "output_key": "u/working_videos/out.mp4",
            "output_width": OUT_W, "output_height": OUT_H, **extra}
    result = framing.run(spec, store, progress)
    assert result.status == "complete", result.error
    assert [p for p, _, _ in progress.events] == sorted(p for p, _, _ in progress.events)
    # the frame loop says what runs, under the phase name the editor keys on
    loop = [(phase, m) for _, phase, m in progress.events if " frame " in m]
    assert loop and all(phase == "upscaling" for phase, _ in loop)
    label = "AI upscaling" if result.upscaler != "lanczos" else "Upscaling"
    assert all(m.startswith(f"{label} frame ") for _, m in loop)
    out = tmp_path / "out.mp4"
    store.download_file(result.output_key, out)
    return result, out


def sync_clip(fps=30, duration=4.0, audio=True):
    video, tone = sync_sources(160, 120, fps)
    return cached("sync", fps=fps, duration=duration, source=video, audio=audio,
                  audio_source=tone)


def test_crop_follows_the_spline(local_store, tmp_path):
    mx, my, size = 300, 150, 12
    src = cached("marker", width=640, height=360, fps=30, duration=3.0,
                 source=marker_source(640, 360, 30, mx, my, size), audio=False)
    keyframes = [
        {"frame": 0, "x": 100, "y": 0, "width": 202, "height": 360},
        {"frame": 40, "x": 210, "y": 10, "width": 202, "height": 340},
        {"frame": 90, "x": 250, "y": 0, "width": 202, "height": 360},
    ]
    result, out = render(local_store, tmp_path, [{"source_key": put(local_store, src, "m.mp4"),
                                                  "crop_keyframes": keyframes}])
    assert (result.width, result.height, result.fps) == (OUT_W, OUT_H, 30.0)
    frames = luma_frames(out)
    assert len(frames) == 90
    checked = 0
    for t, y in frames[::3]:
        box = crop_at(keyframes, t, 640, 360)
        x0, y0, w, h = box.x, box.y, box.width, box.height  # the render is sub-pixel
        ex = (mx + size / 2 - x0) * OUT_W / w
        ey = (my + size / 2 - y0) * OUT_H / h
        if not (8 < ex < OUT_W - 8):
            continue
        weights = np.clip(y.astype(np.float64) - 120, 0, None)
        ys, xs = np.mgrid[0 : y.shape[0], 0 : y.shape[1]]
        cx = (weights * (xs + 0.5)).sum() / weights.sum()
        cy = (weights * (ys + 0.5)).sum() / weights.sum()
        assert abs(cx - ex) <= 1.0 and abs(cy - ey) <= 1.0, (t, cx, ex, cy, ey)
        checked += 1
    assert checked >= 15


@pytest.mark.parametrize("speed", [0.5, 1.0, 2.0, 3.0])
def test_speed_duration_and_av_sync(local_store, tmp_path, speed):
    key = put(local_store, sync_clip(), "sync.mp4")
    segments = {"boundaries": [0, 4], "segmentSpeeds": {"0": speed},
                "trimRange": {"start": 0.5, "end": 3.5}}
    result, out = render(local_store, tmp_path, [{"source_key": key, "segments": segments}])
    expected = 3.0 / speed
    durations = stream_durations(out)
    frame = 1 / 30
    assert abs(durations["video"] - expected) <= frame
    assert abs(durations["audio"] - expected) <= frame
    plan = parse_segments(segments, probe(sync_clip()).duration)
    want = [plan.to_working(s) for s in (1.0, 2.0, 3.0)]
    flashes, beeps = flash_onsets(out), beep_onsets(out)
    assert len(flashes) == len(beeps) == 3
    beep = 0.1 / speed  # each 0.1 s beep, re-timed
    for w, f in zip(want, flashes, strict=True):
        assert abs(f - w) <= frame + 1e-6
        centre = burst_centre(out, max(0.0, w - 0.1), w + beep + 0.1)
        assert abs(centre - (w + beep / 2)) <= frame


def test_mixed_segments_trim_and_sync(local_store, tmp_path):
    key = put(local_store, sync_clip(), "sync.mp4")
    segments = {"boundaries": [0, 1.5, 2.5, 4], "segmentSpeeds": {"1": 0.5, "2": 2},
                "trimRange": {"start": 0.5, "end": 3.8}}
    result, out = render(local_store, tmp_path, [{"source_key": key, "segments": segments}])
    plan = parse_segments(segments, 4.0)
    assert plan.duration == pytest.approx(1.0 + 2.0 + 0.65)
    assert result.duration == pytest.approx(plan.duration, abs=1 / 30)
    want = [plan.to_working(s) for s in (1.0, 2.0, 3.0)]
    assert flash_onsets(out) == pytest.approx(want, abs=1 / 30 + 1e-6)
    ends = [plan.to_working(s + 0.1) for s in (1.0, 2.0, 3.0)]
    spans = list(zip(want, ends, strict=True))
    centres = [burst_centre(out, max(0.0, w - 0.1), e + 0.1) for w, e in spans]
    assert centres == pytest.approx([(w + e) / 2 for w, e in spans], abs=1 / 30)


@pytest.mark.parametrize("fps", [25, 60])
def test_source_fps_is_kept_unless_a_target_is_given(local_store, tmp_path, fps):
    key = put(local_store, sync_clip(fps=fps, duration=2.0), f"s{fps}.mp4")
    result, out = render(local_store, tmp_path, [{"source_key": key}])
    assert result.fps == fps and stream_durations(out)["frames"] == 2 * fps
    result, out = render(local_store, tmp_path, [{"source_key": key}], fps=30)
    assert result.fps == 30 and stream_durations(out)["frames"] == 60
    assert flash_onsets(out) == pytest.approx([0.0, 1.0], abs=1 / 30)


@pytest.mark.parametrize("kind, total", [("cut", 5.0), ("fade", 4.5), ("dissolve", 4.5)])
def test_multi_clip_joins(local_store, tmp_path, kind, total):
    a = put(local_store, sync_clip(), "a.mp4")
    b = put(local_store, sync_clip(fps=25, duration=2.0, audio=False), "b.mp4")
    clips = [{"source_key": a, "segments": {"trimRange": {"start": 1.0, "end": 4.0}},
              "name": "First"},
             {"source_key": b, "name": "Second"}]
    result, out = render(local_store, tmp_path, clips,
                         transition={"type": kind, "duration": 0.5})
    assert result.fps == 30 and result.duration == pytest.approx(total, abs=1 / 30)
    assert [p.name for p in result.parts] == ["First", "Second"]
    assert result.clip_starts == pytest.approx([0.0, 3.0 if kind == "cut" else 2.5])
    durations = stream_durations(out)
    assert abs(durations["audio"] - total) <= 1 / 30  # clip b is silent, still full length
    with av.open(str(out)) as container:
        chapters = container.chapters()
    assert len(chapters) == 2 and chapters[1]["metadata"]["title"] == "Second"
    if kind != "cut":
        means = [float(y.mean()) for _, y in luma_frames(out)]
        mid = means[round(2.75 * 30) - 3: round(2.75 * 30) + 3]
        assert (min(mid) < 30) == (kind == "fade")  # fade passes through black


def test_audio_optional_and_absent(local_store, tmp_path):
    key = put(local_store, sync_clip(duration=1.0, audio=False), "mute.mp4")
    _, out = render(local_store, tmp_path, [{"source_key": key}])
    assert "audio" not in stream_durations(out)
    key = put(local_store, sync_clip(duration=1.0), "loud.mp4")
    _, out = render(local_store, tmp_path, [{"source_key": key}], include_audio=False)
    assert "audio" not in stream_durations(out)


def test_default_output_size_and_rotation(local_store, tmp_path):
    src = tmp_path / "rot.mp4"
    ffmpeg("-display_rotation", "90", "-i", sync_clip(duration=1.0), "-c", "copy", src)
    key = put(local_store, src, "rot.mp4")
    result = framing.run({"clips": [{"source_key": key}], "output_key": "u/w/out.mp4"},
                         local_store, None)
    assert result.status == "complete", result.error
    assert (result.width, result.height, result.upscaler) == (810, 1440, "lanczos")
    wide = framing.run({"clips": [{"source_key": key}], "output_key": "u/w/wide.mp4",
                        "aspect_ratio": "16:9"}, local_store, None)
    assert (wide.width, wide.height) == (2560, 1440)


def test_framing_on_s3(s3_store, tmp_path):
    key = put(s3_store, sync_clip(duration=1.0), "s3.mp4")
    result, out = render(s3_store, tmp_path, [{"source_key": key}])
    assert result.size == out.stat().st_size and result.duration == pytest.approx(1.0)
    assert is_faststart(out)


@pytest.mark.parametrize("clip, message", [
    ({"segments": {"trimRange": {"start": 2, "end": 2}}}, "trim range is empty"),
    ({"crop_keyframes": [{"frame": 0, "x": 900, "y": 0, "width": 50, "height": 50}]},
     "outside"),
    ({"segments": {"boundaries": [0, 4], "segmentSpeeds": {"0": 9}}}, "outside \\(0, 8\\]"),
])
def test_invalid_clips_give_an_error_result(local_store, tmp_path, clip, message):
    key = put(local_store, sync_clip(), "sync.mp4")
    result = framing.run({"clips": [{"source_key": key, **clip}],
                          "output_key": "u/working_videos/bad.mp4"}, local_store, None)
    assert result.status == "error" and result.error
    assert __import__("re").search(message, result.error)
    assert local_store.head("u/working_videos/bad.mp4") is None


def test_audio_keeps_its_offset_to_a_late_starting_video(local_store, tmp_path):
    """The editor's time 0 is the first video frame: audio that leads it keeps its lead."""
    src = sync_clip(duration=3.0)
    late = tmp_path / "late.mp4"
    ffmpeg("-itsoffset", "0.5", "-i", src, "-i", src, "-map", "0:v", "-map", "1:a",
           "-c", "copy", late)
    info = probe(late)
    assert info.start_time == pytest.approx(0.5, abs=0.02) and info.clip_offset > 0.4
    key = put(local_store, late, "late.mp4")
    segments = {"trimRange": {"start": 0.2, "end": 2.4}}
    result, out = render(local_store, tmp_path, [{"source_key": key, "segments": segments}])
    # Video second 1 (file 1.5 s) is at 0.8 s; the beep at file 1.0 s and 2.0 s: 0.3 / 1.3 s.
    assert flash_onsets(out) == pytest.approx([0.8, 1.8], abs=1 / 30)
    assert burst_centre(out, 0.2, 0.45) == pytest.approx(0.35, abs=1 / 30)
    assert burst_centre(out, 1.2, 1.45) == pytest.approx(1.35, abs=1 / 30)
