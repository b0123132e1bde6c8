"""Choosing the upscaler: forced, automatic, and every kind of bad weights → Lanczos + why."""

from __future__ import annotations

import hashlib

import av
import pytest
import torch

from functions import framing
from lib.jobs.progress import RecordingProgress
from lib.vision.choose import choose_upscaler
from lib.vision.sr import SrUpscaler
from lib.vision.upscale import LanczosUpscaler
from tests.media_helpers import cached, stream_durations
from tests.vision import sr_support

sr_cache, anime_weights = sr_support.sr_cache, sr_support.anime_weights  # fixtures


def test_lanczos_and_sr_can_be_forced(monkeypatch):
    monkeypatch.setenv("UPSCALER", "lanczos")
    choice = choose_upscaler()
    assert isinstance(choice.upscaler, LanczosUpscaler) and choice.reason is None
    monkeypatch.setenv("UPSCALER", "sr")
    choice = choose_upscaler()
    assert isinstance(choice.upscaler, SrUpscaler) and choice.reason is None
    assert choice.upscaler.name == "realesr-animevideov3"
    assert choice.progress_label() == "AI upscaling"
    assert isinstance(choose_upscaler("lanczos").upscaler, LanczosUpscaler)  # the spec wins
    with pytest.raises(ValueError, match="Unknown upscaler"):
        choose_upscaler("bicubic")


def test_auto_uses_sr_only_on_a_gpu(monkeypatch):
    monkeypatch.setenv("UPSCALER", "auto")
    choice = choose_upscaler()
    if torch.cuda.is_available():
        assert isinstance(choice.upscaler, SrUpscaler)
    else:
        assert isinstance(choice.upscaler, LanczosUpscaler)
        assert "No GPU" in choice.reason and choice.report()["upscaler"] == "lanczos"


def _with_weights(monkeypatch, tmp_path, data: bytes | None, sha: str | None):
    path = tmp_path / "realesr-general-x4v3.pth"
    if data is not None:
        path.write_bytes(data)
    monkeypatch.setenv("UPSCALER", "sr")
    monkeypatch.setenv("SR_WEIGHTS", str(path))
    if sha is None:
        monkeypatch.delenv("SR_WEIGHTS_SHA256", raising=False)
    else:
        monkeypatch.setenv("SR_WEIGHTS_SHA256", sha)
    return choose_upscaler()


def test_bad_weights_fall_back_with_a_reason(monkeypatch, tmp_path, anime_weights):
    good = anime_weights[0].read_bytes()
    cases = [
        (None, "0" * 64, "missing"),
        (good, "0" * 64, "sha256"),
        (good[: len(good) // 2], hashlib.sha256(good[: len(good) // 2]).hexdigest(),
         "not a model"),
        (b"not a model at all", hashlib.sha256(b"not a model at all").hexdigest(),
         "not a model"),
        (good, None, "SR_WEIGHTS_SHA256"),
    ]
    for data, sha, words in cases:
        choice = _with_weights(monkeypatch, tmp_path, data, sha)
        assert isinstance(choice.upscaler, LanczosUpscaler), words
        assert words in choice.reason and "Lanczos was used" in choice.reason
        assert choice.report() == {"upscaler": "lanczos", "note": choice.reason}


def test_production_named_weights_load_through_the_same_path(monkeypatch, tmp_path,
                                                             anime_weights):
    good = anime_weights[0].read_bytes()
    choice = _with_weights(monkeypatch, tmp_path, good, hashlib.sha256(good).hexdigest())
    assert isinstance(choice.upscaler, SrUpscaler)
    assert choice.upscaler.name == "realesr-animevideov3"  # named by structure, not file


def test_framing_export_with_sr(monkeypatch, local_store, tmp_path):
    monkeypatch.setenv("UPSCALER", "sr")
    src = cached("sr-export", width=240, height=120, fps=15, duration=1.0)
    key = "u/raw_clips/sr.mp4"
    (local_store.root / key).parent.mkdir(parents=True, exist_ok=True)
    (local_store.root / key).write_bytes(src.read_bytes())
    progress = RecordingProgress()
    result = framing.run({"clips": [{"source_key": key}], "output_key": "u/w/sr.mp4"},
                         local_store, progress)
    assert result.status == "complete", result.error
    assert (result.width, result.height) == (810, 1440)
    assert (result.upscaler, result.sr_scale) == ("realesr-animevideov3", 4)
    assert result.sr_input_size == [68, 120]  # the 9:16 crop of a 120-line source, as it is
    assert result.note is None
    frames = [(phase, m) for _, phase, m in progress.events]
    assert ("upscaling", "AI upscaling frame 15/15") in frames
    out = tmp_path / "sr.mp4"
    local_store.download_file(result.output_key, out)
    durations = stream_durations(out)
    assert abs(durations["video"] - 1.0) < 0.05 and abs(durations["audio"] - 1.0) < 0.05
    with av.open(str(out)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 15 and (frames[0].width, frames[0].height) == (810, 1440)


def test_sha256_sidecar_file_is_accepted(monkeypatch, tmp_path, anime_weights):
    good = anime_weights[0].read_bytes()
    path = tmp_path / "realesr-general-x4v3.pth"
    (tmp_path / "realesr-general-x4v3.pth.sha256").write_text(
        f"{hashlib.sha256(good).hexdigest()}  realesr-general-x4v3.pth\n")
    choice = _with_weights(monkeypatch, tmp_path, good, None)
    assert isinstance(choice.upscaler, SrUpscaler), choice.reason
    assert path.exists()
