"""Before/after: the job body on generated videos, and #39/#40 through the runner seam."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import imageio_ffmpeg
import numpy as np
import pytest

from functions.before_after import run
from lib.jobs.progress import RecordingProgress
from lib.keys import Kind
from lib.media.probe import probe
from tests.overlay_helpers import (
    add_final_video,
    make_project,
    upload,
    write,
)
from tests.videos import make_video


def black_video(path: Path, seconds: float, size: tuple[int, int], fps: int = 30) -> Path:
    w, h = size
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"color=black:size={w}x{h}:rate={fps}:duration={seconds}", "-c:v",
                    "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)],
                   check=True)
    return path


@pytest.fixture(scope="session")
def videos(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("before_after")
    return {
        "source_a": make_video(d / "a.mp4", seconds=3.0, fps=30, size=(480, 270)),
        "source_b": make_video(d / "b.mp4", seconds=4.0, fps=25, size=(320, 180), audio=False),
        "final": make_video(d / "final.mp4", seconds=2.0, fps=30, size=(270, 480)),
        "black_source": black_video(d / "black_src.mp4", 1.0, (320, 180)),
        "black_final": black_video(d / "black_final.mp4", 1.0, (180, 320)),
    }


def _put(store, key: str, path: Path) -> str:
    store.upload_file(key, path, content_type="video/mp4")
    return key


def test_job_renders_a_1080x1920_comparison(local_store, videos, tmp_path):
    a = _put(local_store, "u/raw_clips/a.mp4", videos["source_a"])
    b = _put(local_store, "u/raw_clips/b.mp4", videos["source_b"])
    final = _put(local_store, "u/final_videos/f.mp4", videos["final"])
    progress = RecordingProgress()
    result = run({"final_key": final, "output_key": "u/downloads/out.mp4", "tracks": [
        {"source_key": b, "start_frame": 25, "end_frame": 75, "clip_index": 1},
        {"source_key": a, "start_frame": 0, "end_frame": 45, "clip_index": 0},
    ]}, local_store, progress)
    assert result.status == "complete", result.error
    local_store.download_file("u/downloads/out.mp4", tmp_path / "out.mp4")
    info = probe(tmp_path / "out.mp4")
    assert (info.width, info.height) == (1080, 1920)
    # ticks of 1/30 s: clip 0 shows 1.5 s before (vs 2·1.5/3.17 s after), clip 1 50/30 s
    assert info.duration == pytest.approx(1.5 + 50 / 30, abs=0.07)
    assert not info.has_audio
    assert progress.events[-1][1] == "complete"


def test_titles_are_drawn_in_both_halves(local_store, videos, tmp_path):
    src = _put(local_store, "u/raw_clips/black.mp4", videos["black_source"])
    final = _put(local_store, "u/final_videos/black.mp4", videos["black_final"])
    result = run({"final_key": final, "output_key": "u/downloads/t.mp4", "tracks": [
        {"source_key": src, "start_frame": 0, "end_frame": 15}]}, local_store)
    assert result.status == "complete", result.error
    local_store.download_file("u/downloads/t.mp4", tmp_path / "t.mp4")
    with av.open(str(tmp_path / "t.mp4")) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="gray")
    assert frame.shape == (1920, 1080)
    top_title, bottom_title = frame[36:130, 340:740], frame[996:1090, 340:740]
    assert top_title.max() > 200 and bottom_title.max() > 200  # white letters
    assert np.median(frame[400:600]) < 30 and np.median(frame[1400:1600]) < 30


@pytest.mark.parametrize("spec,message", [
    ({"final_key": "u/final_videos/none.mp4", "output_key": "u/downloads/x.mp4",
      "tracks": [{"source_key": "u/raw_clips/none.mp4", "start_frame": 0, "end_frame": 9}]},
     "does not exist"),
    ({"final_key": "k", "output_key": "o", "tracks": []}, "tracks"),
    ({"final_key": "k", "output_key": "o",
      "tracks": [{"source_key": "s", "start_frame": 9, "end_frame": 3}]}, "end_frame"),
])
def test_job_errors_are_results_not_crashes(local_store, spec, message):
    result = run(spec, local_store)
    assert result.status == "error" and message in result.error


# -- through the API ---------------------------------------------------------------------------

@pytest.fixture
def ba_api(api):
    return api


def _tracks(api, uid: str, final_video_id: int, rows: list[tuple[str, int, int]]) -> None:
    def fn(conn):
        for i, (key, start, end) in enumerate(rows):
            conn.execute("INSERT INTO before_after_tracks (final_video_id, source_key,"
                         " start_frame, end_frame, clip_index) VALUES (?, ?, ?, ?, ?)",
                         (final_video_id, key, start, end, i))
    write(api, uid, fn)


def test_status_and_comparison_video(ba_api, videos, tmp_path):
    api = ba_api
    pid, _ = make_project(api, "a", "Brilliant Goal")
    fid, _ = add_final_video(api, "a", pid, videos["final"])
    status = api.client.get(f"/api/export/before-after/{fid}/status")
    assert status.status_code == 200
    assert status.json()["available"] is False and status.json()["error"]

    _, key = upload(api, "a", Kind.RAW_CLIPS, videos["source_a"])
    _tracks(api, "a", fid, [(key, 0, 30)])
    assert api.client.get(f"/api/export/before-after/{fid}/status").json() == {
        "available": True, "error": None}

    res = api.client.post(f"/api/export/before-after/{fid}")
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "video/mp4"
    assert res.headers["content-disposition"] == \
        ('attachment; filename="before_after_Brilliant_Goal.mp4"; '
        'filename*=UTF-8\'\'before_after_Brilliant_Goal.mp4')
    (tmp_path / "ba.mp4").write_bytes(res.content)
    info = probe(tmp_path / "ba.mp4")
    assert (info.width, info.height) == (1080, 1920)
    assert info.duration == pytest.approx(2.0, abs=0.07)  # max(1 s before, 2 s after)
    assert api.store.list("a/downloads/") == []  # the one-off render is not kept


def test_before_after_errors(ba_api, videos):
    api = ba_api
    res = api.client.get("/api/export/before-after/777/status")
    assert res.status_code == 404 and res.json()["available"] is False
    assert res.json()["error"]
    res = api.client.post("/api/export/before-after/777")
    assert res.status_code == 404 and res.json()["detail"]

    pid, _ = make_project(api, "a", "P")
    fid, _ = add_final_video(api, "a", pid, videos["final"])
    _tracks(api, "a", fid, [("a/raw_clips/0123456789abcdef.mp4", 0, 30)])
    status = api.client.get(f"/api/export/before-after/{fid}/status").json()
    assert status["available"] is False and "no longer available" in status["error"]
    res = api.client.post(f"/api/export/before-after/{fid}")
    assert res.status_code == 400 and "no longer available" in res.json()["detail"]

    other = api.as_user("bob")  # bob's namespace has no such final video
    res = api.client.get(f"/api/export/before-after/{fid}/status", headers=other)
    assert res.status_code == 404
