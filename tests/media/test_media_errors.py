"""Every job body turns unusable inputs into `{status: error, error: <one sentence>}` (§8),
reports the error phase, and writes nothing to the store."""

from __future__ import annotations

import pytest

from functions import compile as compilation
from functions import extract, framing, overlay
from lib.jobs.progress import RecordingProgress
from tests.media_helpers import cached, ffmpeg

JOBS = {
    "framing": (framing.run, lambda key: {"clips": [{"source_key": key}]}),
    "overlay": (overlay.run, lambda key: {"input_key": key, "effect_type": "dark_overlay",
                                          "regions": [{"id": "r", "start_time": 0,
                                                       "end_time": 1, "keyframes": []}]}),
    "extract": (extract.run, lambda key: {"input_key": key, "start": 0.5, "end": 1.0}),
    "compile": (compilation.run, lambda key: {"input_key": key, "clips": [
        {"start_time": 0, "end_time": 1, "name": "a", "rating": 5}]}),
}


def bad_input(kind: str, tmp_path):
    good = cached("plain", fps=30, duration=1.0, width=176, height=144).read_bytes()
    path = tmp_path / f"{kind}.mp4"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("definitely not a video\n" * 100)
    elif kind == "truncated":
        path.write_bytes(good[: len(good) * 2 // 3])
    elif kind == "corrupt":
        path.write_bytes(good[:3000] + bytes(range(256)) * ((len(good) - 3000) // 256))
    elif kind == "audio_only":
        ffmpeg("-f", "lavfi", "-t", "1", "-i", "sine=frequency=300", "-c:a", "aac", path)
    return path


@pytest.mark.parametrize("job", sorted(JOBS))
@pytest.mark.parametrize("kind, words", [
    ("empty", "empty"),
    ("text", "not a readable video"),
    ("truncated", "truncated"),
    ("corrupt", "truncated|damaged|corrupt|decoded|no frames"),
    ("audio_only", "no video stream"),
    ("missing", "does not exist"),
])
def test_unusable_input_gives_an_error_result(local_store, tmp_path, job, kind, words):
    import re

    run, spec = JOBS[job]
    key = "u/raw_clips/input.mp4"
    if kind != "missing":
        local_store.upload_file(key, bad_input(kind, tmp_path))
    progress = RecordingProgress()
    result = run({**spec(key), "output_key": "u/final_videos/out.mp4"}, local_store, progress)
    assert result.status == "error"
    assert re.search(words, result.error), result.error
    assert result.error.endswith(".") and "\n" not in result.error
    assert progress.events[-1][1] == "error"
    assert local_store.head("u/final_videos/out.mp4") is None
    assert local_store.list("u/final_videos/") == []


@pytest.mark.parametrize("job", sorted(JOBS))
def test_invalid_spec_is_an_error_result(local_store, job):
    run, _ = JOBS[job]
    result = run({"nonsense": True}, local_store, None)
    assert result.status == "error" and result.error.startswith("The job request is invalid")
