"""lib.media: probe, streaming decode with exact timestamps, encoder settings, input errors."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from lib.errors import MediaError
from lib.media import FrameReader, atempo_chain, probe, standalone_x264
from lib.media.h264 import annexb_to_avcc, parameter_sets, split_annexb, split_avcc
from lib.media.probe import snap_rate
from tests.media_helpers import cached, ffmpeg, make_video


@pytest.mark.parametrize("fps", [25, 30, 60])
def test_probe_real_fps_and_exact_frame_times(fps):
    path = cached("plain", fps=fps, duration=1.0, width=176, height=144)
    info = probe(path)
    assert info.fps == pytest.approx(fps) and info.frame_rate == Fraction(fps)
    assert (info.width, info.height, info.rotation) == (176, 144, 0)
    assert info.duration == pytest.approx(1.0, abs=1 / fps)
    assert info.has_audio and info.audio_codec == "aac" and info.video_codec == "h264"
    times = [f.t for f in FrameReader(path, info)]
    assert len(times) == fps
    assert times == pytest.approx([n / fps for n in range(fps)], abs=1e-6)
    part = [f.t for f in FrameReader(path, info, start=12 / fps, end=0.8)]
    assert part[0] == pytest.approx(12 / fps) and part[-1] < 0.8


def test_probe_without_audio_odd_size_and_rotation(tmp_path):
    odd = make_video(tmp_path / "odd.mp4", duration=0.5, audio=False,
                     source="color=c=0x4060a0:size=321x241:rate=30",
                     video_args=["-c:v", "libx264", "-pix_fmt", "yuv444p", "-preset", "ultrafast"])
    info = probe(odd)
    assert not info.has_audio and (info.width, info.height) == (321, 241)
    frame = next(iter(FrameReader(odd, info))).frame
    assert frame.format.name == "yuv420p" and frame.width == 321  # normalized for processing
    rotated = tmp_path / "rot.mp4"
    ffmpeg("-display_rotation", "90", "-i", odd, "-c", "copy", rotated)
    info = probe(rotated)
    assert info.rotation == 90 and (info.display_width, info.display_height) == (241, 321)


def test_standard_rates_snap():
    assert snap_rate(29.97) == Fraction(30000, 1001)
    assert snap_rate(30) == Fraction(30) and snap_rate(59.94006) == Fraction(60000, 1001)
    assert snap_rate(Fraction(59, 2)) == Fraction(59, 2)  # a non-standard 29.5 stays


@pytest.mark.parametrize("speed", [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 8])
def test_atempo_chain_within_bounds(speed):
    steps = [float(s.split("=")[1]) for s in atempo_chain(speed)]
    assert all(0.5 <= s <= 2 for s in steps)
    assert math.prod(steps) == pytest.approx(speed)


def test_h264_helpers_and_x264_headers():
    enc = standalone_x264(160, 96, Fraction(30))
    sps, pps = parameter_sets(enc.extradata)
    assert len(sps) == 1 and len(pps) == 1 and sps[0][0] & 0x1F == 7
    stream = b"\x00\x00\x00\x01" + sps[0] + b"\x00\x00\x01" + pps[0]
    assert split_annexb(stream) == [sps[0], pps[0]]
    assert split_avcc(annexb_to_avcc(stream)) == [sps[0], pps[0]]
    # Same settings, same headers: what lets the smart overlay splice GOPs.
    again = standalone_x264(160, 96, Fraction(30))
    assert parameter_sets(again.extradata) == (sps, pps)


def _bad_inputs(tmp_path):
    good = cached("plain", fps=30, duration=1.0, width=176, height=144)
    data = good.read_bytes()
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "text.mp4").write_text("this is not a video\n" * 50)
    (tmp_path / "half.mp4").write_bytes(data[: len(data) // 2])
    (tmp_path / "garbled.mp4").write_bytes(data[:4000] + bytes(len(data) - 4000))
    make_video(tmp_path / "audio.m4a", audio=True, source=None, duration=0.5,
               video_args=[], container_args=["-vn"])
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25:duration=0.2", "-c:v", "libxavs2",
           tmp_path / "avs2.ts")
    return tmp_path


@pytest.mark.parametrize("name, message", [
    ("empty.mp4", "empty"),
    ("text.mp4", "not a readable video"),
    ("half.mp4", "truncated"),
    ("garbled.mp4", "truncated or damaged|could not be decoded|no frames"),
    ("audio.m4a", "no video stream"),
    ("avs2.ts", "codec is not supported"),
    ("missing.mp4", "does not exist"),
])
def test_unusable_inputs_raise_one_clear_sentence(tmp_path, name, message):
    path = _bad_inputs(tmp_path) / name
    with pytest.raises(MediaError, match=message) as err:
        info = probe(path)
        list(FrameReader(path, info))
    assert err.value.message.endswith(".") and "\n" not in err.value.message


def test_rotated_frames_match_ffmpeg_autorotate(tmp_path):
    src = make_video(tmp_path / "m.mp4", width=160, height=96, duration=0.2, audio=False,
                     source="color=c=0x303030:size=160x96:rate=30,"
                            "drawbox=x=8:y=8:w=30:h=12:color=white:t=fill")
    for rotation in (90, 180, 270):
        rotated, upright = tmp_path / f"r{rotation}.mp4", tmp_path / f"u{rotation}.mp4"
        ffmpeg("-display_rotation", str(rotation), "-i", src, "-c", "copy", rotated)
        ffmpeg("-i", rotated, "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p", upright)
        info = probe(rotated)
        ours = next(iter(FrameReader(rotated, info))).planes(info.rotation).y
        theirs = next(iter(FrameReader(upright, probe(upright)))).planes().y
        assert ours.shape == theirs.shape
        assert np.abs(ours.astype(int) - theirs).mean() < 1.0
