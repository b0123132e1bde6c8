"""functions.overlay: effects vs the RGB reference, smart GOP splicing, copy and fallbacks."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from functions import overlay
from lib.jobs.progress import RecordingProgress
from lib.media import probe
from lib.media.effects import BT709
from lib.media.smartcut import scan_gops
from lib.timeline.keyframes import parse_regions
from tests.media_helpers import (
    audio_samples,
    cached,
    decode_video,
    is_faststart,
    make_video,
    reference,
    rgb_frames,
    through_420,
)

W, H, FPS = 162, 288, 30
GRADIENTS = f"gradients=size={W}x{H}:rate={FPS}:speed=0.05:seed=3"
KEYFRAMES = [
    {"time": 2.4, "x": 50, "y": 100, "radiusX": 20, "radiusY": 40, "opacity": 0.5,
     "color": "#FF0000"},
    {"time": 3.3, "x": 110, "y": 180, "radiusX": 26, "radiusY": 44, "opacity": 0.5,
     "color": "#FF0000"},
]
REGION = {"id": "r1", "start_time": 2.5, "end_time": 3.2, "enabled": True,
          "keyframes": KEYFRAMES}


def working_video():
    """A 6 s 9:16 working video as our framing writes it (x264 settings, 2 s GOPs): moving
    smooth gradients, so re-encoding costs little and the comparison sees the effect."""
    return cached("working", width=W, height=H, fps=FPS, duration=6.0, source=GRADIENTS)


def put(store, path, key="u/working_videos/in.mp4"):
    local = getattr(store, "root", None)
    if local is not None:
        (local / key).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, local / key)
    else:
        store.upload_file(key, path)
    return key


def fetch(store, key, tmp_path):
    out = tmp_path / key.replace("/", "_")
    store.download_file(key, out)
    return out


def render(store, tmp_path, regions, effect="original", smart=True, src=None):
    key = put(store, src or working_video())
    progress = RecordingProgress()
    result = overlay.run({"input_key": key, "output_key": "u/final_videos/out.mp4",
                          "regions": regions, "effect_type": effect, "smart": smart},
                         store, progress)
    assert result.status == "complete", result.error
    percents = [p for p, _, _ in progress.events]
    assert percents == sorted(percents) and progress.events[-1][1] == "complete"
    return result, fetch(store, result.output_key, tmp_path)


@pytest.mark.parametrize("effect", ["original", "brightness_boost", "dark_overlay"])
def test_effect_frames_match_reference_and_rest_is_copied(local_store, tmp_path, effect):
    result, out = render(local_store, tmp_path, [REGION], effect)
    gops = [g for g in scan_gops(working_video(), probe(working_video()))
            if g.start <= 3.2 and g.end >= 2.5]
    lo, hi = min(g.start for g in gops), max(g.end for g in gops)
    assert result.method == "smart"
    assert result.reencoded_seconds == pytest.approx(sum(g.packets for g in gops) / FPS, abs=1e-3)
    assert hi - lo < 4.0  # only the GOPs around the region
    src_frames = rgb_frames(working_video())
    out_frames = rgb_frames(out)
    assert len(out_frames) == len(src_frames) == 180
    region = parse_regions([REGION])[0]
    for (t, src), (t2, got) in zip(src_frames, out_frames, strict=True):
        assert t2 == pytest.approx(t)
        if t < lo - 1e-6 or t > hi + 1e-6:  # GOPs without the region: copied, bit-exact
            assert np.array_equal(src, got)
        elif region.contains(t):
            e = region.ellipse_at(t, W, H)
            want = through_420(reference(src, effect, e), BT709)
            assert np.abs(got - want).mean() <= 2.0
        else:  # re-encoded GOP, outside the region: the same picture
            assert np.abs(got - src).mean() <= 2.0
    assert result.duration == pytest.approx(6.0, abs=0.04)
    a, _ = audio_samples(working_video())
    b, _ = audio_samples(out)
    assert np.array_equal(a, b)  # audio copied


@pytest.mark.parametrize("regions", [[], [dict(REGION, enabled=False)],
                                     [dict(REGION, start_time=50, end_time=60)]])
def test_no_active_region_is_a_stream_copy(local_store, tmp_path, regions):
    result, out = render(local_store, tmp_path, regions)
    assert result.method == "copy" and result.reencoded_seconds == 0
    for (_, a), (_, b) in zip(decode_video(working_video()), decode_video(out), strict=True):
        assert np.array_equal(a, b)


def test_full_render_when_asked_or_when_the_source_cannot_be_spliced(local_store, tmp_path):
    foreign = cached("foreign", width=W, height=H, fps=FPS, duration=3.0, source=GRADIENTS,
                     video_args=["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt",
                                 "yuv420p"])
    result, out = render(local_store, tmp_path, [REGION], "dark_overlay", src=foreign)
    assert result.method == "full" and "re-encoded" in result.note
    frames = rgb_frames(out)
    src = rgb_frames(foreign)
    assert len(frames) == len(src)
    t, got = frames[85]  # 2.833 s, inside the region
    e = parse_regions([REGION])[0].ellipse_at(t, W, H)
    want = through_420(reference(src[85][1], "dark_overlay", e), BT709)
    assert np.abs(got - want).mean() <= 2.0
    assert np.abs(frames[10][1] - src[10][1]).mean() <= 2.0  # outside: unchanged
    forced, _ = render(local_store, tmp_path, [REGION], "dark_overlay", smart=False)
    assert forced.method == "full" and forced.note is None


def test_default_ellipse_and_scaled_keyframes(local_store, tmp_path):
    regions = [
        {"id": "d", "start_time": 0.0, "end_time": 0.5, "keyframes": []},
        {"id": "s", "start_time": 4.5, "end_time": 5.0, "videoWidth": W * 2,
         "videoHeight": H * 2, "keyframes": [dict(k, x=k["x"] * 2, y=k["y"] * 2,
                                                  radiusX=k["radiusX"] * 2,
                                                  radiusY=k["radiusY"] * 2) for k in KEYFRAMES]},
    ]
    result, out = render(local_store, tmp_path, regions, "brightness_boost")
    assert result.method == "smart" and 0.5 < result.reencoded_seconds < 6.0
    src = rgb_frames(working_video())
    got = rgb_frames(out)
    parsed = parse_regions(regions)
    for index in (3, 140):
        t = src[index][0]
        e = parsed[0 if index == 3 else 1].ellipse_at(t, W, H)
        want = through_420(reference(src[index][1], "brightness_boost", e),
                           BT709)
        assert np.abs(got[index][1] - want).mean() <= 2.0
    d = parsed[0].ellipse_at(0.1, W, H)
    assert (d.x, d.y, d.radius_x, d.radius_y) == (W / 2, H / 2, round(0.06 * H), round(0.12 * H))


def test_overlay_on_s3_store(s3_store, tmp_path):
    result, out = render(s3_store, tmp_path, [REGION], "dark_overlay")
    assert result.method == "smart" and result.size == out.stat().st_size
    assert is_faststart(out)
    assert s3_store.head("u/final_videos/out.mp4") is not None


def test_region_outside_the_frame_is_an_error(local_store, tmp_path):
    bad = dict(REGION, keyframes=[dict(KEYFRAMES[0], x=5000)])
    key = put(local_store, working_video())
    result = overlay.run({"input_key": key, "output_key": "u/final_videos/bad.mp4",
                          "regions": [bad], "effect_type": "original"}, local_store, None)
    assert result.status == "error" and "outside" in result.error
    assert local_store.head("u/final_videos/bad.mp4") is None


def test_audio_less_working_video(local_store, tmp_path):
    silent = make_video(tmp_path / "silent.mp4", width=W, height=H, duration=2.0, audio=False)
    result, out = render(local_store, tmp_path, [dict(REGION, start_time=0.2, end_time=0.4)],
                         src=silent)
    assert result.method == "smart"
    assert len(decode_video(out)) == 60
